"""Importing participants at scale: a 100,000-row Excel-style CSV, preview and confirm.

    python bench/import.py [--rows 100000] [--repeat 3]

Each run builds a fresh SQLite database with one campaign, one member and one pilot group, and
imports a semicolon CSV with a byte-order mark (`Förnamn;Efternamn;E-post;Titel`, about 1 %
invalid addresses and 1 % duplicates): first the preview (read, check every row, store the
plan), then the confirmation (all rows written in one transaction). The baseline in the same
run is the floor of the same work: Python's csv module reading the same bytes and one
executemany INSERT of as many rows into a plain SQLite table, through sqlite3. Prints medians.
"""

from __future__ import annotations

import argparse
import csv
import io
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

FIRST = ["Åsa", "Örjan", "Märta", "Björn", "Ingrid", "Kalle", "Sofia", "Göran", "Elin", "Pär"]
LAST = ["Öberg", "Ängström", "Åkesson", "Nilsson", "Karlsson", "Lindqvist", "Sjö", "Ek"]


def make_file(rows: int) -> tuple[bytes, int]:
    """Return the CSV's bytes and how many of its rows are valid, distinct addresses."""
    lines = ["Förnamn;Efternamn;E-post;Titel"]
    valid = 0
    for n in range(rows):
        first, last = FIRST[n % len(FIRST)], LAST[n % len(LAST)]
        if n % 100 == 37:
            address = f"fel adress {n}@kommun"  # invalid
        elif n % 100 == 71 and n > 100:
            address = f"person.{n - 50}@kommun.se"  # repeats an earlier row
        else:
            address = f"person.{n}@kommun.se"
            valid += 1
        lines.append(f"{first};{last};{address};Handläggare")
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"), valid


def run_ours(content: bytes, expected: int) -> tuple[float, float]:
    from sqlalchemy import func, select

    from campaign import create_app, db, migrations
    from campaign.enrolment import importing
    from campaign.enrolment.models import Participant, ParticipantImport, PilotGroup, PilotGroupKind
    from campaign.network.models import Campaign, Membership, Organisation, OrganisationKind

    now = datetime(2014, 3, 3, 9, 0, tzinfo=UTC)
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
                slug="ale", name="Ale kommun", short_name="Ale", kind=OrganisationKind.MUNICIPALITY
            )
            campaign = Campaign(
                slug="bench",
                name="Resfria möten",
                lead_organisation=org,
                starts_on=date(2014, 1, 1),
                ends_on=date(2015, 3, 31),
            )
            session.add_all([campaign, Membership(campaign=campaign, organisation=org)])
            session.flush()
            group = PilotGroup(
                campaign_id=campaign.id,
                organisation_id=org.id,
                name="Alla",
                kind=PilotGroupKind.VOLUNTEERS,
                starts_on=date(2014, 3, 3),
            )
            session.add(group)
            session.flush()
            job = ParticipantImport(
                campaign_id=campaign.id,
                organisation_id=org.id,
                pilot_group_id=group.id,
                filename="bench.csv",
                content=content,
                created_at=now,
            )
            session.add(job)
            session.commit()
            started = time.perf_counter()
            importing.read_import(session, job)
            previewed = time.perf_counter()
            applied = importing.apply_import(session, job, None, now)
            done = time.perf_counter()
            stored = session.scalar(select(func.count(Participant.id)))
        db.engine_of(app).dispose()
    if applied.added != expected or stored != expected:
        sys.exit(f"wrong result: {applied.added} added, {stored} stored, {expected} expected")
    return previewed - started, done - previewed


def run_baseline(content: bytes) -> float:
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))[1:]
        connection = sqlite3.connect(Path(folder) / "raw.sqlite3")
        connection.execute("CREATE TABLE person (first TEXT, last TEXT, email TEXT, title TEXT)")
        connection.executemany("INSERT INTO person VALUES (?, ?, ?, ?)", rows)
        connection.commit()
        connection.close()
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    content, expected = make_file(args.rows)
    print(f"{args.rows} rows, {len(content) / 1e6:.1f} MB, {expected} valid distinct addresses")
    previews, applies, baselines = [], [], []
    for n in range(args.repeat):
        preview, apply = run_ours(content, expected)
        baseline = run_baseline(content)
        previews.append(preview)
        applies.append(apply)
        baselines.append(baseline)
        print(
            f"run {n + 1}: preview {preview:.2f} s, confirm {apply:.2f} s,"
            f" baseline {baseline:.2f} s"
        )
    preview, apply, baseline = (statistics.median(v) for v in (previews, applies, baselines))
    total = preview + apply
    print(f"median preview  {preview:6.2f} s  ({args.rows / preview:,.0f} rows/s)")
    print(f"median confirm  {apply:6.2f} s  ({expected / apply:,.0f} rows/s)")
    print(f"median total    {total:6.2f} s")
    print(f"baseline        {baseline:6.2f} s  (csv + one executemany into SQLite)")
    print(f"ratio total/baseline {total / baseline:.1f}")
    print(f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
