"""Crash safety: a real `campaign worker` process, killed with SIGKILL mid-batch, restarted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.network.models import Campaign
from campaign.outbox.models import Message, MessageState
from tests.conftest import Network
from tests.outbox_helpers import SENDER, queue_plain
from tests.smtp import Sink, smtp_server

COUNT = 1500


def _worker(database_url: str, port: int, tmp_path: Path, name: str) -> subprocess.Popen[bytes]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGN_")}
    environment.update(
        CAMPAIGN_DATABASE_URL=database_url,
        CAMPAIGN_SMTP_URL=f"smtp://127.0.0.1:{port}?starttls=off&timeout=5",
        CAMPAIGN_MAIL_FROM=SENDER,
        CAMPAIGN_SECRET_KEY="test-secret-key",
        CAMPAIGN_INSTANCE_PATH=str(tmp_path / "instance"),
        CAMPAIGN_DISPATCH_LEASE_SECONDS="2",
        CAMPAIGN_DISPATCH_BATCH="100",
    )
    log = (tmp_path / f"{name}.log").open("w")
    return subprocess.Popen(
        [sys.executable, "-m", "campaign", "worker"],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _wait(condition, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_sigkill_mid_batch_loses_nothing(
    app: Flask, session: Session, network: Network, database_url: str, tmp_path: Path
) -> None:
    session.get(Campaign, network.campaign.id).rate_limit_per_minute = None
    queue_plain(session, COUNT, network.campaign.id, datetime.now(UTC) - timedelta(minutes=1))
    session.commit()
    queued_ids = set(session.scalars(select(Message.message_id)))
    sink = Sink(delay=0.002)  # slow enough that the kill lands in the middle of the work
    with smtp_server(sink) as port:
        first = _worker(database_url, port, tmp_path, "first")
        assert _wait(lambda: len(sink.received) >= 300, 60), (tmp_path / "first.log").read_text()
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        at_kill = len(sink.received)
        assert at_kill < COUNT
        second = _worker(database_url, port, tmp_path, "second")
        try:

            def all_sent() -> bool:
                session.expire_all()
                return (
                    session.scalar(select(func.count()).where(Message.state == MessageState.SENT))
                    == COUNT
                )

            assert _wait(all_sent, 90), (tmp_path / "second.log").read_text()
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(10)
    received = Counter(sink.message_ids())
    assert set(received) == queued_ids  # every message arrived, nothing else did
    duplicates = {mid: n for mid, n in received.items() if n > 1}
    # Resent only what was in flight at the kill (at most two messages: one on the wire, one
    # answered but not yet recorded), each with its own, unchanged Message-ID.
    assert sum(duplicates.values()) - len(duplicates) <= 2, duplicates
