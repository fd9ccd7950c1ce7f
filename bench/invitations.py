"""A campaign-wide invitation: how long queueing the calendar mail to every participant takes.

    python bench/invitations.py [--participants 10000] [--repeat 3]

Builds a fresh SQLite database per run with one campaign of 20 members, the participants spread
over them (one in ten writing English), and one meeting for the whole campaign in
Europe/Stockholm with a description, a join link and a room. Times the real fan-out code
queueing an invitation (text, HTML and an iTIP calendar part) to every participant: the invite
request (which writes the invitations and a fan-out) and the `invitations` job (which queues the
mail in batches), and, in the same run, the floor: queueing as many plain mails, rendered once, one
by one through the outbox's enqueue. Prints each run, the medians and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

MEMBERS = 20
NOW = datetime(2014, 9, 1, 8, 0, tzinfo=UTC)
STARTS = datetime(2014, 10, 27, 8, 0, tzinfo=UTC)  # 09:00 in Stockholm, the day after the change


def build(session: Any, participants: int) -> Any:
    """Fill an empty database with the campaign, its members, participants and the event."""
    from sqlalchemy import insert

    from campaign.accounts.models import Role, User
    from campaign.enrolment.models import Participant, ParticipantStatus
    from campaign.events.models import Audience, Event, EventKind
    from campaign.network.models import Campaign, Membership, Organisation, OrganisationKind

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
        Membership(campaign=campaign, organisation=org, created_at=NOW, updated_at=NOW)
        for org in members
    )
    lead = User(email="lea@kommun-0.se", name="Lea Ledare", role=Role.LEAD_ADMIN, created_at=NOW)
    lead.organisation = members[0]
    session.add(lead)
    session.flush()
    session.execute(
        insert(Participant),
        [
            {
                "campaign_id": campaign.id,
                "organisation_id": members[n % MEMBERS].id,
                "email": f"deltagare.{n}@kommun-{n % MEMBERS}.se",
                "name": f"Åsa Öberg {n}",
                "language": "en" if n % 10 == 9 else "sv",
                "status": ParticipantStatus.ACTIVE,
                "created_at": NOW,
                "updated_at": NOW,
            }
            for n in range(participants)
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


def fan_out(session: Any, event: Any) -> dict[str, float]:
    """Invite the whole audience with the service's own code, as the invite button and then the
    `invitations` job do it; return the seconds of each part."""
    from campaign.events import fanout, invitations

    started, cpu = time.perf_counter(), time.process_time()
    invitations.invite(session, event, NOW)
    session.commit()
    request = time.perf_counter() - started
    while fanout.run_due(session, NOW):
        pass
    return {
        "request": request,
        "invitations": time.perf_counter() - started,
        "invitations_cpu": time.process_time() - cpu,
    }


def plain_mails(session: Any, participants: int) -> int:
    """The floor: as many plain mails, rendered once, queued one by one through enqueue."""
    from campaign.outbox.compose import Footer, render
    from campaign.outbox.models import MessageKind
    from campaign.outbox.queue import enqueue

    rendered = render(
        "Välkommen till Resfria möten",
        "Hej {{ name }},\n\nvälkommen till **Resfria möten**.",
        {"name": "Åsa Öberg"},
        language="sv",
        footer=Footer("Du får detta för att du är med i provgruppen."),
    )
    for n in range(participants):
        enqueue(
            session,
            now=NOW,
            source_key=f"plain:{n}",
            recipient=f"plain.{n}@kommun-{n % MEMBERS}.se",
            kind=MessageKind.TEST,
            rendered=rendered,
            due_at=NOW,
            sender="Kampanj <kampanj@example.org>",
        )
    session.commit()
    return participants


def run(participants: int, folder: Path) -> dict[str, float]:
    """One run in a fresh database: the invitation, then the plain mails."""
    from sqlalchemy import func, select

    from campaign import create_app, db, migrations
    from campaign.outbox.models import Message, MessageKind

    app = create_app(
        {
            "INSTANCE_PATH": str(folder),
            "CAMPAIGN_DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
            "CAMPAIGN_SECRET_KEY": "bench",
        }
    )
    migrations.upgrade(db.engine_of(app))
    with app.test_request_context(), db.open_session(app) as session:
        event = build(session, participants)
        timings = fan_out(session, event)
        started, cpu = time.perf_counter(), time.process_time()
        plain_mails(session, participants)
        plain, plain_cpu = time.perf_counter() - started, time.process_time() - cpu
        queued = session.scalar(
            select(func.count()).select_from(Message).where(Message.kind == MessageKind.INVITATION)
        )
    db.engine_of(app).dispose()
    return {**timings, "plain": plain, "plain_cpu": plain_cpu, "queued": queued or 0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n = args.participants
    print(f"{n} participants in {MEMBERS} members, one campaign-wide meeting, "
          f"{args.repeat} runs on SQLite", flush=True)  # fmt: skip
    runs = []
    for number in range(1, args.repeat + 1):
        with tempfile.TemporaryDirectory() as folder:
            runs.append(run(n, Path(folder)))
        r = runs[-1]
        print(f"  run {number}: invitations {r['invitations']:6.2f} s "
              f"({r['invitations_cpu']:.2f} s CPU; the request's part {r['request']:4.2f} s), "
              f"plain mails {r['plain']:5.2f} s ({r['plain_cpu']:.2f} s CPU); "
              f"{r['queued']} invitations queued", flush=True)  # fmt: skip
    invited = statistics.median(r["invitations"] for r in runs)
    plain = statistics.median(r["plain"] for r in runs)
    request = statistics.median(r["request"] for r in runs)
    print(f"invitations (fan-out):        median {invited:6.2f} s, {n / invited:7.0f} mails/s")
    print(f"  of which the invite request: median {request:6.2f} s (then the invitations job)")
    print(f"plain mails through enqueue:  median {plain:6.2f} s, {n / plain:7.0f} mails/s")
    print(f"ratio invitations / plain:    {invited / plain:.2f}")
    cpu = statistics.median(r["invitations_cpu"] for r in runs)
    plain_cpu = statistics.median(r["plain_cpu"] for r in runs)
    print(f"CPU seconds (a shared machine's steadier measure): invitations {cpu:.2f} s, "
          f"plain mails {plain_cpu:.2f} s, ratio {cpu / plain_cpu:.2f}")  # fmt: skip
    wrong = any(r["queued"] != n for r in runs)
    print(f"invitations queued: {runs[-1]['queued']}, expected {n}: {'WRONG' if wrong else 'ok'}")
    sys.exit(1 if wrong else 0)


if __name__ == "__main__":
    main()
