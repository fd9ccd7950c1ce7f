"""The jobs: the fixed table of periodic jobs that APScheduler ticks, and how each one runs.

The database says what is due; APScheduler only ticks. Each job is a plain function of a
session and `now`, runs under a database lease so that it runs at most once at a time across
processes, and can be run by hand with `campaign tick --now ...`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaign import timing
from campaign.db import open_session
from campaign.leases import HOLDER, SHARED, JobLease, acquire_lease, created

log = logging.getLogger(__name__)


class CannotRun(Exception):
    """A job could not do its work for a reason outside the service (a mail server down, a
    login refused); the message says it in a sentence, and the next run tries again."""


@dataclass(frozen=True)
class Job:
    """One periodic job: its name, how often it runs, what it runs, and what it does."""

    name: str
    every_seconds: int
    run: Callable[[Session, datetime], object]
    doc: str
    # Exclusive jobs run in one process at a time; the others are safe to run side by side.
    exclusive: bool = True


def _dispatch(db_session: Session, now: datetime) -> object:
    from campaign.outbox.dispatch import dispatch_due

    return dispatch_due(db_session, now)


def _webhooks(db_session: Session, now: datetime) -> object:
    from campaign.webhooks.delivery import deliver_due, settings_of

    return deliver_due(db_session, now, settings_of(current_app.config))


def _phases(db_session: Session, now: datetime) -> object:
    from campaign.webhooks.phases import tell_changes

    return tell_changes(db_session, now)


def _pauses(db_session: Session, now: datetime) -> object:
    from campaign.drip.pauses import resume_due

    return resume_due(db_session, now)


def _materialize(db_session: Session, now: datetime) -> object:
    from campaign.drip.materialize import materialize

    return materialize(db_session, now, checkpoint=checkpoint(db_session, "materialize"))


def _sweep(db_session: Session, now: datetime) -> object:
    from campaign.drip.sweep import sweep

    return sweep(db_session, now, checkpoint=checkpoint(db_session, "materialize_sweep"))


def _reminders(db_session: Session, now: datetime) -> object:
    from campaign.events.reminders import queue_reminders

    return queue_reminders(db_session, now)


def _invitations(db_session: Session, now: datetime) -> object:
    from campaign.events.fanout import run_due

    return run_due(db_session, now)


def _announcements(db_session: Session, now: datetime) -> object:
    from campaign.announcements.sending import run_due

    return run_due(db_session, now)


def _questionnaires(db_session: Session, now: datetime) -> object:
    from campaign.surveys.invitations import queue_questionnaires

    return queue_questionnaires(db_session, now)


def _housekeeping(db_session: Session, now: datetime) -> object:
    from campaign.accounts.throttle import forget_old
    from campaign.enrolment.holds import cancel_after_end
    from campaign.enrolment.importing import tidy
    from campaign.enrolment.joining import forget_expired
    from campaign.outbox.policy import policy_of
    from campaign.outbox.queue import expire_old, forget_sealed

    held = policy_of(current_app).held()  # a paused participant's mail waits for them
    return {
        "expired": expire_old(db_session, now, held),
        "imports_tidied": tidy(db_session, now),
        "login_attempts_dropped": forget_old(db_session, now),
        "join_requests_dropped": forget_expired(db_session, now),
        "sealed_mail_emptied": forget_sealed(db_session, now),
        "cancelled_after_end": cancel_after_end(db_session, now),
    }


def _imap(db_session: Session, now: datetime) -> object:
    from campaign.inbound.imap import read_mailbox

    return read_mailbox(db_session, now)


def _retention(db_session: Session, now: datetime) -> object:
    from campaign.retention.due import run_due

    return run_due(db_session, now)


JOBS: tuple[Job, ...] = (
    # Before materialize, so that a tick resumes the pauses that have ended and then queues.
    Job("pauses", 60, _pauses, "Resume the participants whose pause until a date has ended."),
    Job("materialize", 30, _materialize, "Queue the sequence steps that have come due."),
    Job(
        "materialize_sweep",
        3600,
        _sweep,
        "Look at the participants' sequences once an hour (and at start), not only the due: "
        "everyone's up to 50,000 participants, else a share of them in turn.",
    ),
    Job("reminders", 60, _reminders, "Queue reminders of events that have come due."),
    Job(
        "invitations",
        5,
        _invitations,
        "Queue the calendar mail of large invitations, changes and cancellations, in batches.",
    ),
    Job("announcements", 10, _announcements, "Queue the mail of announcements that are due."),
    Job("questionnaires", 60, _questionnaires, "Queue questionnaires and their reminders."),
    Job("dispatch", 2, _dispatch, "Send due mail from the outbox.", exclusive=False),
    # Before webhooks, so that a tick tells a change and sends it.
    Job(
        "phases",
        60,
        _phases,
        "Tell the campaigns' webhook receivers that their first day began or their last ended.",
    ),
    # Its own job and lease: a receiver that is slow or down never holds the mail up.
    Job("webhooks", 10, _webhooks, "Send the due webhook deliveries, signed, and retry failures."),
    Job(
        "housekeeping",
        300,
        _housekeeping,
        "Give up mail undelivered for five days; drop stale imports, join requests, sent links;"
        " cancel the participants' mail of campaigns that have ended.",
    ),
    Job(
        "imap",
        60,
        _imap,
        "Read the returned mail in the CAMPAIGN_IMAP_URL mailbox, if one is set: store each"
        " message, then move it to the handled or the kept folder.",
    ),
    Job(
        "retention",
        3600,
        _retention,
        "Warn the lead administrators 30 days before a campaign's personal data is purged;"
        " purge it once its retention has passed.",
    ),
)


def run_job(app: Flask, job: Job, now: datetime | None = None, *, release: bool = False) -> bool:
    """Run one job for `now` (the clock's by default) under its lease and record the outcome;
    False if another process has it.

    The lease keeps processes apart in real time, so it is taken, measured and (with `release`,
    for a one-off run) given back on the app's clock, whatever moment the job runs for.
    """
    clock = timing.clock_of(app)
    with app.app_context(), open_session(app) as db_session:
        now = now or clock.now()
        if not _take(db_session, job, clock.now()):
            db_session.rollback()
            return False
        db_session.commit()
        error = _run(db_session, job, now)
        _note_run(db_session, job, now, error)
        if release and job.exclusive:
            _release(db_session, job.name, clock.now())
        db_session.commit()
        return error is None


def checkpoint(db_session: Session, name: str) -> Callable[[], None]:
    """For a long exclusive job that works in chunks (a national campaign's first welcome
    mails take minutes): after a chunk, commit its work and renew the job's lease, so that
    the mail goes out while the job goes on, a failure loses one chunk, and no other process
    takes the job over as abandoned. Raises CannotRun if another process took it meanwhile."""
    job = next(j for j in JOBS if j.name == name)

    def commit_and_renew() -> None:
        now = timing.clock_of(current_app).now()
        if not acquire_lease(db_session, name, now, _ttl(job), HOLDER):
            db_session.rollback()
            raise CannotRun(f"another process took the job {name} over")
        db_session.commit()

    return commit_and_renew


def _ttl(job: Job) -> timedelta:
    """How long a run of `job` holds its lease without renewing it."""
    return timedelta(seconds=max(60, job.every_seconds * 3))


def _take(db_session: Session, job: Job, at: datetime) -> bool:
    """Take the lease of an exclusive job, or give a shared one its row; False if held."""
    if not job.exclusive:
        _ensure_row(db_session, job.name, at)
        return True
    return acquire_lease(db_session, job.name, at, _ttl(job), HOLDER)


def _run(db_session: Session, job: Job, now: datetime) -> str | None:
    """Run the job and commit; return what went wrong, if anything (it is rolled back)."""
    try:
        job.run(db_session, now)
        db_session.commit()
    except CannotRun as exc:  # foreseen, and said in a sentence: no traceback
        db_session.rollback()
        log.warning("job %s could not run: %s", job.name, exc)
        return str(exc)[:1000]
    except Exception as exc:  # a failing job must not stop the clock; it is recorded
        db_session.rollback()
        log.exception("job %s failed", job.name)
        return f"{type(exc).__name__}: {exc}"[:1000]
    return None


def _note_run(db_session: Session, job: Job, now: datetime, error: str | None) -> None:
    """Record that `job` ran for `now`, and what went wrong (None: nothing); not over the run
    of a process that took an exclusive job over from this one meanwhile."""
    statement = update(JobLease).where(JobLease.name == job.name)
    if job.exclusive:
        statement = statement.where(JobLease.holder == HOLDER)
    db_session.execute(statement.values(last_run_at=now, last_error=error))


def _release(db_session: Session, name: str, at: datetime) -> None:
    """Give this process's lease of job `name` back, so that a scheduler may take it at once."""
    db_session.execute(
        update(JobLease)
        .where(JobLease.name == name, JobLease.holder == HOLDER)
        .values(lease_until=at)
    )


def _ensure_row(db_session: Session, name: str, now: datetime) -> None:
    """Give a non-exclusive job a row to record its runs in (it takes no lease)."""
    if db_session.get(JobLease, name) is None:
        created(db_session, name, now, SHARED)  # False: another process created it first


class SchedulerRunning(Exception):
    """A run for a moment in the future was refused because a scheduler is running."""


def tick(app: Flask, now: datetime | None = None) -> dict[str, bool]:
    """Run every job once for `now`, as the scheduler would, giving each lease back after;
    return which ran cleanly.

    Raises SchedulerRunning for a `now` later than the clock's while a scheduler holds a lease:
    the jobs would send mail ahead of time beside the live ones, and /healthz would report runs
    that have not happened.
    """
    if now is not None:
        _refuse_the_future_beside_a_scheduler(app, now)
    return {job.name: run_job(app, job, now, release=True) for job in JOBS}


def _refuse_the_future_beside_a_scheduler(app: Flask, now: datetime) -> None:
    """Raise SchedulerRunning if `now` is later than the clock's while a scheduler runs."""
    present = timing.clock_of(app).now()
    if now <= present:
        return
    with open_session(app) as db_session:
        live = live_lease(db_session, present)
    if live is not None:
        raise SchedulerRunning(_running(live))


def _running(live: JobLease) -> str:
    """Say which scheduler holds which job, and what to do instead."""
    return (
        f"A scheduler is running ({live.holder} holds the {live.name} job until"
        f" {live.lease_until:%Y-%m-%d %H:%M:%S} UTC), so a run for a later moment would"
        " send mail ahead of time beside it. Stop `campaign serve` and `campaign worker`"
        " first, or leave out --now."
    )


def live_lease(db_session: Session, at: datetime) -> JobLease | None:
    """Return a lease another process holds at `at` (a sign that a scheduler runs), if any."""
    return db_session.scalars(
        select(JobLease)
        .where(JobLease.holder.not_in((HOLDER, SHARED)), JobLease.lease_until > at)
        .order_by(JobLease.name)
        .limit(1)
    ).first()


def job_status(db_session: Session) -> list[JobLease]:
    """Return the lease rows, i.e. when each job last ran and how."""
    return list(db_session.scalars(select(JobLease).order_by(JobLease.name)))


def build_scheduler(
    app: Flask, *, blocking: bool, only: frozenset[str] = frozenset()
) -> Any:  # APScheduler 3 has no types
    """Return an APScheduler scheduler with one interval job per entry of JOBS (only those
    named in `only`, when it names any)."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler_class = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = scheduler_class(timezone="UTC")
    for job in JOBS:
        if not only or job.name in only:
            _schedule(scheduler, app, job)
    return scheduler


def _schedule(scheduler: Any, app: Flask, job: Job) -> None:
    """Add the job to the scheduler: every so many seconds, the first run at once, never two
    runs of it at a time, and missed runs made up by one."""
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
