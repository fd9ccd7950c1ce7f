"""Fan-out: one personalised mail to every participant, against a bare bulk INSERT of as many rows.

    python bench/fanout.py [--participants 100000] [--quick] [--database-url postgresql://...]

Fills a fresh database (SQLite, or with --database-url a throwaway PostgreSQL database created
and dropped on that server) with one campaign of 20 members, each with a pilot group starting
today, and the participants spread over them (one in ten writing English, one in fifty paused,
one in fifty on the suppression list, one in a hundred unsubscribed). Then, for each of the
four kinds of mail that go to everyone, it times the service's own code path, exactly as the
web request and the clock job run it:

- announcement: the Send request (`announce`, which records it) and the `announcements` job;
- invitation: the invite request (`invite`, which writes the invitations and a fan-out) and the
  `invitations` job, for a meeting of the whole campaign;
- questionnaire: the `questionnaires` job sending the baseline questionnaire due today;
- reminder: the `reminders` job a day before the meeting, to everyone it invited; then one
  more run of it, once everyone has the reminder (what each minute until the start costs);

and, in the same run and database, the floor: a bare bulk INSERT (one executemany through
SQLAlchemy Core) of as many outbox rows of the same size, copied from the kind's own mail.
Prints the seconds of each, the ratio (goal: at most 3), and checks that each person got
exactly one mail of each kind.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.fleet import database  # noqa: E402 - after the repository is on the path

MEMBERS = 20
NOW = datetime(2014, 9, 1, 8, 0, tzinfo=UTC)  # a Monday, 10:00 in Stockholm
STARTS = datetime(2014, 10, 27, 8, 0, tzinfo=UTC)  # the meeting
QUICK = 300
KINDS = ("announcement", "invitation", "questionnaire", "reminder")

ANNOUNCEMENT = {
    "subject_sv": "Nyheter för {{ organisation.name }}",
    "body_sv": "Hej {{ participant.first_name }}!\n\nVi ses på **webbinariet** den 2 oktober."
    " Fråga {{ member.contact_name or 'oss' }} om du undrar något.\n\n"
    "Du är anmäld som {{ participant.email }}.",
    "subject_en": "News for {{ organisation.name }}",
    "body_en": "Hello {{ participant.first_name }}!\n\nSee you at the **webinar** on 2 October.",
}


def participant_row(campaign_id: int, members: list[Any], groups: list[Any], n: int) -> dict:
    """Return participant number `n` as a row: every tenth writes English, some are stopped."""
    from campaign.enrolment.models import ParticipantStatus

    status = ParticipantStatus.ACTIVE
    if n % 50 == 25:
        status = ParticipantStatus.PAUSED
    elif n % 100 == 37:
        status = ParticipantStatus.UNSUBSCRIBED
    return {
        "campaign_id": campaign_id,
        "organisation_id": members[n % MEMBERS].id,
        "pilot_group_id": groups[n % MEMBERS].id,
        "email": f"deltagare.{n}@kommun-{n % MEMBERS}.se",
        "name": name(n),
        "title": "Utredare" if n % 3 else "",
        "language": "en" if n % 10 == 9 else "sv",
        "status": status,
        "created_at": NOW,
        "updated_at": NOW,
    }


def name(n: int) -> str:
    """Return participant number `n`'s name: some are known by their address only, and some
    have names Markdown would read (their mail is rendered in full)."""
    if n % 7 == 0:
        return ""
    return f"<Ola> *Ek* {n}" if n % 97 == 5 else f"Åsa Öberg {n}"


def suppressed(participants: int) -> list[str]:
    """Return the addresses on the suppression list: one in fifty."""
    return [f"deltagare.{n}@kommun-{n % MEMBERS}.se" for n in range(0, participants, 50)]


def build(session: Any, participants: int, progress: Callable[[str], None]) -> Any:
    """Fill an empty database with the campaign, its members, groups, participants and a
    meeting for all of them; return the meeting."""
    from sqlalchemy import insert

    from campaign.accounts.models import Role, User
    from campaign.enrolment.models import Participant, PilotGroup, PilotGroupKind
    from campaign.events.models import Audience, Event, EventKind
    from campaign.network.models import Campaign, Membership, Organisation, OrganisationKind
    from campaign.outbox.models import Suppression, SuppressionReason

    members = [
        Organisation(
            slug=f"kommun-{n}",
            name=f"Kommun {n} kommun",
            short_name=f"Kommun {n}",
            kind=OrganisationKind.MUNICIPALITY,
            created_at=NOW,
        )
        for n in range(MEMBERS)
    ]
    campaign = Campaign(
        slug="bench",
        name="Resfria möten",
        lead_organisation=members[0],
        starts_on=date(2014, 1, 1),
        ends_on=date(2015, 3, 31),
        created_at=NOW,
    )
    session.add(campaign)
    session.add_all(
        Membership(
            campaign=campaign,
            organisation=org,
            created_at=NOW,
            updated_at=NOW,
            contact_name=f"Kim Kontakt {n}" if n % 2 else "",
            contact_email=f"kim@kommun-{n}.se",
        )
        for n, org in enumerate(members)
    )
    lead = User(email="lea@kommun-0.se", name="Lea Ledare", role=Role.LEAD_ADMIN, created_at=NOW)
    lead.organisation = members[0]
    session.add(lead)
    session.flush()
    groups = [
        PilotGroup(
            campaign_id=campaign.id,
            organisation_id=org.id,
            name=f"Grupp {n}",
            kind=PilotGroupKind.VOLUNTEERS,
            starts_on=NOW.date(),
            created_at=NOW,
        )
        for n, org in enumerate(members)
    ]
    session.add_all(groups)
    session.flush()
    for start in range(0, participants, 10_000):
        rows = [
            participant_row(campaign.id, members, groups, n)
            for n in range(start, min(participants, start + 10_000))
        ]
        session.execute(insert(Participant), rows)
        progress(f"  {start + len(rows)} participants")
    session.execute(
        insert(Suppression),
        [
            {"email": email, "reason": SuppressionReason.MANUAL, "detail": "", "created_at": NOW}
            for email in suppressed(participants)
        ],
    )
    event = Event(
        campaign_id=campaign.id,
        organisation_id=members[0].id,
        organiser_id=lead.id,
        kind=EventKind.WEBINAR,
        audience=Audience.CAMPAIGN,
        title="Webbinarium: så byter vi resor mot webbmöten",
        description_md="Ta med **headset**. Vi visar hur ett webbmöte går till, steg för steg.",
        starts_at=STARTS,
        ends_at=STARTS + timedelta(hours=1),
        timezone="Europe/Stockholm",
        join_url="https://meet.kommun-0.se/webbinarium",
        room="Stora salen",
        uid="bench-webinar@kommun-0.se",
        created_at=NOW,
        updated_at=NOW,
    )
    session.add(event)
    session.commit()
    return event


def until_done(
    session: Any, job: Callable[[Any, datetime], int], progress: Callable[[str], None]
) -> int:
    """Run a job until it has nothing left to queue, as the clock would; return how many."""
    total = 0
    while queued := job(session, NOW):
        total += queued
        session.commit()
        progress(f"    {total} queued")
    session.commit()
    return total


def announce(session: Any, progress: Callable[[str], None]) -> tuple[float, float]:
    """The announcement to everyone: the Send request, then the job; return their seconds."""
    from sqlalchemy import select

    from campaign.announcements.models import Texts
    from campaign.announcements.segments import Segment
    from campaign.announcements.sending import Draft, announce, run_due
    from campaign.network.models import Campaign

    campaign = session.scalars(select(Campaign)).one()
    draft = Draft(campaign, None, Segment(), Texts(**ANNOUNCEMENT), NOW, "bench")
    started = time.perf_counter()
    announce(session, draft, None, NOW)
    session.commit()
    request = time.perf_counter() - started
    until_done(session, run_due, progress)
    return request, time.perf_counter() - started - request


def invite(session: Any, event: Any, progress: Callable[[str], None]) -> tuple[float, float]:
    """The meeting's invitation to everyone: the invite request, then the job."""
    from campaign.events import fanout, invitations

    started = time.perf_counter()
    invitations.invite(session, event, NOW)
    session.commit()
    request = time.perf_counter() - started
    until_done(session, fanout.run_due, progress)
    return request, time.perf_counter() - started - request


def questionnaire(session: Any, progress: Callable[[str], None]) -> tuple[float, float]:
    """The baseline questionnaire coming due for everyone: the job alone (no request starts
    it; the day does)."""
    from campaign.surveys.invitations import queue_questionnaires

    started = time.perf_counter()
    until_done(session, queue_questionnaires, progress)
    return 0.0, time.perf_counter() - started


def remind(session: Any, progress: Callable[[str], None]) -> tuple[float, float]:
    """The meeting's reminder a day before to everyone invited: the job alone (the moment
    starts it), then one more run of it with nothing left to queue."""
    from campaign.events.reminders import queue_reminders

    day_before = STARTS - timedelta(hours=24)
    started = time.perf_counter()
    until_done(session, lambda s, _now: queue_reminders(s, day_before), progress)
    job = time.perf_counter() - started
    again = time.perf_counter()
    queue_reminders(session, day_before + timedelta(minutes=1))
    session.commit()
    progress(f"    a run once everyone has it: {time.perf_counter() - again:.3f} s")
    return 0.0, job


def message_kind(kind: str) -> Any:
    from campaign.outbox.models import MessageKind

    return {
        "announcement": MessageKind.ANNOUNCEMENT,
        "invitation": MessageKind.INVITATION,
        "questionnaire": MessageKind.QUESTIONNAIRE,
        "reminder": MessageKind.REMINDER,
    }[kind]


def bare_insert(session: Any, kind: str, count: int) -> float:
    """The floor: INSERT as many plain outbox rows, the same size as the kind's own, in one
    executemany through SQLAlchemy Core and one commit; the rows are removed afterwards."""
    from sqlalchemy import delete, insert, select

    from campaign.outbox.models import Message

    sample = session.scalars(
        select(Message).where(Message.kind == message_kind(kind)).order_by(Message.id).limit(1)
    ).one()
    columns = {c.key: getattr(sample, c.key) for c in Message.__table__.columns if c.key != "id"}
    rows = [
        columns
        | {
            "source_key": f"bare:{kind}:{n}",
            "message_id": f"<{uuid.uuid4().hex}@bench>",
            "recipient": f"bare.{n}@kommun-{n % MEMBERS}.se",
            "participant_id": None,
        }
        for n in range(count)
    ]
    session.commit()
    started = time.perf_counter()
    session.execute(insert(Message), rows)
    session.commit()
    seconds = time.perf_counter() - started
    session.execute(delete(Message).where(Message.source_key.like(f"bare:{kind}:%")))
    session.commit()
    return seconds


def mails_per_person(session: Any, kind: str) -> dict[int, int]:
    """Return how many mails of the kind each participant has."""
    from sqlalchemy import func, select

    from campaign.outbox.models import Message

    rows = session.execute(
        select(Message.participant_id, func.count())
        .where(Message.kind == message_kind(kind))
        .group_by(Message.participant_id)
    )
    return {pid: n for pid, n in rows}


def expected(session: Any, kind: str) -> set[int]:
    """Return who should have a mail of the kind: the announcement's reachable segment, the
    meeting's invitees (for its invitation and its reminder: nobody has declined), the active
    participants for the questionnaire."""
    from sqlalchemy import select

    from campaign.announcements.segments import reachable
    from campaign.enrolment.models import Participant, ParticipantStatus
    from campaign.events.models import Invitation

    query = {
        "announcement": select(Participant.id).where(reachable()),
        "invitation": select(Invitation.participant_id),
        "reminder": select(Invitation.participant_id),
        "questionnaire": select(Participant.id).where(
            Participant.status == ParticipantStatus.ACTIVE
        ),
    }[kind]
    return set(session.scalars(query))


def check(session: Any, kind: str) -> str:
    """Return "ok" when each expected person has exactly one mail of the kind, else what is off."""
    found, wanted = mails_per_person(session, kind), expected(session, kind)
    twice = sum(1 for n in found.values() if n != 1)
    missing, extra = len(wanted - set(found)), len(set(found) - wanted)
    if twice or missing or extra or not wanted:
        return f"WRONG: {missing} missing, {extra} not wanted, {twice} more than once"
    return "ok"


def make_app(url: str, folder: Path) -> Any:
    """Return the app on an empty, migrated database, its clock standing at NOW."""
    from campaign import create_app, db, migrations
    from campaign.timing import FixedClock, install_clock

    app = create_app(
        {
            "INSTANCE_PATH": str(folder),
            "CAMPAIGN_DATABASE_URL": url,
            "CAMPAIGN_SECRET_KEY": "bench",
            "CAMPAIGN_BASE_URL": "https://kampanj.example.se",
        }
    )
    install_clock(app, FixedClock(NOW))
    migrations.upgrade(db.engine_of(app))
    return app


def run(participants: int, url: str, folder: Path, progress: Callable[[str], None]) -> dict:
    """Fill the database, then time each kind and its floor; return the figures per kind."""
    from campaign import db

    app = make_app(url, folder)
    results: dict[str, dict[str, Any]] = {}
    with app.test_request_context(), db.open_session(app) as session:
        started = time.perf_counter()
        event = build(session, participants, progress)
        progress(f"  filled in {time.perf_counter() - started:.1f} s")
        paths = {
            "announcement": lambda: announce(session, progress),
            "invitation": lambda: invite(session, event, progress),
            "questionnaire": lambda: questionnaire(session, progress),
            "reminder": lambda: remind(session, progress),
        }
        for kind in KINDS:
            progress(f"  {kind}:")
            cpu = time.process_time()
            request, job = paths[kind]()
            cpu = time.process_time() - cpu
            queued = sum(mails_per_person(session, kind).values())
            floor_cpu = time.process_time()
            floor = bare_insert(session, kind, queued)
            floor_cpu = time.process_time() - floor_cpu
            results[kind] = {
                "request": request,
                "job": job,
                "floor": floor,
                "queued": queued,
                "cpu": cpu,
                "floor_cpu": floor_cpu,
                "check": check(session, kind),
            }
            progress(f"  {kind}: " + line(results[kind]))
    db.engine_of(app).dispose()
    return results


def line(r: dict[str, Any]) -> str:
    total = r["request"] + r["job"]
    return (
        f"request {r['request']:.2f} s + job {r['job']:.2f} s = {total:.2f} s for "
        f"{r['queued']} mails; bare INSERT {r['floor']:.2f} s; "
        f"ratio {total / r['floor']:.2f} (CPU {r['cpu'] / r['floor_cpu']:.2f}); {r['check']}"
    )


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK} participants")
    parser.add_argument("--database-url", help="a PostgreSQL server; a database is made per run")
    args = parser.parse_args(argv)
    n = QUICK if args.quick else args.participants
    engine = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"{n} participants in {MEMBERS} members, each kind of mail to all, on {engine}", flush=True
    )
    with (
        tempfile.TemporaryDirectory() as folder,
        database(args.database_url, folder, "fanout_bench") as url,
    ):
        results = run(n, url, Path(folder), lambda text: print(text, flush=True))
    for kind in KINDS:
        print(f"{kind:>13}: {line(results[kind])}")
    return results


if __name__ == "__main__":
    figures = main()
    sys.exit(0 if all(r["check"] == "ok" for r in figures.values()) else 1)
