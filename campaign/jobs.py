"""The jobs: the fixed table of periodic jobs that APScheduler ticks, and how each one runs.

The database says what is due; APScheduler only ticks. Each job is a plain function of a
session and `now`, runs under a database lease so that it runs at most once at a time across
processes, and can be run by hand with `campaign tick --now ...`.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import String, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from campaign.db import Base, open_session
from campaign.timing import current_clock

log = logging.getLogger(__name__)


class JobLease(Base):
    """Which process runs a job now, until when, and how its last run went."""

    __tablename__ = "job_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    lease_until: Mapped[datetime]
    last_run_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(1000))


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: int
    run: Callable[[Session, datetime], object]
    doc: str
    # Exclusive jobs run in one process at a time; the others are safe to run side by side.
    exclusive: bool = True


def _dispatch(db_session: Session, now: datetime) -> object:
    from campaign.outbox.dispatch import dispatch_due

    return dispatch_due(db_session, now)


def _materialize(db_session: Session, now: datetime) -> object:
    from campaign.drip.materialize import materialize

    return materialize(db_session, now)


def _materialize_everyone(db_session: Session, now: datetime) -> object:
    from campaign.drip.materialize import materialize

    return materialize(db_session, now, everyone=True)


def _reminders(db_session: Session, now: datetime) -> object:
    from campaign.events.invitations import queue_reminders

    return queue_reminders(db_session, now)


def _invitations(db_session: Session, now: datetime) -> object:
    from campaign.events.fanout import run_due

    return run_due(db_session, now)


def _questionnaires(db_session: Session, now: datetime) -> object:
    from campaign.surveys.service import queue_questionnaires

    return queue_questionnaires(db_session, now)


def _housekeeping(db_session: Session, now: datetime) -> object:
    from campaign.accounts.throttle import forget_old
    from campaign.enrolment.importing import tidy
    from campaign.enrolment.joining import forget_expired
    from campaign.outbox.queue import expire_old, forget_sealed

    return {
        "expired": expire_old(db_session, now),
        "imports_tidied": tidy(db_session, now),
        "login_attempts_dropped": forget_old(db_session, now),
        "join_requests_dropped": forget_expired(db_session, now),
        "sealed_mail_emptied": forget_sealed(db_session, now),
    }


JOBS: tuple[Job, ...] = (
    Job("materialize", 30, _materialize, "Queue the sequence steps that have come due."),
    Job(
        "materialize_sweep",
        3600,
        _materialize_everyone,
        "Look at every participant's sequence once an hour (and at start), not only the due.",
    ),
    Job("reminders", 60, _reminders, "Queue reminders of events that have come due."),
    Job(
        "invitations",
        5,
        _invitations,
        "Queue the calendar mail of large invitations, changes and cancellations, in batches.",
    ),
    Job("questionnaires", 60, _questionnaires, "Queue questionnaires and their reminders."),
    Job("dispatch", 5, _dispatch, "Send due mail from the outbox.", exclusive=False),
    Job(
        "housekeeping",
        300,
        _housekeeping,
        "Give up mail undelivered for five days; drop stale imports, join requests, sent links.",
    ),
)

HOLDER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def acquire_lease(
    db_session: Session, name: str, now: datetime, ttl: timedelta, holder: str = HOLDER
) -> bool:
    """Take or renew the lease of job `name` for `holder`; False if another holds it."""
    until = now + ttl
    result = db_session.execute(
        update(JobLease)
        .where(JobLease.name == name)
        .where(or_(JobLease.holder == holder, JobLease.lease_until < now))
        .values(holder=holder, lease_until=until)
    )
    if result.rowcount == 1:
        return True
    if db_session.get(JobLease, name) is not None:
        return False
    try:
        with db_session.begin_nested():
            db_session.add(JobLease(name=name, holder=holder, lease_until=until))
    except IntegrityError:  # another process created it first
        return False
    return True


def run_job(app: Flask, job: Job, now: datetime | None = None) -> bool:
    """Run one job under its lease and record the outcome; False if another process has it."""
    with app.app_context(), open_session(app) as db_session:
        now = now or current_clock().now()
        ttl = timedelta(seconds=max(60, job.every_seconds * 3))
        if job.exclusive and not acquire_lease(db_session, job.name, now, ttl):
            db_session.rollback()
            return False
        if not job.exclusive:
            _ensure_row(db_session, job.name, now)
        db_session.commit()
        error = None
        try:
            job.run(db_session, now)
            db_session.commit()
        except Exception as exc:  # a failing job must not stop the clock; it is recorded
            db_session.rollback()
            log.exception("job %s failed", job.name)
            error = f"{type(exc).__name__}: {exc}"[:1000]
        db_session.execute(
            update(JobLease)
            .where(JobLease.name == job.name)
            .values(last_run_at=now, last_error=error)
        )
        db_session.commit()
        return error is None


def _ensure_row(db_session: Session, name: str, now: datetime) -> None:
    """Give a non-exclusive job a row to record its runs in (it takes no lease)."""
    if db_session.get(JobLease, name) is None:
        try:
            with db_session.begin_nested():
                db_session.add(JobLease(name=name, holder="(shared)", lease_until=now))
        except IntegrityError:
            pass


def tick(app: Flask, now: datetime | None = None) -> dict[str, bool]:
    """Run every job once, as the scheduler would; return which ran cleanly."""
    return {job.name: run_job(app, job, now) for job in JOBS}


def job_status(db_session: Session) -> list[JobLease]:
    """Return the lease rows, i.e. when each job last ran and how."""
    return list(db_session.scalars(select(JobLease).order_by(JobLease.name)))


def build_scheduler(app: Flask, *, blocking: bool):  # type: ignore[no-untyped-def]
    """Return an APScheduler scheduler with one interval job per entry of JOBS."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler_class = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = scheduler_class(timezone="UTC")
    for job in JOBS:
        scheduler.add_job(
            run_job,
            "interval",
            args=(app, job),
            seconds=job.every_seconds,
            id=job.name,
            name=job.name,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
        )
    return scheduler
