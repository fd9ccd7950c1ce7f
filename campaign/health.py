"""/healthz: is the database reachable, and is a scheduler ticking?"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from campaign import db
from campaign.accounts.scope import Access, access
from campaign.jobs import JobLease, job_status
from campaign.timing import current_clock

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@access(Access.PUBLIC)
def healthz() -> ResponseReturnValue:
    """Answer 200 with the scheduler's last beat if the database answers, else 503."""
    try:
        db.session().execute(text("SELECT 1"))
        jobs = job_status(db.session())
    except SQLAlchemyError:
        return jsonify(status="error", database="unreachable"), 503
    now = current_clock().now()
    return jsonify(status="ok", database="ok", jobs={job.name: _beat(job, now) for job in jobs})


def _beat(job: JobLease, now: datetime) -> dict[str, Any]:
    """When the job last ran (and how long before `now`), and its last error."""
    last = job.last_run_at
    return {
        "last_run_at": last.isoformat() if last else None,
        "seconds_ago": round((now - last).total_seconds()) if last else None,
        "last_error": job.last_error,
    }


def init_app(app: Flask) -> None:
    """Register the health check."""
    app.register_blueprint(bp)
