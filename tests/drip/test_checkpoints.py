"""A long materialize run commits chunk by chunk under a lease it renews (campaign/jobs.py).

At a million participants the first welcome mails take minutes to queue; the run commits each
chunk, so the workers send while it goes on and a failure loses one chunk, and renews its lease
each time, so that no other process takes it over as abandoned.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaign import db, jobs, timing
from campaign.drip import materialize as module
from campaign.jobs import JobLease, run_job
from campaign.outbox.models import Message
from tests.conftest import Network
from tests.enrolment_helpers import followers

WELCOME = datetime(2014, 6, 19, 6, 30, tzinfo=UTC)  # step 01 of someone starting 19 June 2014
JOB = next(job for job in jobs.JOBS if job.name == "materialize")


@pytest.fixture
def chunks_of_two(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """Read the participants two at a time; return the chunks the runs read, as they go."""
    read: list[list[int]] = []
    original = module.enrolled

    def two_at_a_time(*args: Any, **kwargs: Any) -> list[module.Enrolled]:
        people = original(*args, **{**kwargs, "limit": 2})
        if people:
            read.append([p.participant.id for p in people])
        return people

    monkeypatch.setattr(module, "enrolled", two_at_a_time)
    return read


def _before_each_chunk(monkeypatch: pytest.MonkeyPatch, act: Callable[[int], None]) -> None:
    """Call `act` with the chunk's number (1, 2, ...) before each chunk is materialized."""
    original, count = module._materialize_chunk, [0]

    def acting(*args: Any) -> int:
        count[0] += 1
        act(count[0])
        return original(*args)

    monkeypatch.setattr(module, "_materialize_chunk", acting)


def _welcomed(app: Flask) -> set[int]:
    """Who has a welcome mail, as another process sees it (committed)."""
    with db.open_session(app) as other:
        query = select(Message.participant_id).where(Message.source_key.like("%/01"))
        return set(other.scalars(query))


def _lease(app: Flask) -> JobLease:
    with db.open_session(app) as other:
        lease = other.get(JobLease, JOB.name)
        assert lease is not None
        other.expunge(lease)
        return lease


def test_each_chunk_is_committed_and_a_failure_loses_only_its_own(
    app: Flask,
    session: Session,
    network: Network,
    chunks_of_two: list[list[int]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    people = followers(session, network, 5, date(2014, 6, 19))
    seen: list[set[int]] = []

    def fail_third(number: int) -> None:
        seen.append(_welcomed(app))  # what the workers could send by then
        if number == 3:
            raise RuntimeError("the third chunk breaks")

    _before_each_chunk(monkeypatch, fail_third)
    assert not run_job(app, JOB, WELCOME)
    assert seen == [set(), set(people[:2]), set(people[:4])]
    assert _welcomed(app) == set(people[:4])  # the first two chunks stay queued
    assert "the third chunk breaks" in (_lease(app).last_error or "")
    monkeypatch.undo()
    assert run_job(app, JOB, WELCOME + timedelta(seconds=30))
    assert _welcomed(app) == set(people)  # the next run queues the rest, nothing twice
    assert _lease(app).last_error is None


def test_the_lease_is_renewed_at_each_chunk(
    app: Flask,
    session: Session,
    network: Network,
    chunks_of_two: list[list[int]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    people = followers(session, network, 5, date(2014, 6, 19))
    clock = timing.clock_of(app)
    assert isinstance(clock, timing.FixedClock)
    started = clock.now()
    _before_each_chunk(monkeypatch, lambda _number: clock.advance(timedelta(seconds=80)))
    assert run_job(app, JOB, WELCOME)
    assert len(chunks_of_two) == 3
    # Three chunks of 80 s each: a lease of 90 s taken at the start had run out after the
    # second; each chunk renewed it for 90 s from its end.
    assert _lease(app).lease_until == started + timedelta(seconds=240 + 90)
    assert _welcomed(app) == set(people)


def test_a_run_whose_job_another_process_took_over_stops(
    app: Flask,
    session: Session,
    network: Network,
    chunks_of_two: list[list[int]],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    people = followers(session, network, 5, date(2014, 6, 19))
    clock = timing.clock_of(app)

    def taken_over_before_the_second(number: int) -> None:
        if number == 2:  # the lease ran out while the first chunk was long, and was taken
            with db.open_session(app) as other:
                other.execute(
                    update(JobLease)
                    .where(JobLease.name == JOB.name)
                    .values(holder="elsewhere:1", lease_until=clock.now() + timedelta(hours=1))
                )
                other.commit()

    _before_each_chunk(monkeypatch, taken_over_before_the_second)
    assert not run_job(app, JOB, WELCOME)
    assert _welcomed(app) == set(people[:2])  # the second chunk was rolled back
    assert "another process took the job materialize over" in caplog.text
    lease = _lease(app)
    assert lease.holder == "elsewhere:1"
    assert lease.last_error is None  # the row is the other process's now: its runs, not ours
