"""Every use of a real API token is audited, admitted or refused, and never the token itself;
an unknown token is logged and rate-limited per client, not audited (anyone could send one)."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import cast

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign import timing
from campaign.api.auth import FAILURES_PER_MINUTE
from campaign.api.tokens import ApiToken, revoke
from campaign.audit import AuditEvent
from campaign.timing import FixedClock
from tests.api_helpers import call, token_for
from tests.conftest import START, Network, sign_in
from tests.urls import staff

ALPHA = "/api/v1/campaigns/test/members/alpha/participants"


def _events(session: Session) -> list[AuditEvent]:
    session.expire_all()
    return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def _unauthorized(response) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="campaign"'
    return cast(dict, response.get_json(force=True))


def test_a_request_beyond_the_scopes_is_refused_and_audited_with_the_scope_it_needed(
    client: FlaskClient, session: Session, network: Network
) -> None:
    token = token_for(session, network.rep_alpha, ("read",))
    refused = call(client, "POST", ALPHA, token, json={"name": "Ann", "email": "ann@alpha.se"})
    assert refused.status_code == 403
    (event,) = _events(session)
    assert event.action == "api.scope_refused" and event.actor_id == network.rep_alpha.id
    assert event.target == f"POST {ALPHA}"
    assert event.details["needed"] == "participants:write"
    assert event.organisation_id == network.alpha.id
    row = session.scalars(select(ApiToken)).one()
    assert event.details["token"] == row.id and row.last_used_at == START
    assert token not in json.dumps(event.details) + event.target


@pytest.mark.parametrize("why", ["token revoked", "token expired", "account disabled"])
def test_a_token_that_no_longer_works_is_audited_and_answered_as_an_unknown_one(
    app: Flask, client: FlaskClient, session: Session, network: Network, why: str
) -> None:
    token = token_for(session, network.rep_alpha, days=30)
    row = session.scalars(select(ApiToken)).one()
    if why == "token revoked":
        revoke(row, START)
    elif why == "account disabled":
        network.rep_alpha.is_enabled = False
    else:
        cast(FixedClock, timing.clock_of(app)).advance(timedelta(days=31))
    session.commit()
    refused = _unauthorized(call(client, "GET", ALPHA, token))
    unknown = _unauthorized(call(client, "GET", ALPHA, "cmp_" + "x" * 43))
    assert refused == unknown  # nothing tells the caller the token exists
    (event,) = _events(session)  # the unknown one left no row
    assert event.action == "api.token_refused" and event.actor_id == network.rep_alpha.id
    assert event.details == {"token": row.id, "name": "test", "reason": why}
    assert event.target == f"GET {ALPHA}"
    session.refresh(row)
    assert row.last_used_at is None  # "last used" is a use that worked


def test_unknown_tokens_are_logged_without_the_token_and_limited_per_client(
    client: FlaskClient,
    session: Session,
    network: Network,
    caplog: pytest.LogCaptureFixture,
) -> None:
    good = token_for(session, network.rep_alpha)
    guess = "cmp_guessed-token-0123456789"
    with caplog.at_level(logging.WARNING, logger="campaign.api.auth"):
        answers = [call(client, "GET", ALPHA, guess) for _ in range(FAILURES_PER_MINUTE + 2)]
    assert [a.status_code for a in answers] == [401] * FAILURES_PER_MINUTE + [429, 429]
    assert answers[-1].get_json(force=True)["code"] == "rate_limited"
    assert answers[-1].headers["Retry-After"] == "60"
    lines = [r.getMessage() for r in caplog.records if r.name == "campaign.api.auth"]
    assert len(lines) == FAILURES_PER_MINUTE  # the log is bounded too
    assert all("unknown token" in line and guess not in line for line in lines)
    assert _events(session) == []  # a guess names no account: no audit row
    assert call(client, "GET", ALPHA, good).status_code == 200  # a working token still works
    other = client.application.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.7"  # the limit is the client's
    assert call(other, "GET", ALPHA, guess).status_code == 401


def test_a_refused_token_counts_as_a_failure_of_its_client_too(
    client: FlaskClient, session: Session, network: Network
) -> None:
    token = token_for(session, network.rep_alpha)
    revoke(session.scalars(select(ApiToken)).one(), START)
    session.commit()
    for _ in range(FAILURES_PER_MINUTE):
        call(client, "GET", ALPHA, "cmp_guess")
    # Over the limit a revoked token gets the 429 an unknown one gets, and is still audited.
    assert call(client, "GET", ALPHA, token).status_code == 429
    assert [e.action for e in _events(session)] == ["api.token_refused"]


def test_every_kind_of_use_reads_in_words_in_the_audit_log_and_never_shows_the_token(
    client: FlaskClient, session: Session, network: Network
) -> None:
    token = token_for(session, network.rep_alpha, ("read",))
    call(client, "GET", ALPHA, token)
    call(client, "POST", ALPHA, token, json={"name": "Ann", "email": "ann@alpha.se"})
    revoke(session.scalars(select(ApiToken)).one(), START)
    session.commit()
    call(client, "GET", ALPHA, token)
    actions = [e.action for e in _events(session)]
    assert actions == ["api.request", "api.scope_refused", "api.token_refused"]
    sign_in(client, network.lead.email)
    log = client.get(staff("/network/audit")).get_data(as_text=True)
    assert "<td>Använde API:t</td>" in log
    assert "Nekades av API:t: tokenens behörigheter tillåter det inte" in log
    assert "Nekades av API:t: tokenen fungerar inte längre" in log
    assert "Varför: tokenen var återkallad" in log
    assert token not in log and token[4:] not in log
