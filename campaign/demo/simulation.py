"""`campaign simulate`: a whole campaign in accelerated time, to see the product work at once.

It runs in a SQLite database of its own (the real one is never touched): members from the
demo network, a pilot group each with invented pilot users and a training each (made by
`people`, as the demo pilot's are), then day by day the real jobs (sequence steps, reminders,
questionnaires, dispatch), each given its simulated moment, the real dispatcher sending over
SMTP to a local sink (aiosmtpd), and invented people who answer invitations, come to trainings
and fill in the follow-up (`acting`). It ends by writing the final report.

The campaign's period is the simulated one. By default it starts on the first Monday after
20 February 2014, the same days every run, so that the same seed gives the same run. Given
`ends_at` (the present, for `--keep`), it ends then, so that a kept campaign is recent when it
is opened. The app's clock stands at the period's end: every signed link in a mail is as young
as it is for someone who reads it then. With `keep` the folder becomes an instance folder
(`kept`): the database and secret key are there, and the sink writes every mail to its Maildir.
The database is thrown away otherwise.
"""

from __future__ import annotations

import mailbox
import random
import re
import secrets
import socket
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SMTPSession
from flask import Flask
from sqlalchemy.orm import Session

from campaign import create_app, db, jobs, migrations
from campaign.demo import acting, kept, people
from campaign.demo.network import create_campaign, read_demo
from campaign.events import invitations
from campaign.network.models import Campaign, Organisation
from campaign.report import document
from campaign.report.bundle import Bundle
from campaign.report.figures import Figures
from campaign.timing import FixedClock, install_clock

# Moments of each simulated day (local time) at which the jobs (campaign/jobs.py) run;
# people act at 13:00.
TICKS = (time(8, 0), time(10, 0), time(13, 0), time(16, 0))
PEOPLE_ACT = time(13, 0)
ENROLLED = time(7, 0)  # on the first day, before the first tick
SITE = "https://simulation.example.org"  # the domain of the trainings' calendar UIDs
HISTORICAL_START = date(2014, 2, 20)  # the default period starts on the first Monday after
YEARS = re.compile(r"\s*\d{4}(–\d{4})?$")  # the years at the end of the demo campaign's name


@dataclass
class Summary:
    members: int
    participants: int
    delivered: int
    received_by_sink: int
    trained: int
    answers: int
    report: Path
    period: Period
    account: kept.Account | None = None  # the lead administrator of a kept campaign


@dataclass(frozen=True)
class Progress:
    """How far a simulation is: `day` of `days` simulated, `mails` received by the sink."""

    day: int
    days: int
    mails: int


@dataclass(frozen=True)
class Period:
    """The simulated days: `days` days from `start` (day 0), in the campaign's time zone,
    up to the instant `ends_at` (the last tick of the last day, or earlier)."""

    start: date
    days: int
    zone: ZoneInfo
    ends_at: datetime

    @property
    def last_day(self) -> date:
        return self.start + timedelta(days=self.days - 1)

    def at(self, day: int, moment: time) -> datetime:
        """Return the instant (UTC) of `moment`, local time, on simulated day `day`."""
        local = datetime.combine(self.start + timedelta(days=day), moment, self.zone)
        return local.astimezone(UTC)

    def enrolled(self) -> datetime:
        """Return when the members' pilot groups are set up: before the first tick."""
        return min(self.at(0, ENROLLED), self.ends_at)

    def ticks(self, day: int) -> list[tuple[time, datetime]]:
        """Return the day's TICKS (local time, instant) that are not after the period's end."""
        pairs = [(moment, self.at(day, moment)) for moment in TICKS]
        return [(moment, instant) for moment, instant in pairs if instant <= self.ends_at]


def period(days: int, zone: ZoneInfo, ends_at: datetime | None = None) -> Period:
    """Return `days` days ending at `ends_at` (its local day the last), or by default the
    historical days from the first Monday after HISTORICAL_START."""
    if ends_at is None:
        start = _first_monday_after(HISTORICAL_START)
        last_tick = datetime.combine(start + timedelta(days=days - 1), TICKS[-1], zone)
        return Period(start, days, zone, last_tick.astimezone(UTC))
    last_day = ends_at.astimezone(zone).date()
    return Period(last_day - timedelta(days=days - 1), days, zone, ends_at)


def _first_monday_after(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7 or 7)


class CountingSink:
    """An aiosmtpd handler that accepts every mail, counts it, and (given one) writes it to a
    Maildir."""

    def __init__(self, maildir: Path | None = None) -> None:
        self.received = 0
        self.maildir = None
        if maildir is not None:
            maildir.parent.mkdir(parents=True, exist_ok=True)
            self.maildir = mailbox.Maildir(maildir, create=True)

    async def handle_DATA(self, server: SMTP, session: SMTPSession, envelope: Envelope) -> str:
        self.received += 1
        if self.maildir is not None:
            self.maildir.add(bytes(envelope.original_content or b""))
        return "250 Message accepted"


def run(
    *,
    members: int,
    per_member: list[int],
    days: int,
    output: Path,
    seed: int = 2014,
    ends_at: datetime | None = None,
    keep: Path | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> Summary:
    """Simulate `days` days of a campaign whose members have `per_member` pilot users each (in
    order, the lead's first), and write its report to `output` (HTML, PDF, or a .zip bundle)."""
    rng = random.Random(seed)
    data = _network(members, per_member)
    days_of = period(days, ZoneInfo(data["campaign"]["timezone"]), ends_at)
    with _smtp_sink(keep) as (sink, port), _app(keep, port, days_of) as app:
        campaign_id = _set_up(app, data, days_of, rng)
        account = kept.add_account(app, campaign_id, days_of.enrolled()) if keep else None
        report = _reporter(progress, days, sink)
        _run_days(app, campaign_id, days_of, rng, report)
        summary = _finish(app, campaign_id, days_of, output)
        summary.received_by_sink, summary.account = sink.received, account
    return summary


def _reporter(
    progress: Callable[[Progress], None] | None, days: int, sink: CountingSink
) -> Callable[[int], None]:
    """Return what tells `progress` (if any) that a day is done, with the mails sent so far."""

    def report(day: int) -> None:
        if progress is not None:
            progress(Progress(day, days, sink.received))

    return report


def split(total: int, members: int) -> list[int]:
    """Return how many of `total` pilot users each of `members` members gets: as even as can
    be, the first members (the lead first) one more while some are left over."""
    share, left = divmod(total, members)
    return [share + (1 if n < left else 0) for n in range(members)]


@contextmanager
def _smtp_sink(keep: Path | None) -> Iterator[tuple[CountingSink, int]]:
    """Run a counting SMTP server on a free local port while the block runs; with `keep`,
    it writes every mail to the instance folder's Maildir."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    sink = CountingSink(kept.maildir(keep) if keep else None)
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


@contextmanager
def _app(keep: Path | None, smtp_port: int, days: Period) -> Iterator[Flask]:
    """Yield an app on a new SQLite database, in the instance folder `keep` or in a folder of
    its own removed after; its clock stands at the end of the period."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = keep or Path(scratch)
        settings = kept.prepare(folder) if keep else {"CAMPAIGN_SECRET_KEY": secrets.token_hex(16)}
        app = create_app({**settings, **_settings(folder, smtp_port)})
        install_clock(app, FixedClock(days.ends_at))
        migrations.upgrade(db.engine_of(app))
        try:
            yield app
        finally:
            db.engine_of(app).dispose()


def _settings(folder: Path, smtp_port: int) -> dict[str, Any]:
    return {
        "INSTANCE_PATH": str(folder),
        "CAMPAIGN_DATABASE_URL": f"sqlite:///{kept.database(folder)}",
        "CAMPAIGN_BASE_URL": kept.BASE_URL,
        "CAMPAIGN_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}?starttls=off&timeout=10",
        "CAMPAIGN_MAIL_FROM": kept.MAIL_FROM,
    }


def _network(members: int, per_member: list[int]) -> dict[str, Any]:
    """Return the demo network cut or grown to `members` members, as a campaign of its own,
    each member with the number of pilot users it gets."""
    data = read_demo()
    lead = data["campaign"]["lead"]
    data["organisations"] = people.chosen_members(data["organisations"], lead, members)
    for spec, count in zip(data["organisations"], per_member, strict=True):
        spec["pilot_users"] = count
    data["campaign"]["slug"] = "simulation"
    return data


def _dated(data: dict[str, Any], days: Period) -> dict[str, Any]:
    """Return the campaign's data with the simulated period as its own, in its name too."""
    spec = data["campaign"]
    first, last = days.start.year, days.last_day.year
    years = f"{first}" if first == last else f"{first}–{last}"
    name = f"{YEARS.sub('', spec['name'])} {years}"
    dated = {**spec, "starts_on": days.start, "ends_on": days.last_day, "name": name}
    return {**data, "campaign": dated}


def _set_up(app: Flask, data: dict[str, Any], days: Period, rng: random.Random) -> int:
    """Create the campaign with its members, each with a pilot group of its pilot users and a
    training; return the campaign's id."""
    counts = {spec["slug"]: spec["pilot_users"] for spec in data["organisations"]}
    with app.app_context(), db.open_session(app) as session:
        campaign = create_campaign(session, _dated(data, days), days.enrolled())
        campaign.rate_limit_per_minute = None  # the sink takes everything at once
        session.flush()
        for membership in campaign.memberships:
            org = membership.organisation
            _member(session, campaign, org, counts[org.slug], days, rng)
        session.commit()
        return campaign.id


def _member(
    session: Session,
    campaign: Campaign,
    org: Organisation,
    participants: int,
    days: Period,
    rng: random.Random,
) -> None:
    """Add a member's pilot group with its pilot users, and its training (in 10-30 days, within
    the period), to which they are invited a week before."""
    enrolled = days.enrolled()
    group = people.add_pilot_group(session, campaign, org, rng, days.start, enrolled)
    people.add_pilot_users(session, group, org.slug, participants, enrolled)
    begins = days.at(min(10 + rng.randint(0, 20), days.days - 1), time(9, 0))
    uid = invitations.new_uid(SITE)
    training = people.add_training(
        session, campaign, org, begins, uid=uid, reminders="24h", at=enrolled
    )
    invitations.invite(session, training, begins - timedelta(days=7))


def _run_days(
    app: Flask, campaign_id: int, days: Period, rng: random.Random, done: Callable[[int], None]
) -> None:
    """Run the jobs at each of the day's TICKS, people acting at PEOPLE_ACT, up to the period's
    end. Each job is given its moment; the app's clock stands at the period's end."""
    for day in range(days.days):
        for moment, now in days.ticks(day):
            if moment == PEOPLE_ACT:
                with app.app_context(), db.open_session(app) as session:
                    acting.people_act(session, campaign_id, now, rng)
                    session.commit()
            jobs.tick(app, now)
        done(day + 1)


def _finish(app: Flask, campaign_id: int, days: Period, output: Path) -> Summary:
    """Write the final report as of the period's end to `output` (a PDF for .pdf, the whole
    final bundle for .zip, else HTML)."""
    with app.app_context(), db.open_session(app) as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        made = Bundle(session, campaign, days.ends_at)
        if output.suffix == ".zip":
            with output.open("wb") as out:
                made.write(out)
        else:
            output.write_bytes(_document(made.report, output.suffix))
    return _summary(made.report.figures, output, days)


def _document(report: document.Report, suffix: str) -> bytes:
    return document.pdf(report) if suffix == ".pdf" else document.html(report).encode()


def _summary(figures: Figures, output: Path, days: Period) -> Summary:
    return Summary(
        members=len(figures.members),
        participants=figures.participants,
        delivered=figures.delivered,
        received_by_sink=0,
        trained=figures.trained,
        answers=figures.outcomes.respondents,
        report=output,
        period=days,
    )
