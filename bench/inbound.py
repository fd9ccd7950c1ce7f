"""The inbound path: how many messages a second `receive` stores, classifies and applies.

    python bench/inbound.py [--messages 3000] [--repeat 3] [--quick]

The messages are the samples of tests/data/inbound/ (whatever shapes are there: bounces,
calendar replies, auto-replies, complaints, people's answers, broken MIME), taken in turn, each
copy made distinct by a header of its own (the same bytes twice would be recognised and not
stored again). Each run receives all of them, one by one as `campaign inbound` and the imap job
do (each message committed when stored, and again when handled), into a fresh SQLite database
with one campaign. The baseline in the same run is the standard library alone: BytesParser
(compat32, as the core parses) reading the same messages. Prints the median rate of each over
the runs and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from email.parser import BytesParser
from email.policy import compat32
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "data" / "inbound"
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)  # when the messages arrive


def messages(count: int) -> list[bytes]:
    """Return `count` distinct messages, the samples in turn."""
    samples = [path.read_bytes() for path in sorted(SAMPLES.glob("*.eml"))]
    if not samples:
        sys.exit(f"no sample messages in {SAMPLES}")
    return [b"X-Bench-Copy: %d\r\n" % n + samples[n % len(samples)] for n in range(count)]


def baseline(batch: list[bytes]) -> float:
    """Seconds the standard library alone takes to parse every message."""
    parser = BytesParser(policy=compat32)
    started = time.perf_counter()
    for raw in batch:
        parser.parsebytes(raw)
    return time.perf_counter() - started


def run(batch: list[bytes], folder: Path) -> tuple[float, dict[str, int]]:
    """Receive every message into a fresh database; return the seconds and the outcomes."""
    from sqlalchemy import func, select

    from campaign import create_app, db, migrations
    from campaign.inbound.receive import receive
    from campaign.outbox.inbound import InboundMessage

    app = create_app(
        {
            "INSTANCE_PATH": str(folder),
            "CAMPAIGN_DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
            "CAMPAIGN_SECRET_KEY": "bench",
        }
    )
    migrations.upgrade(db.engine_of(app))
    with app.app_context(), db.open_session(app) as session:
        _one_campaign(session)
        started = time.perf_counter()
        for raw in batch:
            receive(session, raw, NOW, source="pipe")
        seconds = time.perf_counter() - started
        outcomes = session.execute(
            select(InboundMessage.outcome, func.count()).group_by(InboundMessage.outcome)
        ).all()
    db.engine_of(app).dispose()
    return seconds, {outcome.value: count for outcome, count in outcomes}


def _one_campaign(session) -> None:  # type: ignore[no-untyped-def]
    """Add the campaign and its lead member that the messages arrive for."""
    from campaign.network.models import Campaign, Membership, Organisation, OrganisationKind

    org = Organisation(
        slug="kungalv", name="Kungälvs kommun", short_name="Kungälv",
        kind=OrganisationKind.MUNICIPALITY, created_at=NOW,
    )  # fmt: skip
    campaign = Campaign(
        slug="bench", name="Resfria möten", lead_organisation=org,
        starts_on=date(2026, 1, 1), ends_on=date(2027, 6, 30), created_at=NOW,
    )  # fmt: skip
    membership = Membership(
        campaign=campaign, organisation=org, meeting_software="Teams",
        created_at=NOW, updated_at=NOW,
    )  # fmt: skip
    session.add_all([campaign, membership])
    session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="300 messages, one run")
    args = parser.parse_args()
    count, repeat = (300, 1) if args.quick else (args.messages, args.repeat)
    batch = messages(count)
    shapes = len(list(SAMPLES.glob("*.eml")))
    size = sum(map(len, batch)) / len(batch)
    print(f"{count} messages ({shapes} sample shapes, {size / 1024:.1f} KiB on average), "
          f"{repeat} runs on SQLite", flush=True)  # fmt: skip
    rates, floors = [], []
    for number in range(1, repeat + 1):
        with tempfile.TemporaryDirectory() as folder:
            seconds, outcomes = run(batch, Path(folder))
        rates.append(count / seconds)
        floors.append(count / baseline(batch))
        said = ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items()))
        print(f"  run {number}: receive {rates[-1]:8.0f} msg/s, BytesParser {floors[-1]:8.0f}"
              f" msg/s; {said}", flush=True)  # fmt: skip
    rate, floor = statistics.median(rates), statistics.median(floors)
    print(f"receive (store, classify, apply): median {rate:8.0f} messages/s")
    print(f"BytesParser alone (the floor):    median {floor:8.0f} messages/s")
    print(f"ratio: the inbound path takes {floor / rate:.1f} × the standard library's time")


if __name__ == "__main__":
    main()
