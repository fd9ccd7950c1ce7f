"""Import at scale: how long the preview and the confirmation of a big participant file take.

    python bench/import.py [--rows 100000] [--repeat 3] [--database-url postgresql://...] [--quick]

Builds a Swedish Excel-style CSV in memory (UTF-8 with BOM, semicolons, CRLF, about 1 % invalid
addresses and 1 % repeated ones). Each run makes a fresh database with one campaign, member and
pilot group, where 1 % of the file's addresses are already suppressed and someone was once
erased (so every address is looked up among the tombstones), then times read_import (the
preview, committed in batches) and apply_import (the one transaction), and checks what they
did. The floor in the same run and database: the csv module reading the same bytes plus the
database's fastest bulk insert of every row into a plain table (one executemany on SQLite, COPY
on PostgreSQL), measured just before and just after the import and averaged (the machine's
load moves while a run lasts). SQLite always; with --database-url (a PostgreSQL server)
PostgreSQL too, in a throwaway database made per run and dropped afterwards. --quick: 500 rows,
one run (the test suite runs it as a correctness check).
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
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.fleet import database  # noqa: E402 - after the repository is on the path

CREATED = datetime(2014, 1, 1, tzinfo=UTC)  # when the rows of the benchmark were made

FIRST = ["Åsa", "Anna", "Björn", "Märta", "Göran", "Lars", "Ingrid", "Örjan", "Karin", "Jönte"]
LAST = ["Öberg", "Åkesson", "Lindström", "Bäckström", "Söderberg", "Karlsson", "Hägglund", "Ek"]
TITLES = ["Handläggare", "Enhetschef", "Förvaltningschef", "Nämndsekreterare", "Miljöinspektör"]
DOMAINS = ["kungalv.se", "ockero.se", "stenungsund.se", "tjorn.se", "molndal.se"]
BAD = ["{a}.{b}.{n}.kommun.se", "{a} {b}.{n}@kommun.se", "{a}.{b}.{n}@@kommun.se", "{a}@kommun"]
FOLD = str.maketrans("åäöÅÄÖ", "aaoAAO")
COLUMNS = ("first", "last", "email", "title")


@dataclass
class File:
    """The benchmark's CSV, and the valid, distinct addresses it holds in file order."""

    content: bytes
    rows: int
    valid: list[str]

    @property
    def suppressed(self) -> list[str]:
        """The addresses already suppressed when the file is imported: one in a hundred."""
        return self.valid[7::100]


def make_csv(rows: int) -> File:
    """Return the file of `rows` people."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Förnamn", "Efternamn", "E-post", "Titel"])
    emails: list[str] = []
    valid: list[str] = []
    for n in range(rows):
        first, last = FIRST[n % len(FIRST)], LAST[n * 7 % len(LAST)]
        a, b = first.translate(FOLD).lower(), last.translate(FOLD).lower()
        if n % 100 == 50:  # invalid: no @, a space, two @, no top-level domain
            email = BAD[n // 100 % len(BAD)].format(a=a, b=b, n=n)
        elif n % 100 == 99:  # an earlier (valid) row again, written capitalised
            email = emails[n - 37].title()
        else:
            email = f"{a}.{b}.{n}@{DOMAINS[n % len(DOMAINS)]}"
            valid.append(email)
        emails.append(email)
        writer.writerow([first, last, email, TITLES[n % len(TITLES)]])
    return File(out.getvalue().encode("utf-8-sig"), rows, valid)


@dataclass
class Outcome:
    """One run: the seconds each step took, and what the import did."""

    read: float
    apply: float
    floor: float
    to_add: int  # rows the preview says it adds
    rejected: int  # rows the preview rejects
    added: int  # people apply_import says it added
    stored: int  # participants in the database afterwards
    consents: int  # consent records in the database afterwards
    rows_left: int  # preview rows left in the database afterwards

    @property
    def total(self) -> float:
        """Seconds for the preview and the confirmation together."""
        return self.read + self.apply


def expected(file: File) -> Outcome:
    """Return what an import of the file must do (the times left at zero)."""
    adds = len(file.valid) - len(file.suppressed)
    return Outcome(0, 0, 0, adds, file.rows - adds, adds, adds, adds, 0)


def is_right(outcome: Outcome, file: File) -> bool:
    """Whether the run did what the import of the file must do."""
    times = {"read": 0, "apply": 0, "floor": 0}
    return Outcome(**{**vars(outcome), **times}) == expected(file)


def floor(content: bytes, url: str, table: str) -> float:
    """Seconds for the floor: csv reading the bytes, and the database's fastest bulk insert of
    every row into a new plain table."""
    started = time.perf_counter()
    text = content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))[1:]
    if url.startswith("sqlite"):
        _sqlite_floor(url.removeprefix("sqlite:///"), table, rows)
    else:
        _copy_floor(url, table, rows)
    return time.perf_counter() - started


def _sqlite_floor(path: str, table: str, rows: list[list[str]]) -> None:
    """Insert the rows into a plain SQLite table with one executemany."""
    connection = sqlite3.connect(path)
    connection.execute(f"CREATE TABLE {table} ({', '.join(f'{c} TEXT' for c in COLUMNS)})")
    with connection:
        connection.executemany(f"INSERT INTO {table} VALUES (?, ?, ?, ?)", rows)
    connection.close()


def _copy_floor(url: str, table: str, rows: list[list[str]]) -> None:
    """Insert the rows into a plain PostgreSQL table with one COPY."""
    import psycopg
    from sqlalchemy import make_url

    parsed = make_url(url)
    with psycopg.connect(
        host=parsed.host, port=parsed.port, user=parsed.username, password=parsed.password,
        dbname=parsed.database,
    ) as connection, connection.cursor() as cursor:  # fmt: skip
        cursor.execute(f"CREATE TABLE {table} ({', '.join(f'{c} text' for c in COLUMNS)})")
        with cursor.copy(f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def run(file: File, server: str | None, folder: Path) -> Outcome:
    """Import the file once into a fresh database; return the timings and what it did."""
    from campaign import create_app, db, migrations

    with database(server, folder, "campaign_bench_import") as url:
        app = create_app(
            {"INSTANCE_PATH": str(folder), "CAMPAIGN_DATABASE_URL": url, "CAMPAIGN_SECRET_KEY": "b"}
        )
        migrations.upgrade(db.engine_of(app))
        before = floor(file.content, url, "floor_before")
        with app.app_context(), db.open_session(app) as session:
            outcome = _import(session, file)
        db.engine_of(app).dispose()
        outcome.floor = (before + floor(file.content, url, "floor_after")) / 2
    return outcome


def _import(session: Any, file: File) -> Outcome:
    """Preview and confirm the file in a fresh database; return the timings and what it did."""
    from campaign.enrolment import importing

    job = _seeded(session, file)
    started = time.perf_counter()
    importing.read_import(session, job, progress=None)
    read = time.perf_counter() - started
    counts = dict(job.counts)
    started = time.perf_counter()
    applied = importing.apply_import(session, job, None, datetime.now(UTC))
    apply = time.perf_counter() - started
    return Outcome(
        read, apply, 0, counts.get("add", 0), counts.get("reject", 0), applied.added,
        *_stored(session),
    )  # fmt: skip


def _stored(session: Any) -> tuple[int, int, int]:
    """Count the participants, consents and preview rows in the database."""
    from sqlalchemy import func, select

    from campaign.enrolment.models import Consent, ImportRow, Participant

    def count(model: Any) -> int:
        return session.scalar(select(func.count()).select_from(model)) or 0

    return count(Participant), count(Consent), count(ImportRow)


def _seeded(session: Any, file: File) -> Any:
    """Add a campaign, a member with one pilot group, the suppressed addresses, a tombstone,
    and the import of the file; commit and return the import."""
    from campaign.enrolment.erasure import leave_tombstone
    from campaign.enrolment.models import ParticipantImport

    group = _group(session)
    _suppress(session, file.suppressed)
    leave_tombstone(session, group.campaign_id, "someone.erased@kungalv.se", CREATED)
    job = ParticipantImport(
        campaign_id=group.campaign_id, organisation_id=group.organisation_id,
        pilot_group_id=group.id, filename="bench.csv", content=file.content,
        created_at=datetime.now(UTC),
    )  # fmt: skip
    session.add(job)
    session.commit()
    return job


def _group(session: Any) -> Any:
    """Add a campaign, one member and its pilot group; return the group."""
    from campaign.enrolment.models import PilotGroup, PilotGroupKind
    from campaign.network.models import Campaign, Membership, Organisation, OrganisationKind

    org = Organisation(
        slug="kungalv", name="Kungälvs kommun", short_name="Kungälv",
        kind=OrganisationKind.MUNICIPALITY, created_at=CREATED,
    )  # fmt: skip
    campaign = Campaign(
        slug="bench", name="Resfria möten", lead_organisation=org, starts_on=date(2014, 1, 1),
        ends_on=date(2015, 3, 31), created_at=CREATED,
    )  # fmt: skip
    membership = Membership(
        campaign=campaign, organisation=org, meeting_software="Lync", created_at=CREATED,
        updated_at=CREATED,
    )  # fmt: skip
    session.add_all([campaign, membership])
    session.flush()
    group = PilotGroup(
        campaign_id=campaign.id, organisation_id=org.id, name="Alla",
        kind=PilotGroupKind.VOLUNTEERS, starts_on=date(2014, 6, 16), sequence_name="pilot-group",
        created_at=CREATED,
    )  # fmt: skip
    session.add(group)
    session.flush()
    return group


def _suppress(session: Any, emails: list[str]) -> None:
    """Put the addresses on the suppression list, as unsubscribed."""
    from campaign.outbox.models import Suppression, SuppressionReason

    session.add_all(
        Suppression(email=email, reason=SuppressionReason.UNSUBSCRIBED, created_at=CREATED)
        for email in emails
    )


def measure(file: File, server: str | None, repeat: int) -> list[Outcome]:
    """Import the file `repeat` times on one database engine, printing each run."""
    outcomes = []
    for number in range(1, repeat + 1):
        with tempfile.TemporaryDirectory() as folder:
            outcomes.append(run(file, server, Path(folder)))
        o = outcomes[-1]
        print(f"  run {number}: preview {o.read:6.2f} s, apply {o.apply:6.2f} s, floor "
              f"{o.floor:5.2f} s; {o.to_add} to add, {o.rejected} rejected, {o.stored} "
              f"participants and {o.consents} consents stored", flush=True)  # fmt: skip
    return outcomes


def summary(engine: str, outcomes: list[Outcome], rows: int) -> list[str]:
    """Return the lines of one engine's medians, with the ratios to its floor."""
    base = statistics.median(o.floor for o in outcomes)
    lines = [f"{engine}:"]
    for label, seconds in [
        ("preview (read_import)", statistics.median(o.read for o in outcomes)),
        ("apply (apply_import)", statistics.median(o.apply for o in outcomes)),
        ("total", statistics.median(o.total for o in outcomes)),
        ("floor (csv + bulk insert)", base),
    ]:
        lines.append(f"  {label:27s} median {seconds:6.2f} s, {rows / seconds:8.0f} rows/s, "
                     f"{seconds / base:5.1f}x floor")  # fmt: skip
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return 0 if every import did what it must, else 1."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", help="a PostgreSQL server; a database is made per run")
    parser.add_argument("--quick", action="store_true", help="500 rows, one run")
    args = parser.parse_args(argv)
    rows, repeat = (500, 1) if args.quick else (args.rows, args.repeat)
    file = make_csv(rows)
    print(f"{rows} rows, {len(file.content) / 2**20:.1f} MiB CSV, {len(file.valid)} valid "
          f"distinct addresses ({len(file.suppressed)} suppressed), {repeat} runs")  # fmt: skip
    engines = {"SQLite": None} | ({"PostgreSQL": args.database_url} if args.database_url else {})
    lines, right = [], True
    for engine, server in engines.items():
        print(f"{engine}:", flush=True)
        outcomes = measure(file, server, repeat)
        lines += summary(engine, outcomes, rows)
        right &= all(is_right(o, file) for o in outcomes)
    print("\n".join(lines))
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    must = expected(file)
    print(f"what the imports did: {'right' if right else 'WRONG'} (each must add {must.added} "
          f"people with their consents and reject {must.rejected} rows)")  # fmt: skip
    return 0 if right else 1


if __name__ == "__main__":
    sys.exit(main())
