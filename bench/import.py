"""Import at scale: how long reading, checking and applying a big participant file takes.

    python bench/import.py [--rows 100000] [--repeat 3] [--database-url postgresql://...]

Builds a Swedish Excel-style CSV in memory (UTF-8 with BOM, semicolons, CRLF, about 1 % invalid
addresses and 1 % repeated ones), then, in a fresh database per run with one campaign, member
and pilot group, times read_import (the preview) and apply_import (the one transaction). The
baseline in the same run is the floor: the csv module reading the same bytes and one sqlite3
executemany INSERT of every row into a plain table. With --database-url (a PostgreSQL server)
each run creates a throwaway database there and drops it afterwards; otherwise SQLite.
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
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

CREATED = datetime(2014, 1, 1, tzinfo=UTC)  # when the rows of the benchmark were made

FIRST = ["Åsa", "Anna", "Björn", "Märta", "Göran", "Lars", "Ingrid", "Örjan", "Karin", "Jönte"]
LAST = ["Öberg", "Åkesson", "Lindström", "Bäckström", "Söderberg", "Karlsson", "Hägglund", "Ek"]
TITLES = ["Handläggare", "Enhetschef", "Förvaltningschef", "Nämndsekreterare", "Miljöinspektör"]
DOMAINS = ["kungalv.se", "ockero.se", "stenungsund.se", "tjorn.se", "molndal.se"]
BAD = ["{a}.{b}.{n}.kommun.se", "{a} {b}.{n}@kommun.se", "{a}.{b}.{n}@@kommun.se", "{a}@kommun"]
FOLD = str.maketrans("åäöÅÄÖ", "aaoAAO")


def make_csv(rows: int) -> tuple[bytes, int]:
    """Return the file and how many valid, distinct addresses it holds."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Förnamn", "Efternamn", "E-post", "Titel"])
    emails: list[str] = []
    valid: set[str] = set()
    for n in range(rows):
        first, last = FIRST[n % len(FIRST)], LAST[n * 7 % len(LAST)]
        a, b = first.translate(FOLD).lower(), last.translate(FOLD).lower()
        if n % 100 == 50:  # invalid: no @, a space, two @, no top-level domain
            email = BAD[n // 100 % len(BAD)].format(a=a, b=b, n=n)
        elif n % 100 == 99:  # an earlier (valid) row again, written capitalised
            email = emails[n - 37].title()
        else:
            email = f"{a}.{b}.{n}@{DOMAINS[n % len(DOMAINS)]}"
            valid.add(email)
        emails.append(email)
        writer.writerow([first, last, email, TITLES[n % len(TITLES)]])
    return out.getvalue().encode("utf-8-sig"), len(valid)


def baseline(content: bytes, folder: Path) -> float:
    """Seconds for the floor: csv reading the bytes plus one executemany into plain SQLite."""
    started = time.perf_counter()
    text = content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))[1:]
    connection = sqlite3.connect(folder / "baseline.sqlite3")
    connection.execute("CREATE TABLE person (first TEXT, last TEXT, email TEXT, title TEXT)")
    with connection:
        connection.executemany("INSERT INTO person VALUES (?, ?, ?, ?)", rows)
    connection.close()
    return time.perf_counter() - started


@contextmanager
def database(server: str | None, folder: Path) -> Iterator[str]:
    """Yield the URL of an empty database: SQLite in `folder`, or a throwaway PostgreSQL one."""
    if not server:
        yield f"sqlite:///{folder / 'bench.sqlite3'}"
        return
    from sqlalchemy import create_engine, make_url, text

    url = make_url(server).set(drivername="postgresql+psycopg")
    name = f"campaign_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(content: bytes, server: str | None, folder: Path) -> dict[str, float]:
    """Import the file once into a fresh database; return the timings and the outcome."""
    from sqlalchemy import func, select

    from campaign import create_app, db, migrations
    from campaign.enrolment import importing
    from campaign.enrolment.models import Participant, ParticipantImport, PilotGroup, PilotGroupKind
    from campaign.network.models import Campaign, Membership, Organisation, OrganisationKind

    with database(server, folder) as url:
        app = create_app(
            {"INSTANCE_PATH": str(folder), "CAMPAIGN_DATABASE_URL": url, "CAMPAIGN_SECRET_KEY": "b"}
        )
        migrations.upgrade(db.engine_of(app))
        with app.app_context(), db.open_session(app) as session:
            org = Organisation(
                slug="kungalv",
                name="Kungälvs kommun",
                short_name="Kungälv",
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
            now = datetime.now(UTC)
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
            importing.read_import(session, job, progress=None)
            read = time.perf_counter() - started
            counts = dict(job.counts)
            started = time.perf_counter()
            applied = importing.apply_import(session, job, None, now)
            apply = time.perf_counter() - started
            stored = session.scalar(select(func.count()).select_from(Participant))
        db.engine_of(app).dispose()
    return {"read": read, "apply": apply, "added": applied.added, "stored": stored or 0,
            "add": counts.get("add", 0), "reject": counts.get("reject", 0)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", help="a PostgreSQL server; a database is made per run")
    args = parser.parse_args()
    content, expected = make_csv(args.rows)
    engine = "PostgreSQL" if args.database_url else "SQLite"
    print(f"{args.rows} rows, {len(content) / 2**20:.1f} MiB CSV, {expected} valid distinct "
          f"addresses, {args.repeat} runs on {engine}", flush=True)  # fmt: skip
    runs, floors, wrong = [], [], False
    for number in range(1, args.repeat + 1):
        with tempfile.TemporaryDirectory() as folder:
            runs.append(run(content, args.database_url, Path(folder)))
            floors.append(baseline(content, Path(folder)))
        r = runs[-1]
        wrong |= not r["stored"] == r["added"] == expected
        print(f"  run {number}: read {r['read']:6.2f} s, apply {r['apply']:6.2f} s, "
              f"baseline {floors[-1]:5.2f} s; {r['add']} to add, {r['reject']} rejected, "
              f"{r['stored']} participants stored", flush=True)  # fmt: skip
    read = statistics.median(r["read"] for r in runs)
    apply = statistics.median(r["apply"] for r in runs)
    total = statistics.median(r["read"] + r["apply"] for r in runs)
    floor = statistics.median(floors)
    print(f"read_import (preview):        median {read:6.2f} s, {args.rows / read:8.0f} rows/s")
    print(f"apply_import (one commit):    median {apply:6.2f} s, {args.rows / apply:8.0f} rows/s")
    print(f"total:                        median {total:6.2f} s, {args.rows / total:8.0f} rows/s")
    print(f"baseline csv + executemany:   median {floor:6.2f} s, {args.rows / floor:8.0f} rows/s")
    print(f"ratio ours / baseline:        {total / floor:.1f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS:                     {peak:.0f} MiB")
    print(f"participants stored: {runs[-1]['stored']}, expected {expected}: "
          f"{'WRONG' if wrong else 'ok'}")  # fmt: skip
    sys.exit(1 if wrong else 0)


if __name__ == "__main__":
    main()
