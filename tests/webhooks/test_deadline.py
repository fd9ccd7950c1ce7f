"""A receiver that answers a few bytes at a time never holds the webhooks job past its timeout:
the timeout is a deadline for the whole exchange (tried against a real trickling server on
127.0.0.1), not a wait per read."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.webhooks.delivery import Settings, deliver_due
from campaign.webhooks.emit import emit
from campaign.webhooks.models import WebhookDelivery
from campaign.webhooks.sending import post
from tests.conftest import START, Network
from tests.webhook_helpers import subscription

ALLOWED = frozenset({"http", "private"})
BYTE_EVERY = 0.1  # seconds: far inside any per-read timeout


@contextmanager
def trickling_receiver(head: bytes, trickle: bytes, reads: bool = True) -> Iterator[str]:
    """Serve on 127.0.0.1: read the request (if `reads`), send `head` at once, then `trickle` a
    byte every BYTE_EVERY seconds (for 30 s at most); yield the receiver's URL."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def answer(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            request = b""
            while reads and b"\r\n\r\n" not in request:
                request += conn.recv(65536)
            conn.sendall(head)
            for byte in trickle[: int(30 / BYTE_EVERY)]:
                if stop.wait(BYTE_EVERY):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return  # the sender gave up: what the test wants

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/hook"
    finally:
        stop.set()
        listener.close()


def _timed_post(url: str, timeout: float) -> tuple[float, int | None, str]:
    started = time.monotonic()
    answer = post(url, b"{}", {}, timeout, ALLOWED)
    return time.monotonic() - started, answer.status, answer.error


def test_a_status_line_trickled_a_byte_at_a_time_is_cut_off_at_the_deadline() -> None:
    with trickling_receiver(b"", b"HTTP/1.1 200 OK\r\n" * 100) as url:
        took, status, error = _timed_post(url, 1.0)
    assert status is None and error == "No answer within 1 seconds."
    assert 0.9 <= took < 1.5


def test_headers_that_never_end_are_cut_off_at_the_deadline() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Slow: "
    with trickling_receiver(head, b"a" * 1000) as url:
        took, status, error = _timed_post(url, 2.0)
    assert status is None and error == "No answer within 2 seconds."
    assert 1.9 <= took < 2.5


def test_a_trickling_body_leaves_the_status_as_the_answer_at_the_deadline() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"
    with trickling_receiver(head, b"x" * 100000) as url:
        took, status, error = _timed_post(url, 1.0)
    assert (status, error) == (200, "")  # it answered 200; the body is not waited for
    assert 0.9 <= took < 1.5


def test_the_webhooks_job_is_held_no_longer_than_the_timeout(
    app: Flask, session: Session, network: Network
) -> None:
    with trickling_receiver(b"HTTP/1.1 2", b"00 OK\r\n" * 100) as url, app.app_context():
        subscription(session, network, network.alpha.id, url)
        data = {"participant_id": 7, "organisation_id": network.alpha.id, "pilot_group_id": None}
        emit(
            session, campaign_id=network.campaign.id, organisation_id=network.alpha.id,
            event_type="participant.enrolled", data=data, now=START,
        )  # fmt: skip
        session.commit()
        started = datetime.now().astimezone()
        settings = Settings(timeout=1.0, allowed=ALLOWED)
        assert deliver_due(session, START, settings) == {"retrying": 1}
        assert datetime.now().astimezone() - started < timedelta(seconds=1.8)
    session.expire_all()
    delivery = session.scalars(select(WebhookDelivery)).one()
    assert delivery.last_status is None and delivery.last_error == "No answer within 1 seconds."


def test_a_tls_handshake_trickled_a_byte_at_a_time_is_cut_off_at_the_deadline() -> None:
    # A TLS handshake record of 16 KB announced, then its bytes a tenth of a second apart.
    with trickling_receiver(b"", b"\x16\x03\x03\x40\x00" + b"\x00" * 1000, reads=False) as url:
        took, status, error = _timed_post(url.replace("http://", "https://"), 1.0)
    assert status is None and error == "No answer within 1 seconds."
    assert 0.9 <= took < 1.5
