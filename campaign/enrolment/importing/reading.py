"""Reading an uploaded file into the preview of its import, in batches, in the background.

A file that cannot be read, or that crosses one of the limits, fails the import with a sentence
saying why and where; nothing else is kept of it, neither the rows read so far nor the file.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask
from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from campaign import db
from campaign.enrolment.importing.limits import ImportFileError
from campaign.enrolment.importing.rows import Parsed, Target, classify, parse_row
from campaign.enrolment.importing.table import read_table
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
    db_session.execute(delete(ImportRow).where(ImportRow.import_id == job.id))
    job.state, job.rows_read, job.error, job.counts = ImportState.READING, 0, "", {}
    db_session.commit()
    try:
        _read(db_session, job, progress)
    except ImportFileError as error:
        db_session.rollback()
        log.info("import %s not read: %s %s", job.id, error.reason, error.where)
        mark_failed(db_session, job, error.reason, error.where)
        db_session.commit()


def mark_failed(
    db_session: Session, job: ParticipantImport, reason: str, where: Mapping[str, Any]
) -> None:
    """Mark an import failed and drop what was read of it, and its file."""
    db_session.execute(delete(ImportRow).where(ImportRow.import_id == job.id))
    job.state, job.error, job.counts, job.content = ImportState.FAILED, reason, dict(where), None
    job.finished_at = current_clock().now()


def _read(db_session: Session, job: ParticipantImport, progress: Progress | None) -> None:
    table = read_table(job.content or b"", job.filename)
    campaign = db_session.get(Campaign, job.campaign_id)
    target = Target(
        job.campaign_id,
        job.organisation_id,
        job.pilot_group_id,
        campaign.language if campaign else "sv",
    )
    job.rows_total = table.estimated_rows
    counts = dict.fromkeys((o.value for o in RowOutcome), 0)
    counts["blank"] = 0
    seen: dict[str, int] = {}
    batch: list[Parsed] = []
    read = 0

    def flush() -> None:
        rows = classify(db_session, target, batch, seen)
        for row in rows:
            counts[row["outcome"].value] += 1
            row["import_id"] = job.id
        if rows:
            db_session.execute(insert(ImportRow), rows)
        job.rows_read = read
        job.rows_total = max(job.rows_total, read)
        db_session.commit()
        if progress:
            progress(read, job.rows_total)
        batch.clear()

    for number, cells in table.rows:
        read += 1
        parsed = parse_row(number, cells, table.columns)
        if parsed is None:
            counts["blank"] += 1
        else:
            batch.append(parsed)
        if len(batch) >= BATCH:
            flush()
    flush()
    job.counts = {
        **counts,
        "columns": table.used,
        "ignored_columns": table.ignored,
    }
    job.rows_total = read
    job.state = ImportState.READY
    job.finished_at = current_clock().now()
    db_session.commit()


_workers: dict[int, threading.Thread] = {}


def read_in_background(app: Flask, import_id: int) -> None:
    """Read an import in a thread of this process; its page shows the progress meanwhile."""

    def work() -> None:
        with app.app_context(), db.open_session(app) as db_session:
            job = db_session.get(ParticipantImport, import_id)
            if job is None:
                return
            try:
                read_import(db_session, job)
            except Exception:
                log.exception("reading import %s failed", import_id)
                db_session.rollback()
                mark_failed(db_session, job, "broken", {})
                db_session.commit()

    worker = threading.Thread(target=work, name=f"import-{import_id}", daemon=True)
    _workers[import_id] = worker
    worker.start()


def wait_for_readers(timeout: float = 120) -> None:
    """Wait until every import being read in this process is read (for tests and shutdown)."""
    for import_id, worker in list(_workers.items()):
        worker.join(timeout)
        _workers.pop(import_id, None)
