"""Re-planning after an edit, at the brief's scale: 20 members with 5,000 participants each.

    python bench/replan.py [--members 20] [--participants 5000] [--repeat 3] [--database-url URL]

Fills a fresh SQLite database (or the empty PostgreSQL database given) with one campaign of N
members, M participants each, all following the shipped pilot-group sequence and three weeks
in: the first three steps sent, the next moment of each noted. Then, REPEAT times, a lead
administrator's edit of a step still to come (its text and its day) is timed in two parts:

- the save: the checker over the whole sequence, the new version, and `replan` (every follower's
  next moment forgotten), as the web request does it;
- the drip run after it, which works out the next moment of every follower again (and queues
  what the edit made due: nothing here).

The baseline in the same run is the sweep of everyone with nothing edited: the same reading and
planning. Beside it, the hourly job's sweep as it runs (campaign/drip/sweep.py): everyone up to
50,000 participants, one share of them in turn beyond. Prints medians and the ratios.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

START = datetime(2014, 3, 3, 8, 0, tzinfo=UTC)
NOW = datetime(2014, 3, 24, 12, 0, tzinfo=UTC)  # three weeks in: steps 01-03 were sent
NAME = "pilot-group"
EDITED = "sv/05-visa-tiden-du-sparar.md"  # still to come for everyone


def fill(session, members: int, participants: int) -> int:  # type: ignore[no-untyped-def]
    """Add the campaign and its people; return the campaign's id."""
    from campaign.network.models import Campaign, Membership, Organisation, OrganisationKind

    orgs = [
        Organisation(
            slug=f"m{n}",
            name=f"M{n}",
            short_name=f"M{n}",
            kind=OrganisationKind.MUNICIPALITY,
            created_at=START,
        )  # fmt: skip
        for n in range(members)
    ]
    campaign = Campaign(
        slug="bench", name="Resfria möten", lead_organisation=orgs[0],
        starts_on=date(2014, 1, 1), ends_on=date(2015, 3, 31), created_at=START,
    )  # fmt: skip
    session.add(campaign)
    session.add_all(
        [
            Membership(campaign=campaign, organisation=o, created_at=START, updated_at=START)
            for o in orgs
        ]
    )
    session.flush()
    for org in orgs:
        _member(session, campaign.id, org.id, org.slug, participants)
        print(f"  {org.slug}: {participants:,} participants", file=sys.stderr, flush=True)
    session.commit()
    return int(campaign.id)


def _member(session, campaign_id: int, org_id: int, slug: str, count: int) -> None:  # type: ignore[no-untyped-def]
    from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup, PilotGroupKind
    from campaign.outbox.models import Message, MessageKind, MessageState

    group = PilotGroup(
        campaign_id=campaign_id, organisation_id=org_id, name="Alla",
        kind=PilotGroupKind.VOLUNTEERS, sequence_name=NAME, starts_on=START.date(),
        created_at=START,
    )  # fmt: skip
    session.add(group)
    session.flush()
    session.execute(
        insert(Participant),
        [
            {
                "campaign_id": campaign_id,
                "organisation_id": org_id,
                "pilot_group_id": group.id,
                "email": f"p{n}@{slug}.se",
                "name": "",
                "title": "",
                "language": "sv",
                "status": ParticipantStatus.ACTIVE,
                "created_at": START,
                "updated_at": START,
            }  # fmt: skip
            for n in range(count)
        ],
    )
    ids = list(session.scalars(select(Participant.id).where(Participant.organisation_id == org_id)))
    session.execute(
        insert(Message),
        [
            {
                "source_key": f"p:{pid}:seq:{NAME}/{k:02d}",
                "campaign_id": campaign_id,
                "organisation_id": org_id,
                "participant_id": pid,
                "recipient": "x@x.se",
                "kind": MessageKind.SEQUENCE_STEP,
                "subject": "s",
                "text_body": "",
                "html_body": "",
                "headers": {},
                "message_id": f"<{pid}.{k}@x>",
                "due_at": START,
                "state": MessageState.SENT,
                "sent_at": START,
                "attempts": 1,
                "created_at": START,
            }  # fmt: skip
            for pid in ids
            for k in (1, 2, 3)
        ],
    )


def _timed(action) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=20)
    parser.add_argument("--participants", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url")
    args = parser.parse_args()

    from campaign import create_app, db, migrations
    from campaign.drip import stored
    from campaign.drip.materialize import materialize
    from campaign.drip.sweep import shares
    from campaign.drip.sweep import sweep as hourly
    from campaign.enrolment.models import Participant

    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        app = create_app(
            {"INSTANCE_PATH": folder, "CAMPAIGN_DATABASE_URL": url, "CAMPAIGN_SECRET_KEY": "bench"}
        )
        migrations.upgrade(db.engine_of(app))
        with app.app_context(), db.open_session(app) as session:
            total = args.members * args.participants
            print(f"filling {args.members} members × {args.participants:,} …", file=sys.stderr)
            campaign_id = fill(session, args.members, args.participants)
            materialize(session, NOW, everyone=True)  # every next moment noted
            session.commit()
            saves, runs, sweeps, jobs = [], [], [], []
            for n in range(args.repeat):
                sweep, _ = _timed(lambda: materialize(session, NOW, everyone=True))
                session.commit()
                job, _ = _timed(lambda: hourly(session, NOW))
                session.commit()
                jobs.append(job)
                files = stored.shipped_files(NAME)  # each edit starts from the shipped text
                text = files[EDITED].replace("offset: +4w", f"offset: +{29 + n}d")
                edited = {**files, EDITED: text.replace("Hej", f"Hej igen ({n})", 1)}

                def save(edited: dict[str, str] = edited) -> int:
                    stored.save(
                        session, campaign_id, NAME, edited, author_id=None, note="edit", now=NOW
                    )
                    count = stored.replan(session, campaign_id, NAME)
                    session.commit()
                    return count

                saved, replanned = _timed(save)
                run, queued = _timed(lambda: materialize(session, NOW))
                session.commit()
                nearest = session.scalar(select(func.min(Participant.next_step_at)))
                saves.append(saved)
                runs.append(run)
                sweeps.append(sweep)
                print(
                    f"edit {n + 1}: save and replan {saved:.2f} s ({replanned:,} re-planned), "
                    f"drip run after it {run:.2f} s ({queued} queued, next {nearest:%d %b}); "
                    f"hourly sweep {sweep:.2f} s",
                    flush=True,
                )
            save_m, run_m, sweep_m = (statistics.median(x) for x in (saves, runs, sweeps))
            job_m, parts = statistics.median(jobs), shares(session)
            print(
                f"the hourly job's sweep: median {job_m:.2f} s, a share of {parts} "
                f"({job_m / sweep_m:.2f}× the sweep of everyone)"
            )
            print(
                f"{total:,} participants on {db.engine_of(app).dialect.name}: "
                f"median save+replan {save_m:.2f} s, drip run after the edit {run_m:.2f} s, "
                f"hourly sweep (baseline) {sweep_m:.2f} s; "
                f"ratio edit (save + run) / sweep {(save_m + run_m) / sweep_m:.2f}×"
            )


if __name__ == "__main__":
    main()
