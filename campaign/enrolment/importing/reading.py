"""Reading an uploaded file into the preview of its import, in batches, in the background.

A file that cannot be read, or that crosses one of the limits, fails the import with a sentence
saying why and where; nothing else is kept of it, neither the rows read so far nor the file.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from sqlalchemy import delete
from sqlalchemy.orm import Session

from campaign import db
from campaign.enrolment.importing.limits import ImportFileError
from campaign.enrolment.importing.rows import Parsed, Target, classify, parse_row
from campaign.enrolment.importing.table import Table, read_table
from campaign.enrolment.models import ImportRow, ImportState, ParticipantImport, RowOutcome
from campaign.network.models import Campaign
from campaign.timing import current_clock

log = logging.getLogger(__name__)

BATCH = 5000
Progress = Callable[[int, int], None]


def read_import(
    db_session: Session, job: ParticipantImport, progress: Progress | None = None
) -> None:
    """Read the import's file into import_row, committing each batch, and mark it ready.

    On a file that cannot be read, the import is marked failed with the reason (and where, in
    its counts) and its file and rows are dropped.
    """
    _start_reading(db_session, job)
    try:
        _read(db_session, job, progress)
    except ImportFileError as error:
        db_session.rollback()
        log.info("import %s not read: %s %s", job.id, error.reason, error.where)
        mark_failed(db_session, job, error.reason, error.where)
        db_session.commit()


def _start_reading(db_session: Session, job: ParticipantImport) -> None:
    """Drop what an earlier reading of the import left, mark it being read, and commit."""
    db_session.execute(delete(ImportRow).where(ImportRow.import_id == job.id))
    job.state, job.rows_read, job.error, job.counts = ImportState.READING, 0, "", {}
    db_session.commit()


def mark_failed(
    db_session: Session, job: ParticipantImport, reason: str, where: Mapping[str, Any]
) -> None:
    """Mark an import failed and drop what was read of it, and its file."""
    db_session.execute(delete(ImportRow).where(ImportRow.import_id == job.id))
    job.state, job.error, job.counts, job.content = ImportState.FAILED, reason, dict(where), None
    job.finished_at = current_clock().now()


def _read(db_session: Session, job: ParticipantImport, progress: Progress | None) -> None:
    """Read the import's file row by row into its rows, and mark it ready."""
    table = read_table(job.content or b"", job.filename)
    reader = _Reader(db_session, job, _target(db_session, job), progress)
    job.rows_total = table.estimated_rows
    for number, cells in table.rows:
        reader.add(parse_row(number, cells, table.columns))
    reader.flush()
    _mark_ready(db_session, job, reader, table)


def _mark_ready(db_session: Session, job: ParticipantImport, reader: _Reader, table: Table) -> None:
    """Record what the reading counted and which columns it used, and commit the import ready."""
    job.counts = {**reader.counts, "columns": table.used, "ignored_columns": table.ignored}
    job.rows_total = reader.read
    job.state = ImportState.READY
    job.finished_at = current_clock().now()
    db_session.commit()


def _target(db_session: Session, job: ParticipantImport) -> Target:
    """Return where the import goes, with its campaign's language for rows that name none."""
    campaign = db_session.get(Campaign, job.campaign_id)
    language = campaign.language if campaign else "sv"
    return Target(job.campaign_id, job.organisation_id, job.pilot_group_id, language)


def _outcome_counts() -> dict[str, int]:
    """Return a zero count of each outcome, and of blank rows."""
    return {**dict.fromkeys((o.value for o in RowOutcome), 0), "blank": 0}


@dataclass
class _Reader:
    """Classifies an import's rows in batches and stores them, counting the outcomes."""

    db_session: Session
    job: ParticipantImport
    target: Target
    progress: Progress | None
    counts: dict[str, int] = field(default_factory=_outcome_counts)
    seen: dict[str, int] = field(default_factory=dict)  # address -> its first row
    batch: list[Parsed] = field(default_factory=list)
    read: int = 0

    def add(self, parsed: Parsed | None) -> None:
        """Take the next row of the file (None: a blank one); store each full batch."""
        self.read += 1
        if parsed is None:
            self.counts["blank"] += 1
        else:
            self.batch.append(parsed)
        if len(self.batch) >= BATCH:
            self.flush()

    def flush(self) -> None:
        """Classify and store the batch, and commit it with the progress so far."""
        self._store(classify(self.db_session, self.target, self.batch, self.seen))
        self.job.rows_read = self.read
        self.job.rows_total = max(self.job.rows_total, self.read)
        self.db_session.commit()
        if self.progress:
            self.progress(self.read, self.job.rows_total)
        self.batch.clear()

    def _store(self, rows: list[dict[str, Any]]) -> None:
        """Insert the classified rows into import_row in bulk, counting their outcomes."""
        for row in rows:
            row["outcome"] = row["outcome"].value  # as stored: insert_many bypasses the types
            self.counts[row["outcome"]] += 1
            row["import_id"] = self.job.id
        db.insert_many(self.db_session, ImportRow, rows)


_workers: dict[int, threading.Thread] = {}


def read_in_background(app: Flask, import_id: int) -> None:
    """Read an import in a thread of this process; its page shows the progress meanwhile."""
    worker = threading.Thread(
        target=_work, args=(app, import_id), name=f"import-{import_id}", daemon=True
    )
    _workers[import_id] = worker
    worker.start()


def _work(app: Flask, import_id: int) -> None:
    """Read the import in a session of its own; an unforeseen error fails it as `broken`."""
    with app.app_context(), db.open_session(app) as db_session:
        job = db_session.get(ParticipantImport, import_id)
        if job is not None:
            _read_or_fail(db_session, job)


def _read_or_fail(db_session: Session, job: ParticipantImport) -> None:
    """Read the import; an unforeseen error is logged and fails it as `broken`."""
    try:
        read_import(db_session, job)
    except Exception:
        log.exception("reading import %s failed", job.id)
        db_session.rollback()
        mark_failed(db_session, job, "broken", {})
        db_session.commit()


def wait_for_readers(timeout: float = 120) -> None:
    """Wait until every import being read in this process is read (for tests and shutdown)."""
    for import_id, worker in list(_workers.items()):
        worker.join(timeout)
        _workers.pop(import_id, None)
