"""Materialize at scale: how long the `materialize` job takes with many participants.

    python bench/materialize.py [--participants 20000]

Builds a fresh SQLite database with one campaign, one member and one pilot group following
the shipped pilot-group sequence, adds the participants, then times runs of the job: when every
welcome step falls due at once (a whole network starting on one day), a run with nothing new
due (the cost every 30 s: only participants whose next step has come are read), the hourly
sweep that reads everyone, and the day the second step falls due.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import insert

CREATED = datetime(2014, 1, 1, tzinfo=UTC)  # when the rows of the benchmark were made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=20_000)
    args = parser.parse_args()

    from campaign import create_app, db, migrations
    from campaign.drip.materialize import materialize
    from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup, PilotGroupKind
    from campaign.network.models import Campaign, Membership, Organisation, OrganisationKind

    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "INSTANCE_PATH": folder,
                "CAMPAIGN_DATABASE_URL": f"sqlite:///{Path(folder) / 'bench.sqlite3'}",
                "CAMPAIGN_SECRET_KEY": "bench",
            }
        )
        migrations.upgrade(db.engine_of(app))
        with app.app_context(), db.open_session(app) as session:
            org = Organisation(
                slug="ockero",
                name="Öckerö kommun",
                short_name="Öckerö",
                kind=OrganisationKind.MUNICIPALITY,
                created_at=CREATED,
            )
            campaign = Campaign(
                slug="bench",
                name="Resfria möten",
                lead_organisation=org,
                starts_on=date(2014, 1, 1),
                ends_on=date(2015, 3, 31),
                created_at=CREATED,
            )
            session.add_all(
                [
                    campaign,
                    Membership(
                        campaign=campaign,
                        organisation=org,
                        meeting_software="Lync",
                        created_at=CREATED,
                        updated_at=CREATED,
                    ),
                ]
            )
            session.flush()
            group = PilotGroup(
                campaign_id=campaign.id,
                organisation_id=org.id,
                name="Alla",
                kind=PilotGroupKind.VOLUNTEERS,
                starts_on=date(2014, 6, 16),
                sequence_name="pilot-group",
                created_at=CREATED,
            )
            session.add(group)
            session.flush()
            started = time.perf_counter()
            session.execute(
                insert(Participant),
                [
                    {
                        "campaign_id": campaign.id,
                        "organisation_id": org.id,
                        "pilot_group_id": group.id,
                        "email": f"p{n}@ockero.se",
                        "name": f"Deltagare {n}",
                        "status": ParticipantStatus.ACTIVE,
                        "created_at": CREATED,
                        "updated_at": CREATED,
                    }
                    for n in range(args.participants)
                ],
            )
            session.commit()
            print(
                f"{args.participants} participants added in {time.perf_counter() - started:.1f} s",
                flush=True,
            )
            moments = [
                ("every welcome step due at once", datetime(2014, 6, 16, 6, 30, tzinfo=UTC), False),
                ("nothing new due (each 30 s)", datetime(2014, 6, 16, 7, 0, tzinfo=UTC), False),
                ("the hourly sweep of everyone", datetime(2014, 6, 16, 8, 0, tzinfo=UTC), True),
                ("second step due for everyone", datetime(2014, 6, 18, 7, 0, tzinfo=UTC), False),
            ]
            for label, now, everyone in moments:
                started = time.perf_counter()
                added = materialize(session, now, everyone=everyone)
                session.commit()
                seconds = time.perf_counter() - started
                rate = f", {added / seconds:.0f} steps/s" if added else ""
                print(f"{label:32} {seconds:6.2f} s, {added} queued{rate}", flush=True)


if __name__ == "__main__":
    main()
