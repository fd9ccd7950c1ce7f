"""Reading an uploaded file into the preview of its import, in batches, in the background."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from flask import Flask
from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from campaign import db
from campaign.enrolment.importing.rows import Parsed, Target, classify, parse_row
from campaign.enrolment.importing.table import ImportFileError, read_table
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

    On a file that cannot be read, the import is marked failed with the reason.
    """
    db_session.execute(delete(ImportRow).where(ImportRow.import_id == job.id))
    job.state, job.rows_read, job.error, job.counts = ImportState.READING, 0, "", {}
    db_session.commit()
    try:
        table = read_table(job.content or b"", job.filename)
    except ImportFileError as error:
        job.state, job.error = ImportState.FAILED, error.reason
        job.finished_at = current_clock().now()
        db_session.commit()
        return
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
                db_session.execute(delete(ImportRow).where(ImportRow.import_id == import_id))
                job.state, job.content = ImportState.FAILED, None
                job.error = "broken"
                db_session.commit()

    worker = threading.Thread(target=work, name=f"import-{import_id}", daemon=True)
    _workers[import_id] = worker
    worker.start()


def wait_for_readers(timeout: float = 120) -> None:
    """Wait until every import being read in this process is read (for tests and shutdown)."""
    for import_id, worker in list(_workers.items()):
        worker.join(timeout)
        _workers.pop(import_id, None)
