"""Hostile spreadsheets: what reading each one costs the server, beside a normal big file.

    python bench/import_limits.py [--only NAME ...] [--timeout 120] [--json]

Builds each file (tests/import_files.py: a row of 2,000,000 cells, a 300 MB cell, a 300 MB
shared string, a zip bomb of a sheet, a zip bomb of a million rows, 450,000 rows that all say
they are row 2, a CSV with a 10 MB field, a CSV with a million columns, and normal 100,000-row
CSV and XLSX files), then reads each in a fresh process through the real import code
(`read_import` on a throwaway SQLite database, as the web upload's reading thread does) and
prints the file's size, the peak memory rise of that process while reading, the time, and how
the import ended. The rise is the peak resident set size (VmHWM, reset just before reading)
minus the resident set size before reading: the cost of holding and reading the upload. With
PYTHONPATH=<another checkout> the files are read by that checkout's code (how the figures
before the limits were measured).
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from campaign import create_app, db, migrations
from campaign.enrolment import importing
from campaign.enrolment.models import ImportRow, ParticipantImport, PilotGroup, PilotGroupKind
from campaign.network.models import Campaign, Membership, Organisation, OrganisationKind

CREATED = datetime(2014, 1, 1, tzinfo=UTC)  # when the rows of the benchmark were made


def _load_files() -> Any:
    """Return tests/import_files.py of this checkout (even when PYTHONPATH names another)."""
    path = Path(__file__).resolve().parent.parent / "tests" / "import_files.py"
    spec = importlib.util.spec_from_file_location("import_files", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


files = _load_files()

FILES: dict[str, tuple[str, str, Callable[[], bytes]]] = {
    "wide-row": ("a row of 2,000,000 cells", "wide.xlsx", files.wide_row),
    "huge-cell": ("a 300 MB cell", "cell.xlsx", files.huge_cell),
    "huge-shared-string": ("a 300 MB shared string", "shared.xlsx", files.huge_shared_string),
    "sheet-bomb": ("a zip bomb of a sheet: 862 MB of rows", "bomb.xlsx", files.sheet_bomb),
    "rows-bomb": ("a zip bomb of 1,000,000 rows", "rows.xlsx", files.rows_bomb),
    "repeated-row-number": (
        "450,000 rows all numbered 2",
        "repeated.xlsx",
        files.repeated_row_number,
    ),
    "long-field": ("a CSV with a 10 MB field", "field.csv", files.long_field),
    "million-columns": ("a CSV with a million columns", "columns.csv", files.million_columns),
    "normal-csv": ("a normal file: 100,000 rows of CSV", "people.csv", files.normal_csv),
    "normal-xlsx": ("a normal file: 100,000 rows of XLSX", "people.xlsx", files.normal_xlsx),
}


def _status() -> dict[str, int]:
    """The process's resident set size now and at its peak, in bytes (Linux)."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) * 1024
    return values


def child(path: Path, filename: str) -> dict[str, Any]:
    """Read one file through read_import in this process; return what it cost."""
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "INSTANCE_PATH": folder,
                "CAMPAIGN_DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3",
                "CAMPAIGN_SECRET_KEY": "bench",
            }
        )
        migrations.upgrade(db.engine_of(app))
        with app.app_context(), db.open_session(app) as session:
            import_id = _upload(session, path, filename)
        with app.app_context(), db.open_session(app) as session:
            job = session.get(ParticipantImport, import_id)
            assert job is not None
            session.expire(job)  # the reading loads the file, as in the web's reading thread
            result = _read(session, job)
        db.engine_of(app).dispose()
    return result


def _upload(session: Any, path: Path, filename: str) -> int:
    """Store a member, a pilot group and an import of the file, as an upload does; return its id."""
    org = Organisation(
        slug="kungalv", name="Kungälvs kommun", short_name="Kungälv",
        kind=OrganisationKind.MUNICIPALITY, created_at=CREATED,
    )  # fmt: skip
    campaign = Campaign(
        slug="bench", name="Resfria möten", lead_organisation=org,
        starts_on=date(2014, 1, 1), ends_on=date(2015, 3, 31), created_at=CREATED,
    )  # fmt: skip
    session.add_all(
        [
            campaign,
            Membership(campaign=campaign, organisation=org, created_at=CREATED, updated_at=CREATED),
        ]
    )
    session.flush()
    group = PilotGroup(
        campaign_id=campaign.id, organisation_id=org.id, name="Alla",
        kind=PilotGroupKind.VOLUNTEERS, starts_on=date(2014, 6, 16), sequence_name="pilot-group",
        created_at=CREATED,
    )  # fmt: skip
    session.add(group)
    session.flush()
    job = ParticipantImport(
        campaign_id=campaign.id, organisation_id=org.id, pilot_group_id=group.id,
        filename=filename, content=path.read_bytes(), created_at=datetime.now(UTC),
    )  # fmt: skip
    session.add(job)
    session.commit()
    return job.id


def _read(session: Any, job: Any) -> dict[str, Any]:
    """Read the import, measuring the peak memory of this process meanwhile."""
    gc.collect()
    before = _status()["VmRSS"]
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        measure = "VmHWM"
    except OSError:
        measure = "ru_maxrss"  # a cruder figure: the peak of the whole process
    started = time.perf_counter()
    importing.read_import(session, job)
    seconds = time.perf_counter() - started
    if measure == "VmHWM":
        peak = _status()["VmHWM"]
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    rows = session.scalar(
        select(func.count()).select_from(ImportRow).where(ImportRow.import_id == job.id)
    )
    where = dict(job.counts or {})
    if job.state.value == "ready":
        where = {key: job.counts[key] for key in ("add", "reject", "blank")}
    return {
        "rise": peak - before, "seconds": seconds, "rows_stored": rows or 0, "measure": measure,
        "state": job.state.value, "error": job.error, "where": where,
    }  # fmt: skip


def measure(name: str, folder: Path, timeout: float) -> dict[str, Any]:
    """Build the file, then read it in a fresh process; return its size and that process's cost."""
    _title, filename, build = FILES[name]
    path = folder / filename
    if not path.exists():
        path.write_bytes(build())
    result: dict[str, Any] = {"name": name, "size": path.stat().st_size}
    command = [sys.executable, __file__, "--child", str(path)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {**result, "state": f"still reading after {timeout:.0f} s (killed)"}
    if done.returncode:
        return {**result, "state": f"crashed: {done.stderr.strip().splitlines()[-1:]}"}
    return {**result, **json.loads(done.stdout.strip().splitlines()[-1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", choices=sorted(FILES), help="measure only these")
    parser.add_argument("--timeout", type=float, default=120, help="seconds per file")
    parser.add_argument("--json", action="store_true", help="print one JSON line per file")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.child.name)))
        return
    names = args.only or list(FILES)
    with tempfile.TemporaryDirectory() as folder:
        for name in names:
            result = measure(name, Path(folder), args.timeout)
            print(json.dumps(result) if args.json else _line(result), flush=True)


def _line(result: dict[str, Any]) -> str:
    cost = "-"
    if "rise" in result:
        cost = f"peak rise {result['rise'] / 2**20:7.1f} MiB, {result['seconds']:6.2f} s"
    return (
        f"{FILES[result['name']][0]:40} {result['size'] / 2**10:9.0f} KiB  {cost};"
        f" {result['state']} {result.get('error', '')} {result.get('where', '')}"
    )


if __name__ == "__main__":
    main()
