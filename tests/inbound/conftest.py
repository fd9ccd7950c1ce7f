"""Fixtures of the inbound tests: receive a sample file, and send through the real dispatcher
(so that each mail's envelope sender is the VERP address a bounce comes back to)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from campaign.inbound.receive import receive
from campaign.outbox.dispatch import dispatch, settings_from_config
from campaign.outbox.inbound import InboundMessage
from campaign.outbox.outcomes import Report
from campaign.outbox.policy import policy_of
from campaign.timing import clock_of

SAMPLES = Path(__file__).parent.parent / "data" / "inbound"


def sample(name: str, **fill: str) -> bytes:
    """Return a sample message's bytes, each `{key}` replaced by its value."""
    data = (SAMPLES / name).read_bytes()
    for key, value in fill.items():
        data = data.replace(b"{" + key.encode() + b"}", value.encode())
    return data


@pytest.fixture
def receive_bytes(app: Flask, session: Session) -> Callable[..., InboundMessage]:
    """Receive raw bytes as the pipe would, at the test clock's now."""

    def received(
        raw: bytes, envelope_to: str | None = None, complete: bool = True
    ) -> InboundMessage:
        with app.app_context():
            now = clock_of(app).now()
            return receive(
                session, raw, now, source="pipe", envelope_to=envelope_to, complete=complete
            )

    return received


@pytest.fixture
def receive_file(receive_bytes: Callable[..., InboundMessage]) -> Callable[..., InboundMessage]:
    """Receive tests/data/inbound/<name>, its placeholders filled in."""

    def received(name: str, envelope_to: str | None = None, **fill: str) -> InboundMessage:
        return receive_bytes(sample(name, **fill), envelope_to)

    return received


@pytest.fixture
def send_due(app: Flask, session: Session, sink) -> Callable[[], Report]:  # type: ignore[no-untyped-def]
    """Send what is due through the real dispatcher, configured as the app is, to the sink."""
    _server, transport = sink

    def sent() -> Report:
        with app.app_context():
            settings = settings_from_config(app.config)
            return dispatch(session, clock_of(app).now(), transport, settings, policy_of(app))

    return sent
