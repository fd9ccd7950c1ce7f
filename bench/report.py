"""The report's data part at the brief's scale: 20 members with 5,000 participants each.

    python bench/report.py [--members 20] [--participants 5000] [--repeat 3] [--database-url URL]

Fills a fresh SQLite database (or the empty PostgreSQL database given) with one campaign of
N members, M participants each, three mails per participant, one training each member whose
attendance is marked for half of them, and a follow-up answer from every participant; then
times `campaign.report.figures.compute` (every GROUP BY of the report). The target is under
3 s. The baseline in the same run is the floor: one COUNT(*) over the same participants.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

NOW = datetime(2015, 3, 31, 12, 0, tzinfo=UTC)


def fill(session, members: int, participants: int) -> object:  # type: ignore[no-untyped-def]
    from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup, PilotGroupKind
    from campaign.events.models import Audience, Event, EventKind, Invitation
    from campaign.network.models import Campaign, Membership, Organisation, OrganisationKind
    from campaign.outbox.models import Message, MessageKind, MessageState
    from campaign.surveys import service
    from campaign.surveys.models import Response

    rng = random.Random(1)
    lead = Organisation(
        slug="m0", name="M0", short_name="M0", kind=OrganisationKind.MUNICIPALITY, created_at=NOW
    )
    campaign = Campaign(
        slug="bench",
        name="Resfria möten",
        lead_organisation=lead,
        starts_on=date(2013, 1, 1),
        ends_on=date(2015, 3, 31),
        created_at=NOW,
    )
    session.add(campaign)
    orgs = [lead] + [
        Organisation(
            slug=f"m{n}",
            name=f"M{n}",
            short_name=f"M{n}",
            kind=OrganisationKind.OTHER,
            created_at=NOW,
        )
        for n in range(1, members)
    ]
    session.add_all(
        [
            Membership(campaign=campaign, organisation=o, created_at=NOW, updated_at=NOW)
            for o in orgs
        ]
    )
    session.flush()
    follow_up = next(
        q for q in service.questionnaires_of(session, campaign, NOW) if q.slug == "follow-up"
    )
    start = datetime(2014, 3, 3, 8, 0, tzinfo=UTC)
    for org in orgs:
        group = PilotGroup(
            campaign_id=campaign.id,
            organisation_id=org.id,
            name="Alla",
            kind=PilotGroupKind.VOLUNTEERS,
            sequence_name="pilot-group",
            starts_on=start.date(),
            created_at=NOW,
        )
        event = Event(
            campaign_id=campaign.id, organisation_id=org.id, kind=EventKind.TRAINING,
            audience=Audience.ORGANISATION, title="Utbildning", starts_at=start,
            ends_at=start + timedelta(hours=2), timezone="Europe/Stockholm",
            uid=f"bench-{org.slug}@x", sequence=0, created_at=NOW, updated_at=NOW,
        )  # fmt: skip
        session.add_all([group, event])
        session.flush()
        session.execute(
            insert(Participant),
            [
                {
                    "campaign_id": campaign.id,
                    "organisation_id": org.id,
                    "pilot_group_id": group.id,
                    "email": f"p{n}@{org.slug}.se",
                    "name": "",
                    "title": "",
                    "language": "sv",
                    "status": ParticipantStatus.ACTIVE,
                    "created_at": start,
                    "updated_at": start,
                }  # fmt: skip
                for n in range(participants)
            ],
        )
        ids = list(
            session.scalars(select(Participant.id).where(Participant.organisation_id == org.id))
        )
        session.execute(
            insert(Message),
            [
                {
                    "source_key": f"p:{pid}:seq:pilot-group/{k + 1:02d}",
                    "campaign_id": campaign.id,
                    "organisation_id": org.id,
                    "participant_id": pid,
                    "recipient": "x@x.se",
                    "kind": MessageKind.SEQUENCE_STEP,
                    "subject": "s",
                    "text_body": "",
                    "html_body": "",
                    "headers": {},
                    "message_id": f"<{pid}.{k}@x>",
                    "due_at": start,
                    "state": MessageState.SENT,
                    "sent_at": start,
                    "attempts": 1,
                    "created_at": start,
                }  # fmt: skip
                for pid in ids
                for k in range(3)
            ],
        )
        session.execute(
            insert(Invitation),
            [
                {
                    "event_id": event.id,
                    "participant_id": pid,
                    "has_attended": pid % 2 == 0,
                    "rsvp": "accepted",
                    "created_at": start,
                }  # fmt: skip
                for pid in ids
            ],
        )
        session.execute(
            insert(Response),
            [
                {
                    "questionnaire_id": follow_up.id,
                    "participant_id": pid,
                    "organisation_id": org.id,
                    "submitted_at": start,
                    "updated_at": start,
                    "answers": {
                        "trips_replaced": rng.randint(0, 30),
                        "km_avoided": rng.randint(0, 3000),
                        "hours_saved": rng.randint(0, 50),
                        "satisfaction": 4,
                    },
                }  # fmt: skip
                for pid in ids
            ],
        )
        session.commit()
    return campaign


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=20)
    parser.add_argument("--participants", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: SQLite)")
    args = parser.parse_args()

    from campaign import create_app, db, migrations
    from campaign.enrolment.models import Participant
    from campaign.report.dashboard import sequence_progress
    from campaign.report.figures import compute

    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        app = create_app(
            {"INSTANCE_PATH": folder, "CAMPAIGN_DATABASE_URL": url, "CAMPAIGN_SECRET_KEY": "b"}
        )
        migrations.upgrade(db.engine_of(app))
        with app.app_context(), db.open_session(app) as session:
            started = time.perf_counter()
            campaign = fill(session, args.members, args.participants)
            total = args.members * args.participants
            print(
                f"filled {args.members} members × {args.participants} participants"
                f" ({total} people, {3 * total} mails, {total} answers)"
                f" in {time.perf_counter() - started:.1f} s"
            )
            times, baselines, progress_times = [], [], []
            for _ in range(args.repeat):
                started = time.perf_counter()
                progress = sequence_progress(session, campaign, None, NOW)
                progress_times.append(time.perf_counter() - started)
                started = time.perf_counter()
                figures = compute(session, campaign, NOW)
                times.append(time.perf_counter() - started)
                started = time.perf_counter()
                session.scalar(select(func.count(Participant.id)))
                baselines.append(time.perf_counter() - started)
            assert figures.participants == total and figures.outcomes.respondents == total
            assert figures.trained == sum((pid % 2 == 0) for pid in range(1, total + 1))
            steps = sum(p.had["01"] for member in progress.values() for p in member)
            assert steps == total
        median, baseline = statistics.median(times), statistics.median(baselines)
        print(f"report figures: median {median:.2f} s over {args.repeat} runs (target < 3 s)")
        print(f"dashboard's sequence progress: median {statistics.median(progress_times):.2f} s")
        print(f"baseline COUNT(*) of the participants: {baseline * 1000:.0f} ms")
        print(
            f"ratio {median / baseline:.0f}× the single count, for {len(figures.members)} members"
        )
        print(
            f"figures: {figures.participants} participants, {figures.delivered} mails delivered,"
            f" {figures.trained} trained, {figures.outcomes.km} km avoided,"
            f" {figures.co2_kg:.0f} kg CO2"
        )


if __name__ == "__main__":
    main()
