"""Personal API tokens in the web UI: made on /account/tokens and shown once, listed, revoked
after a confirmation, audited; the lead administrator's view of the campaign's people's
tokens; a disabled account's tokens stop at once (proved through the API)."""

from __future__ import annotations

import logging
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.api.tokens import ApiToken, create, digest
from campaign.audit import AuditEvent
from campaign.outbox.models import Message
from tests.api_helpers import call, own_token_of
from tests.conftest import START, Network, SecondCampaign, csrf_token, sign_in
from tests.urls import staff

PAGE = "/account/tokens"
ALPHA = "/api/v1/campaigns/test/members/alpha/participants"
SHOWN = re.compile(r'id="new-token" class="token-value" value="(cmp_[\w-]+)"')


def _make(client: FlaskClient, **fields: object) -> str:
    """Send the form as a browser does; return the page of the answer."""
    data = {"csrf_token": csrf_token(client, PAGE), "name": "Intranätet", "days": "90",
            "scopes": ["read", "participants:write"], **fields}  # fmt: skip
    response = client.post(PAGE, data=data)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_data(as_text=True)


def _session_of(client: FlaskClient, value: str) -> str:
    """Return what a session cookie holds, decoded as Flask reads it."""
    app = client.application
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    return str(serializer.loads(value))


def test_a_token_is_made_shown_once_and_works(
    client: FlaskClient, session: Session, network: Network, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sign_in(client, network.rep_alpha.email)
    page = _make(client)
    plaintext = SHOWN.search(page).group(1)  # type: ignore[union-attr]
    assert "visas bara den här gången" in page  # the copy hint, in Swedish
    # Stored as a hash only, with the scopes and expiry chosen, and audited without the token.
    token = session.scalars(select(ApiToken)).one()
    assert token.secret_hash == digest(plaintext) and plaintext not in token.hint
    assert token.scopes == ["read", "participants:write"] and token.name == "Intranätet"
    assert (token.expires_at - token.created_at).days == 90
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "api_token.created"))
    made = event.one()
    assert made.actor_id == network.rep_alpha.id and made.target == f"api_token:{token.id}"
    assert plaintext not in str(made.details)
    # Not in the session cookie, nor in any mail; never again on the page.
    cookie = client.get_cookie("campaign_session")
    assert cookie is not None and plaintext not in _session_of(client, cookie.value)
    assert not any(plaintext in str(m.text_body) for m in session.scalars(select(Message)))
    assert plaintext not in caplog.text  # nor in any log line
    again = client.get(PAGE).get_data(as_text=True)
    assert plaintext not in again and token.hint in again and "Intranätet" in again
    assert "Deltagare: läsa och ändra" in again and "Allt: läsa" in again
    # It works through the API, as Alpha's representative.
    assert call(client, "GET", ALPHA, plaintext).status_code == 200


def test_bad_input_is_named_and_makes_nothing(
    client: FlaskClient, session: Session, network: Network
) -> None:
    sign_in(client, network.rep_alpha.email)
    page = _make(client, name="", scopes=[])
    assert "Välj minst en sak som tokenen får göra." in page
    assert 'aria-invalid="true"' in page and "new-token" not in page
    page = _make(client, scopes=["everything:please"], days="9999")
    assert "new-token" not in page and "field-error" in page
    assert session.scalars(select(ApiToken)).all() == []


def test_revoking_asks_first_then_stops_the_token(
    client: FlaskClient, session: Session, network: Network
) -> None:
    sign_in(client, network.rep_alpha.email)
    plaintext = SHOWN.search(_make(client)).group(1)  # type: ignore[union-attr]
    token = session.scalars(select(ApiToken)).one()
    url = f"/account/tokens/{token.id}/revoke"
    asked = client.post(url, data={"csrf_token": csrf_token(client, PAGE)})
    assert asked.status_code == 200 and "Återkalla tokenen Intranätet" in asked.get_data(
        as_text=True
    )
    session.expire_all()
    assert session.get(ApiToken, token.id).revoked_at is None  # type: ignore[union-attr]
    done = client.post(url, data={"csrf_token": csrf_token(client, PAGE), "confirmed": "yes"})
    assert done.status_code == 302 and done.headers["Location"] == PAGE
    session.expire_all()
    assert session.get(ApiToken, token.id).revoked_at is not None  # type: ignore[union-attr]
    assert call(client, "GET", ALPHA, plaintext).status_code == 401
    actions = session.scalars(select(AuditEvent.action)).all()
    assert "api_token.revoked" in actions
    assert "återkallad" in client.get(PAGE).get_data(as_text=True)
    # Without the CSRF token nothing is revoked or made.
    assert client.post(url, data={"confirmed": "yes"}).status_code == 400


def test_nobody_reaches_anothers_own_token(
    client: FlaskClient, session: Session, network: Network
) -> None:
    theirs = own_token_of(session, network.rep_beta)
    sign_in(client, network.rep_alpha.email)
    data = {"csrf_token": csrf_token(client, PAGE), "confirmed": "yes"}
    assert client.post(f"/account/tokens/{theirs}/revoke", data=data).status_code == 404
    assert client.post("/account/tokens/99999/revoke", data=data).status_code == 404
    session.expire_all()
    assert session.get(ApiToken, int(theirs)).revoked_at is None  # type: ignore[union-attr]
    assert "rep@beta.se" not in client.get(PAGE).get_data(as_text=True)


def test_the_lead_administrator_sees_and_revokes_the_tokens_of_the_campaigns_people(
    client: FlaskClient, session: Session, network: Network, second_campaign: SecondCampaign
) -> None:
    made_by_beta = create(
        session, network.rep_beta, actor=network.rep_beta, name="Intranät", scopes=["read"],
        days=30, now=START,
    )  # fmt: skip
    session.commit()
    theirs = str(made_by_beta.token.id)
    sign_in(client, network.lead.email)
    people = client.get(staff("/people")).get_data(as_text=True)
    listed = staff(f"/people/{network.rep_beta.id}/tokens")
    assert listed in people
    page = client.get(listed).get_data(as_text=True)
    assert "API-tokens för Bert Rep" in page and f'data-token="{theirs}"' in page
    url = staff(f"/people/{network.rep_beta.id}/tokens/{theirs}/revoke")
    data = {"csrf_token": csrf_token(client, PAGE), "confirmed": "yes"}
    # Not through another person's address, and not the operator's (changed elsewhere).
    wrong = staff(f"/people/{network.rep_alpha.id}/tokens/{theirs}/revoke")
    assert client.post(wrong, data=data).status_code == 404
    operator = second_campaign.operator
    assert client.get(staff(f"/people/{operator.id}/tokens")).status_code == 404
    assert client.post(url, data=data).status_code == 302
    session.expire_all()
    assert session.get(ApiToken, int(theirs)).revoked_at is not None  # type: ignore[union-attr]
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "api_token.revoked")
    ).one()
    assert event.actor_id == network.lead.id and event.campaign_id == network.campaign.id
    # The campaign's audit log says it in words.
    log = client.get(staff("/network/audit?action=api_token.revoked")).get_data(as_text=True)
    assert "Återkallade en API-token" in log and f"API-token {theirs}" in log
    made = client.get(staff("/network/audit?action=api_token.created")).get_data(as_text=True)
    assert "Skapade en API-token" in made and "Allt: läsa" in made
    # A representative may not open another's tokens.
    rep = client.application.test_client()
    sign_in(rep, network.rep_alpha.email)
    assert rep.get(listed).status_code == 403


def test_turning_an_account_off_stops_its_tokens_at_once(
    app: Flask, client: FlaskClient, session: Session, network: Network
) -> None:
    rep = app.test_client()
    sign_in(rep, network.rep_beta.email)
    plaintext = SHOWN.search(_make(rep)).group(1)  # type: ignore[union-attr]
    beta = "/api/v1/campaigns/test/members/beta/participants"
    assert call(client, "GET", beta, plaintext).status_code == 200
    sign_in(client, network.lead.email)
    page = staff("/organisations/beta")
    turned_off = client.post(
        staff(f"/organisations/beta/representatives/{network.rep_beta.id}/access"),
        data={"csrf_token": csrf_token(client, page), "action": "disable"},
    )
    assert turned_off.status_code == 302
    answer = call(app.test_client(), "GET", beta, plaintext)
    assert answer.status_code == 401
    assert answer.headers["Content-Type"] == "application/problem+json"
    listed = client.get(staff(f"/people/{network.rep_beta.id}/tokens")).get_data(as_text=True)
    assert "stoppad: kontot är avstängt" in listed


def test_the_account_page_links_the_tokens_and_the_tokens_page_the_reference(
    client: FlaskClient, network: Network
) -> None:
    sign_in(client, network.rep_alpha.email)
    assert PAGE in client.get("/account").get_data(as_text=True)
    page = client.get(PAGE).get_data(as_text=True)
    assert 'href="/api/v1/docs"' in page and 'href="/api/v1/openapi.json"' in page
    assert "Inga API-tokens ännu." in page
    english = client.get(PAGE, headers={"Accept-Language": "en"})
    assert english.status_code == 200
