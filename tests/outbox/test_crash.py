"""Crash safety: a real `campaign worker` process, killed with SIGKILL mid-batch, restarted."""

from __future__ import annotations

import signal
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.network.models import Campaign
from campaign.outbox.models import Message, MessageState
from tests.conftest import Network
from tests.outbox_helpers import queue_plain, wait_until, worker_process
from tests.smtp import Sink, smtp_server

COUNT = 1500


def test_sigkill_mid_batch_loses_nothing(
    app: Flask, session: Session, network: Network, database_url: str, tmp_path: Path
) -> None:
    session.get(Campaign, network.campaign.id).rate_limit_per_minute = None
    queue_plain(session, COUNT, network.campaign.id, datetime.now(UTC) - timedelta(minutes=1))
    session.commit()
    queued_ids = set(session.scalars(select(Message.message_id)))
    sink = Sink(delay=0.002)  # slow enough that the kill lands in the middle of the work
    with smtp_server(sink) as port:
        first = worker_process(database_url, port, tmp_path, "first")
        assert wait_until(lambda: len(sink.received) >= 300, 60), (
            tmp_path / "first.log"
        ).read_text()
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        at_kill = len(sink.received)
        assert at_kill < COUNT
        second = worker_process(database_url, port, tmp_path, "second")
        try:

            def all_sent() -> bool:
                session.expire_all()
                return (
                    session.scalar(select(func.count()).where(Message.state == MessageState.SENT))
                    == COUNT
                )

            assert wait_until(all_sent, 90), (tmp_path / "second.log").read_text()
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(10)
    received = Counter(sink.message_ids())
    assert set(received) == queued_ids  # every message arrived, nothing else did
    duplicates = {mid: n for mid, n in received.items() if n > 1}
    # Resent only what was in flight at the kill (at most two messages: one on the wire, one
    # answered but not yet recorded), each with its own, unchanged Message-ID.
    assert sum(duplicates.values()) - len(duplicates) <= 2, duplicates
