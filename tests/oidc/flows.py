"""Signing in through the test provider with the Flask test client, and what the tests read
afterwards: the audit, and why the service refused a sign-in (its log line)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from campaign.audit import AuditEvent
from tests.oidc.provider import through_provider

BASE = "http://127.0.0.1:5000"  # the service's address in the test client
UNVERIFIED = "Inloggningen med Testkommunens konto avvisades"
NO_ACCOUNT = "Det finns inget konto här för personen"


def start(client: FlaskClient) -> str:
    """Follow the sign-in link; return the provider's address the service sends one to."""
    answer = client.get("/login/sso")
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def callback(client: FlaskClient, login: str) -> str:
    """Start, sign `login` in at the provider and consent; return the service's callback path."""
    return through_provider(start(client), login, BASE)[len(BASE) :]


def sign_in_through(client: FlaskClient, login: str) -> TestResponse:
    """Sign `login` in through the provider; return the service's answer to the callback."""
    return client.get(callback(client, login))


def actions(session: Session) -> list[str]:
    """Return the audit's actions, oldest first."""
    session.expire_all()
    return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def events(session: Session, action: str) -> list[AuditEvent]:
    """Return the audit's events of one action, oldest first."""
    session.expire_all()
    query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    return list(session.scalars(query))


def refusal_logged(caplog: pytest.LogCaptureFixture) -> str:
    """Return the one line the service logged about the refused sign-in (the error's kind and
    text), and forget it: what proves which check refused it."""
    lines = [r.getMessage() for r in caplog.records if "Single sign-on refused" in r.getMessage()]
    caplog.clear()
    assert len(lines) == 1, lines
    return lines[0]
