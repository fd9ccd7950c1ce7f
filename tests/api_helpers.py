"""Tokens for API tests, and requests that carry them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from campaign.accounts.models import User
from campaign.api.tokens import issue
from tests.conftest import START


def token_for(
    session: Session, user: User, scopes: tuple[str, ...] = ("read", "write"), days: int = 30
) -> str:
    """Make a token for `user` with `scopes`, valid `days` from the test clock's START."""
    issued = issue(
        session, user, name="test", scopes=list(scopes),
        expires_at=START + timedelta(days=days), now=START,
    )  # fmt: skip
    session.commit()
    return issued.plaintext


def call(
    client: FlaskClient, method: str, url: str, token: str | None, **kwargs: Any
) -> TestResponse:
    """Send an API request with the token as a bearer token (none when None)."""
    headers = dict(kwargs.pop("headers", {}))
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return client.open(url, method=method, headers=headers, **kwargs)
