"""/healthz: is the database reachable, and is a scheduler ticking?"""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from campaign import db
from campaign.accounts.scope import Access, access
from campaign.jobs import job_status
from campaign.timing import current_clock

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@access(Access.PUBLIC)
def healthz():  # type: ignore[no-untyped-def]
    """Answer 200 with the scheduler's last beat if the database answers, else 503."""
    try:
        db.session().execute(text("SELECT 1"))
        jobs = job_status(db.session())
    except SQLAlchemyError:
        return jsonify(status="error", database="unreachable"), 503
    now = current_clock().now()
    return jsonify(
        status="ok",
        database="ok",
        jobs={
            job.name: {
                "last_run_at": job.last_run_at.isoformat() if job.last_run_at else None,
                "seconds_ago": round((now - job.last_run_at).total_seconds())
                if job.last_run_at
                else None,
                "last_error": job.last_error,
            }
            for job in jobs
        },
    )


def init_app(app: Flask) -> None:
    """Register the health check."""
    app.register_blueprint(bp)
