"""`campaign simulate`: a whole campaign in accelerated time, to see the product work at once.

It runs in a throwaway SQLite database of its own (the real one is never touched): members
from the demo network, a pilot group each with invented pilot users and a training each (made
by `people`, as the demo pilot's are), then day by day the real jobs (sequence steps,
reminders, questionnaires, dispatch), each given its simulated moment, the real dispatcher
sending over SMTP to a local sink (aiosmtpd), and invented people who answer invitations, come
to trainings and fill in the follow-up (`acting`). It ends by writing the final report. Same
seed, same run.
"""

from __future__ import annotations

import random
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
from campaign.demo import acting, people
from campaign.demo.network import create_campaign, read_demo
from campaign.events import invitations
from campaign.network.models import Campaign, Organisation
from campaign.report import document
from campaign.report.bundle import Bundle
from campaign.report.figures import Figures

# Moments of each simulated day (local time) at which the jobs (campaign/jobs.py) run;
# people act at 13:00.
TICKS = (time(8, 0), time(10, 0), time(13, 0), time(16, 0))
PEOPLE_ACT = time(13, 0)
ENROLLED = time(7, 0)  # on the first day, before the first tick
SITE = "https://simulation.example.org"  # the domain of the trainings' calendar UIDs


@dataclass
class Summary:
    members: int
    participants: int
    delivered: int
    received_by_sink: int
    trained: int
    answers: int
    report: Path


@dataclass(frozen=True)
class Calendar:
    """The simulated days: day 0 is `start`, in the campaign's time zone."""

    start: date
    zone: ZoneInfo

    def at(self, day: int, moment: time) -> datetime:
        """Return the instant (UTC) of `moment`, local time, on simulated day `day`."""
        local = datetime.combine(self.start + timedelta(days=day), moment, self.zone)
        return local.astimezone(UTC)


class CountingSink:
    """An aiosmtpd handler that accepts every mail and counts it (and nothing else)."""

    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server: SMTP, session: SMTPSession, envelope: Envelope) -> str:
        self.received += 1
        return "250 Message accepted"


def run(
    *,
    members: int,
    participants: int,
    days: int,
    output: Path,
    seed: int = 2014,
    progress: Callable[[int], None] | None = None,
) -> Summary:
    """Simulate `days` days of a campaign and write its report to `output` (HTML or PDF)."""
    rng = random.Random(seed)
    with _smtp_sink() as (sink, port), _throwaway_app(port) as app:
        campaign_id, calendar = _set_up(app, members, participants, rng)
        now = _run_days(app, campaign_id, calendar, days, rng, progress)
        summary = _finish(app, campaign_id, now, output)
        summary.received_by_sink = sink.received
    return summary


@contextmanager
def _smtp_sink() -> Iterator[tuple[CountingSink, int]]:
    """Run a counting SMTP server on a free local port while the block runs."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    sink = CountingSink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


@contextmanager
def _throwaway_app(smtp_port: int) -> Iterator[Flask]:
    """Yield an app on a new SQLite database in a folder of its own, removed after."""
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(_settings(Path(folder), smtp_port))
        migrations.upgrade(db.engine_of(app))
        try:
            yield app
        finally:
            db.engine_of(app).dispose()


def _settings(folder: Path, smtp_port: int) -> dict[str, Any]:
    return {
        "INSTANCE_PATH": str(folder),
        "CAMPAIGN_DATABASE_URL": f"sqlite:///{folder / 'simulation.sqlite3'}",
        "CAMPAIGN_SECRET_KEY": secrets.token_hex(16),
        "CAMPAIGN_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}?starttls=off&timeout=10",
        "CAMPAIGN_MAIL_FROM": "Kampanjen <kampanj@simulation.example.org>",
    }


def _set_up(
    app: Flask, members: int, participants: int, rng: random.Random
) -> tuple[int, Calendar]:
    """Create the campaign with its members, each with a pilot group of `participants` pilot
    users and a training; return the campaign's id and its calendar."""
    data = _network(members, _first_monday_after(date(2014, 2, 20)))
    spec = data["campaign"]
    calendar = Calendar(spec["starts_on"], ZoneInfo(spec["timezone"]))
    with app.app_context(), db.open_session(app) as session:
        campaign = create_campaign(session, data, calendar.at(0, ENROLLED))
        campaign.rate_limit_per_minute = None  # the sink takes everything at once
        session.flush()
        for membership in campaign.memberships:
            _member(session, campaign, membership.organisation, participants, calendar, rng)
        session.commit()
        return campaign.id, calendar


def _first_monday_after(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7 or 7)


def _network(members: int, start: date) -> dict[str, Any]:
    """Return the demo network cut or grown to `members` members, as a campaign of its own."""
    data = read_demo()
    lead = data["campaign"]["lead"]
    data["organisations"] = people.chosen_members(data["organisations"], lead, members)
    ends_on = start + timedelta(days=400)
    data["campaign"].update(starts_on=start, ends_on=ends_on, slug="simulation")
    return data


def _member(
    session: Session,
    campaign: Campaign,
    org: Organisation,
    participants: int,
    calendar: Calendar,
    rng: random.Random,
) -> None:
    """Add a member's pilot group with its pilot users, and its training (in 10-30 days), to
    which they are invited a week before."""
    enrolled = calendar.at(0, ENROLLED)
    group = people.add_pilot_group(session, campaign, org, rng, calendar.start, enrolled)
    people.add_pilot_users(session, group, org.slug, participants, enrolled)
    begins = calendar.at(10 + rng.randint(0, 20), time(9, 0))
    uid = invitations.new_uid(SITE)
    training = people.add_training(
        session, campaign, org, begins, uid=uid, reminders="24h", at=enrolled
    )
    invitations.invite(session, training, begins - timedelta(days=7))


def _run_days(
    app: Flask,
    campaign_id: int,
    calendar: Calendar,
    days: int,
    rng: random.Random,
    progress: Callable[[int], None] | None,
) -> datetime:
    """Run the jobs at each of the day's TICKS for `days` days, people acting at PEOPLE_ACT;
    return the last moment. Each job is given its moment; the app's clock is left alone."""
    now = calendar.at(0, ENROLLED)
    for day in range(days):
        for at in TICKS:
            now = calendar.at(day, at)
            if at == PEOPLE_ACT:
                with app.app_context(), db.open_session(app) as session:
                    acting.people_act(session, campaign_id, now, rng)
                    session.commit()
            jobs.tick(app, now)
        if progress:
            progress(day + 1)
    return now


def _finish(app: Flask, campaign_id: int, now: datetime, output: Path) -> Summary:
    """Write the final report as of `now` to `output` (a PDF for .pdf, the whole final bundle
    for .zip, else HTML)."""
    with app.app_context(), db.open_session(app) as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        made = Bundle(session, campaign, now)
        if output.suffix == ".zip":
            with output.open("wb") as out:
                made.write(out)
        else:
            output.write_bytes(_document(made.report, output.suffix))
    return _summary(made.report.figures, output)


def _document(report: document.Report, suffix: str) -> bytes:
    return document.pdf(report) if suffix == ".pdf" else document.html(report).encode()


def _summary(figures: Figures, output: Path) -> Summary:
    return Summary(
        members=len(figures.members),
        participants=figures.participants,
        delivered=figures.delivered,
        received_by_sink=0,
        trained=figures.trained,
        answers=figures.outcomes.respondents,
        report=output,
    )
