"""Scale-out on PostgreSQL: several real `campaign worker` processes share one outbox.

Claims take their rows with SELECT ... FOR UPDATE SKIP LOCKED, so no two workers ever hold the
same message; these tests count Message-IDs at a real SMTP server to prove it.
"""

from __future__ import annotations

import bisect
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign import db
from campaign.enrolment.holds import ParticipantHolds
from campaign.network.models import Campaign
from campaign.outbox.claims import claim
from campaign.outbox.dispatch import Settings, dispatch
from campaign.outbox.models import Message, MessageState
from campaign.outbox.outcomes import Report
from campaign.outbox.transports import SMTPTransport
from tests.conftest import Network
from tests.outbox_helpers import SENDER, queue_plain, wait_until, worker_process
from tests.pg import server_url
from tests.smtp import Sink, smtp_server

LATENCY = 0.004

pytestmark = pytest.mark.skipif(
    not server_url(), reason="several workers share an outbox on PostgreSQL only"
)


@contextmanager
def workers(
    count: int, database_url: str, port: int, folder: Path, name: str
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Run `count` worker processes for the duration of the block, then stop them."""
    processes = [worker_process(database_url, port, folder, f"{name}-{n}") for n in range(count)]
    try:
        yield processes
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()


def _logs(folder: Path) -> str:
    return "\n".join(f"== {log.name}\n{log.read_text()[-2000:]}" for log in folder.glob("*.log"))


def _sent(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).where(Message.state == MessageState.SENT))  # type: ignore[return-value]


def _rate(received: list) -> float:  # type: ignore[type-arg]
    """Messages per second between the first and the last arrival."""
    times = sorted(r.at for r in received)
    return (len(times) - 1) / (times[-1] - times[0])


def _queue(session: Session, network: Network, count: int, prefix: str) -> set[str]:
    session.get(Campaign, network.campaign.id).rate_limit_per_minute = None
    queue_plain(
        session, count, network.campaign.id, datetime.now(UTC) - timedelta(minutes=1), prefix
    )
    session.commit()
    return set(
        session.scalars(select(Message.message_id).where(Message.source_key.like(f"{prefix}:%")))
    )


def test_four_workers_deliver_20000_exactly_once_and_faster_than_one(
    app: Flask, session: Session, network: Network, database_url: str, tmp_path: Path
) -> None:
    # Each answer takes 4 ms, as a real relay's does: one worker waits for it, four overlap.
    solo_ids = _queue(session, network, 2000, "solo")
    solo_sink = Sink(latency=LATENCY)
    with smtp_server(solo_sink) as port, workers(1, database_url, port, tmp_path, "solo"):
        assert wait_until(lambda: _sent(session) == 2000, 120), _logs(tmp_path)
    assert Counter(solo_sink.message_ids()) == Counter(solo_ids)
    one_worker = _rate(solo_sink.received)

    queued_ids = _queue(session, network, 20_000, "many")
    sink = Sink(latency=LATENCY)
    with smtp_server(sink) as port, workers(4, database_url, port, tmp_path, "many"):
        assert wait_until(lambda: _sent(session) == 22_000, 300), _logs(tmp_path)
    received = Counter(sink.message_ids())
    assert set(received) == queued_ids  # every message arrived, and nothing else
    assert all(n == 1 for n in received.values()), received.most_common(3)  # exactly once
    four_workers = _rate(sink.received)
    print(f"one worker {one_worker:.0f} msg/s, four workers {four_workers:.0f} msg/s")
    assert four_workers > one_worker


def test_killing_one_of_four_workers_mid_batch_loses_nothing(
    app: Flask, session: Session, network: Network, database_url: str, tmp_path: Path
) -> None:
    queued_ids = _queue(session, network, 6000, "kill")
    sink = Sink(delay=0.001)  # slow enough that the kill lands in the middle of the work
    with smtp_server(sink) as port, workers(4, database_url, port, tmp_path, "kill") as running:
        assert wait_until(lambda: len(sink.received) >= 1500, 120), _logs(tmp_path)
        running[0].send_signal(signal.SIGKILL)
        running[0].wait(10)
        assert len(sink.received) < 6000
        # The victim's leased batch (2 s lease in these workers) passes to the other three.
        assert wait_until(lambda: _sent(session) == 6000, 180), _logs(tmp_path)
    received = Counter(sink.message_ids())
    assert set(received) == queued_ids
    duplicates = {mid: n for mid, n in received.items() if n > 1}
    # Only what the victim had in flight is sent again: at most two, each with its Message-ID.
    assert sum(duplicates.values()) - len(duplicates) <= 2, duplicates
    session.expire_all()
    assert not session.scalar(select(func.count()).where(Message.state != MessageState.SENT))


def test_four_workers_keep_to_the_campaigns_rate_limit_together(
    app: Flask, session: Session, network: Network, database_url: str, tmp_path: Path
) -> None:
    _queue(session, network, 1000, "limited")
    session.get(Campaign, network.campaign.id).rate_limit_per_minute = 150
    session.commit()
    sink = Sink(latency=LATENCY)
    with smtp_server(sink) as port, workers(4, database_url, port, tmp_path, "limited"):
        assert wait_until(lambda: len(sink.received) >= 100, 60), _logs(tmp_path)
        time.sleep(12)  # each worker has had two more turns, and each found the minute used up
    received = Counter(sink.message_ids())
    assert all(n == 1 for n in received.values()), received.most_common(3)
    # The limit is per sliding minute: on a busy machine the first minute may have ended, and
    # more gone out, by the time the test looks. No minute may hold more than 150.
    session.expire_all()
    went = sorted(session.scalars(select(Message.sent_at).where(Message.sent_at.is_not(None))))
    assert len(went) >= 150 and len(received) == len(went)  # it went on to the limit
    minute = timedelta(minutes=1)
    busiest = max(bisect.bisect_left(went, at + minute) - n for n, at in enumerate(went))
    assert busiest == 150, busiest  # not 4 x 150, nor 4 x a batch


def test_a_batch_held_up_past_its_lease_is_not_sent_twice(
    app: Flask, session: Session, network: Network
) -> None:
    # A dispatcher that waited for the rate-limit lock longer than half its lease renews it
    # before the first send, and leaves what another worker took as abandoned to that one.
    _queue(session, network, 20, "held")
    campaign = session.get(Campaign, network.campaign.id)
    campaign.rate_limit_per_minute = 1000
    session.commit()
    now, lease = datetime.now(UTC), timedelta(seconds=2)
    settings = Settings(sender=SENDER, batch_size=50, lease=lease)
    sink, reports = Sink(), []
    with smtp_server(sink) as port, db.open_session(app) as locker, db.open_session(app) as other:
        transport = SMTPTransport.from_url(f"smtp://127.0.0.1:{port}?starttls=off&timeout=5")
        locker.execute(select(Campaign.id).with_for_update())  # another worker counting
        with app.app_context():
            worker = threading.Thread(
                target=lambda: reports.append(_dispatch(app, now, transport, settings))
            )
            worker.start()
            assert wait_until(lambda: _sending(other) == 20, 10)  # claimed, now at the lock
            time.sleep(lease.total_seconds() / 2 + 0.2)
            taken = claim(other, now + 2 * lease, 50, lease, ParticipantHolds())
            locker.commit()
            worker.join(30)
    assert len(taken) == 20  # the lease had run out, so another worker took the batch ...
    assert reports[0].sent == 0 and not sink.received  # ... and this one left it to it


def _dispatch(app: Flask, now: datetime, transport: SMTPTransport, settings: Settings) -> Report:
    with app.app_context(), db.open_session(app) as db_session:
        return dispatch(db_session, now, transport, settings, ParticipantHolds())


def _sending(db_session: Session) -> int:
    db_session.rollback()  # a new snapshot
    query = select(func.count()).where(Message.state == MessageState.SENDING)
    return db_session.scalar(query)  # type: ignore[return-value]
