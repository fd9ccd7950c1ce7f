"""A sequence edit at the brief's scale: 20 members with 5,000 participants each.

    python bench/sequence_edit.py [--members 20] [--participants 5000] [--database-url URL]

Fills the database as bench/report.py does (every participant following the shipped
pilot-group sequence, three steps sent), then times what the editor's Save does (the check of
the proposed files, the new version, the re-plan of every follower and the audit, as
`saving.save_change`), and the next drip run, which works out each re-planned participant's
next step anew (and, as the edited step was sent to everyone already, queues nothing).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).parent))
from report import NOW, fill  # noqa: E402  (the same network as the report's bench)

STEP = "sv/02-prova-med-nagon-du-kanner.md"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=20)
    parser.add_argument("--participants", type=int, default=5000)
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: SQLite)")
    args = parser.parse_args()

    from campaign import create_app, db, migrations
    from campaign.accounts.models import Role, User
    from campaign.drip import stored
    from campaign.drip.materialize import materialize
    from campaign.drip.saving import save_change
    from campaign.outbox.models import Message

    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        app = create_app(
            {"INSTANCE_PATH": folder, "CAMPAIGN_DATABASE_URL": url, "CAMPAIGN_SECRET_KEY": "b"}
        )
        migrations.upgrade(db.engine_of(app))
        with app.app_context(), db.open_session(app) as session:
            started = time.perf_counter()
            campaign = fill(session, args.members, args.participants)
            print(f"filled in {time.perf_counter() - started:.0f} s", flush=True)
            editor = User(email="lead@m0.se", name="Lead", role=Role.LEAD_ADMIN, created_at=NOW)
            session.add(editor)
            session.commit()
            files = stored.current(session, campaign.id, "pilot-group").files
            files[STEP] = files[STEP].replace("fem minuter", "tio minuter")
            messages = session.scalar(select(func.count(Message.id)))
            started = time.perf_counter()
            saved = save_change(session, campaign.id, "pilot-group", files, author=editor,
                                note="edit:02", now=NOW)  # fmt: skip
            session.commit()
            saving = time.perf_counter() - started
            print(f"save with re-plan: {saving:.2f} s ({saved.replanned} re-planned)", flush=True)
            started = time.perf_counter()
            materialize(session, NOW)
            session.commit()
            drip = time.perf_counter() - started
            after = session.scalar(select(func.count(Message.id)))
        total = args.members * args.participants
        print(f"version {saved.number}; {saved.replanned} of {total} participants re-planned")
        print(f"the next drip run over the re-planned: {drip:.2f} s")
        print(f"mail queued by the edit of a step everyone had: {after - messages}")


if __name__ == "__main__":
    main()
