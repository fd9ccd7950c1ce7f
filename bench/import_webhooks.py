"""What telling an import's people to a webhook receiver costs: the confirmation of one file
with nobody subscribed, and with the member's receiver subscribed to `participant.enrolled`.

    python bench/import_webhooks.py [--rows 20000] [--repeat 3] [--database-url URL] [--quick]

The file and the database are bench/import.py's (a fresh database per run). Each round imports
the file twice, without and with the subscription, in turns so that the machine's load falls
on both alike; only the confirmation (apply_import) differs, and is timed. Checks that the
subscribed import queued one delivery per person added and the other none. SQLite always;
PostgreSQL too with --database-url (throwaway databases, dropped afterwards). --quick: 500 rows,
one round (the test suite runs it as a correctness check).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.fleet import database  # noqa: E402 - after the repository is on the path

KINDS = ("no subscription", "subscribed")


def import_bench() -> ModuleType:
    """Load bench/import.py (its name, `import`, cannot be imported by name)."""
    spec = importlib.util.spec_from_file_location(
        "bench_import", Path(__file__).parent / "import.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@dataclass
class Run:
    """One confirmation: its seconds, the people it added and the deliveries it queued."""

    seconds: float
    added: int
    deliveries: int


def run(bench: ModuleType, file: Any, server: str | None, subscribed: bool) -> Run:
    """Preview and confirm the file in a fresh database, with or without a receiver."""
    from campaign import create_app, db, migrations

    with tempfile.TemporaryDirectory() as folder, database(server, folder, "phases_bench") as url:
        app = create_app(
            {"INSTANCE_PATH": folder, "CAMPAIGN_DATABASE_URL": url, "CAMPAIGN_SECRET_KEY": "b"}
        )
        migrations.upgrade(db.engine_of(app))
        with app.app_context(), db.open_session(app) as session:
            outcome = _confirm(bench, session, file, subscribed)
        db.engine_of(app).dispose()
    return outcome


def _confirm(bench: ModuleType, session: Any, file: Any, subscribed: bool) -> Run:
    """Seed, preview, (subscribe,) and time the confirmation; count what it queued."""
    from sqlalchemy import func, select

    from campaign.enrolment import importing
    from campaign.webhooks.models import WebhookDelivery

    job = bench._seeded(session, file)
    importing.read_import(session, job, progress=None)
    if subscribed:
        _subscribe(session, job)
    started = time.perf_counter()
    applied = importing.apply_import(session, job, None, datetime.now(UTC))
    seconds = time.perf_counter() - started
    query = select(func.count()).where(WebhookDelivery.event_type == "participant.enrolled")
    return Run(seconds, applied.added, session.scalar(query) or 0)


def _subscribe(session: Any, job: Any) -> None:
    """Give the import's member a receiver of participant.enrolled and import.applied."""
    from campaign.webhooks import signing
    from campaign.webhooks.models import WebhookSubscription

    now = datetime.now(UTC)
    session.add(
        WebhookSubscription(
            campaign_id=job.campaign_id, organisation_id=job.organisation_id,
            url="https://hr.kungalv.se/hooks", secret=signing.new_secret(),
            event_types="participant.enrolled import.applied", is_enabled=True,
            disabled_reason="", failures_in_a_row=0, created_at=now, updated_at=now,
        )
    )  # fmt: skip
    session.commit()


def measure(bench: ModuleType, file: Any, server: str | None, repeat: int) -> dict[str, list[Run]]:
    """Confirm the file `repeat` times each way, in turns, printing each round."""
    runs: dict[str, list[Run]] = {kind: [] for kind in KINDS}
    for number in range(1, repeat + 1):
        for kind in KINDS:
            runs[kind].append(run(bench, file, server, kind == "subscribed"))
        none, some = runs[KINDS[0]][-1], runs[KINDS[1]][-1]
        print(f"  round {number}: apply {none.seconds:6.2f} s without, {some.seconds:6.2f} s "
              f"with a subscription ({some.deliveries} deliveries queued)", flush=True)  # fmt: skip
    return runs


def is_right(runs: dict[str, list[Run]]) -> bool:
    """Whether the subscribed imports queued one delivery per person added, the others none."""
    return all(r.deliveries == 0 for r in runs[KINDS[0]]) and all(
        r.deliveries == r.added > 0 for r in runs[KINDS[1]]
    )


def summary(engine: str, runs: dict[str, list[Run]], rows: int) -> list[str]:
    """Return the lines of one engine's medians and the ratio to the import without."""
    base = statistics.median(r.seconds for r in runs[KINDS[0]])
    lines = [f"{engine}:"]
    for kind in KINDS:
        seconds = statistics.median(r.seconds for r in runs[kind])
        lines.append(f"  apply, {kind:16s} median {seconds:6.2f} s, {rows / seconds:8.0f} "
                     f"rows/s, {seconds / base:5.2f}x without")  # fmt: skip
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return 0 if every import queued what it must, else 1."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", help="a PostgreSQL server; a database is made per run")
    parser.add_argument("--quick", action="store_true", help="500 rows, one round")
    args = parser.parse_args(argv)
    rows, repeat = (500, 1) if args.quick else (args.rows, args.repeat)
    bench = import_bench()
    file = bench.make_csv(rows)
    print(f"{rows} rows, {repeat} rounds of an import without and with a subscription")
    engines = {"SQLite": None} | ({"PostgreSQL": args.database_url} if args.database_url else {})
    lines, right = [], True
    for engine, server in engines.items():
        print(f"{engine}:", flush=True)
        runs = measure(bench, file, server, repeat)
        lines += summary(engine, runs, rows)
        right &= is_right(runs)
    print("\n".join(lines))
    print(f"what the imports queued: {'right' if right else 'WRONG'} (one participant.enrolled "
          f"per person added when subscribed, none otherwise)")  # fmt: skip
    return 0 if right else 1


if __name__ == "__main__":
    sys.exit(main())
