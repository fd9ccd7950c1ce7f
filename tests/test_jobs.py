"""The jobs: injected time, jobs under a database lease, `campaign tick`, and /healthz."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign import jobs
from campaign.jobs import Job, JobLease, acquire_lease, run_job
from campaign.outbox.models import Message, MessageState
from campaign.timing import FixedClock, clock_of
from tests.conftest import START, Network, Runner
from tests.outbox_helpers import participant, queue_welcome

T0 = datetime(2014, 10, 26, 0, 30, tzinfo=UTC)
TTL = timedelta(seconds=60)


def test_lease_is_held_by_one_process_until_it_expires(session: Session) -> None:
    assert acquire_lease(session, "dispatch", T0, TTL, holder="web-1")
    session.commit()
    assert not acquire_lease(session, "dispatch", T0 + timedelta(seconds=30), TTL, holder="wrk-2")
    assert acquire_lease(session, "dispatch", T0 + timedelta(seconds=30), TTL, holder="web-1")
    session.commit()  # renewed until T0 + 90 s
    assert not acquire_lease(session, "dispatch", T0 + timedelta(seconds=89), TTL, holder="wrk-2")
    assert acquire_lease(session, "dispatch", T0 + timedelta(seconds=91), TTL, holder="wrk-2")
    session.commit()
    lease = session.get(JobLease, "dispatch")
    assert lease is not None and lease.holder == "wrk-2"


def test_job_runs_with_the_injected_now_and_records_failures(app: Flask, session: Session) -> None:
    seen: list[datetime] = []
    ok = Job("probe", 5, lambda _s, now: seen.append(now), "test")
    broken = Job("broken", 5, lambda _s, now: 1 / 0, "test")
    assert run_job(app, ok, T0) is True
    assert run_job(app, broken, T0) is False
    assert seen == [T0]
    session.expire_all()
    assert session.get(JobLease, "probe").last_run_at == T0
    assert "ZeroDivisionError" in session.get(JobLease, "broken").last_error


def test_job_held_elsewhere_is_skipped(app: Flask, session: Session) -> None:
    acquire_lease(session, "probe", T0, TTL, holder="another-machine")
    session.commit()
    seen: list[datetime] = []
    assert run_job(app, Job("probe", 5, lambda _s, now: seen.append(now), "test"), T0) is False
    assert seen == []


def test_tick_command_and_healthz(app: Flask, client: FlaskClient, runner: Runner) -> None:
    result = runner.invoke("tick", "--now", "2014-10-26T02:30:00+01:00")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "pauses: ok",
        "materialize: ok",
        "materialize_sweep: ok",
        "reminders: ok",
        "invitations: ok",
        "announcements: ok",
        "questionnaires: ok",
        "dispatch: ok",
        "phases: ok",
        "webhooks: ok",
        "housekeeping: ok",
        "imap: ok",
        "retention: ok",
    ]
    app.extensions["campaign.clock"] = FixedClock(datetime(2014, 10, 26, 1, 30, 12, tzinfo=UTC))
    health = client.get("/healthz").get_json()
    assert health["status"] == "ok" and health["database"] == "ok"
    assert health["jobs"]["dispatch"]["last_run_at"] == "2014-10-26T01:30:00+00:00"
    assert health["jobs"]["dispatch"]["seconds_ago"] == 12


def test_tick_rejects_a_bad_time(runner: Runner) -> None:
    result = runner.invoke("tick", "--now", "tomorrow")
    assert result.exit_code == 2 and "not an ISO date-time" in result.output


def test_healthz_reports_an_unreachable_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from campaign import create_app

    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path),
            "CAMPAIGN_DATABASE_URL": f"sqlite:///{tmp_path}/missing/dir/x.sqlite3",
        }
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "unreachable"}


def test_scheduler_has_one_interval_job_per_table_entry(app: Flask) -> None:
    scheduler = jobs.build_scheduler(app, blocking=False)
    scheduled = {job.id: job for job in scheduler.get_jobs()}
    assert set(scheduled) == {job.name for job in jobs.JOBS}
    assert all(job.max_instances == 1 and job.coalesce for job in scheduled.values())


def _beats(client: FlaskClient) -> dict[str, int]:
    """Seconds since each job's last run, as /healthz reports them."""
    health = client.get("/healthz").get_json()
    return {name: job["seconds_ago"] for name, job in health["jobs"].items()}


def test_a_tick_for_a_later_moment_sends_what_it_queues(
    app: Flask, session: Session, network: Network, runner: Runner
) -> None:
    later = START + timedelta(days=2)
    with app.app_context():
        queue_welcome(session, participant(session, network, "asa@alpha.se"), later)
        session.commit()
    result = runner.invoke("tick", "--now", (later + timedelta(minutes=1)).isoformat())
    assert result.exit_code == 0, result.output
    session.expire_all()
    sent = session.scalars(select(Message)).one()
    assert sent.state is MessageState.SENT and sent.sent_at == later + timedelta(minutes=1)


def test_a_tick_for_a_later_moment_is_refused_while_a_scheduler_runs(
    app: Flask, client: FlaskClient, session: Session, runner: Runner, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    with monkeypatch.context() as elsewhere:  # the live scheduler, another process
        elsewhere.setattr(jobs, "HOLDER", "worker-1")
        assert all(run_job(app, job) for job in jobs.JOBS)
    leases = {lease.name: (lease.holder, lease.lease_until) for lease in jobs.job_status(session)}
    result = runner.invoke("tick", "--now", (START + timedelta(hours=1)).isoformat())
    assert result.exit_code == 1
    assert "A scheduler is running (worker-1 holds the " in result.output
    assert "Stop `campaign serve` and `campaign worker` first, or leave out --now." in result.output
    session.expire_all()
    assert {
        lease.name: (lease.holder, lease.lease_until) for lease in jobs.job_status(session)
    } == (leases)
    assert set(_beats(client).values()) == {0}


def test_a_tick_for_a_later_moment_leaves_the_scheduler_free(
    app: Flask, client: FlaskClient, session: Session, runner: Runner, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke("tick", "--now", (START + timedelta(hours=1)).isoformat())
    assert result.exit_code == 0, result.output
    clock = clock_of(app)
    assert isinstance(clock, FixedClock)
    clock.advance(timedelta(seconds=10))
    monkeypatch.setattr(jobs, "HOLDER", "worker-1")  # the scheduler starts in another process
    assert {job.name: run_job(app, job) for job in jobs.JOBS} == dict.fromkeys(
        (job.name for job in jobs.JOBS), True
    )
    session.expire_all()
    assert {lease.holder for lease in jobs.job_status(session)} == {"worker-1", jobs.SHARED}
    assert set(_beats(client).values()) == {0}
