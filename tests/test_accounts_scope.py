"""The role matrix: every route of the app, for anonymous, the lead admin and two member reps.

The table below names every endpoint with the access it must have. A route added without a
line here fails `test_every_route_has_an_expectation`, so no route escapes the matrix.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import select

from campaign.accounts.scope import Access
from campaign.network.models import Membership
from campaign.outbox.models import Message, Suppression, SuppressionReason
from campaign.outbox.queue import suppress
from campaign.outbox.unsubscribe import token_for
from tests.conftest import START, Network, csrf_token, sign_in
from tests.outbox_helpers import participant, queue_welcome

EXPECTED: dict[str, Access] = {
    "drip.index": Access.LEAD_ADMIN,
    "drip.timeline": Access.LEAD_ADMIN,
    "drip.preview": Access.LEAD_ADMIN,
    "drip.preview_html": Access.LEAD_ADMIN,
    "drip.send_test": Access.LEAD_ADMIN,
    "drip.progress": Access.ORGANISATION,
    "drip.schedule": Access.ORGANISATION,
    "outbox.index": Access.STAFF,
    "outbox.show": Access.STAFF,
    "outbox.html": Access.STAFF,
    "outbox.cancel": Access.STAFF,
    "outbox.retry": Access.STAFF,
    "outbox.send_test": Access.STAFF,
    "outbox.suppressions": Access.LEAD_ADMIN,
    "outbox.delete_suppression": Access.LEAD_ADMIN,
    "outbox.unsubscribe_page": Access.PUBLIC,
    "accounts.login": Access.PUBLIC,
    "accounts.logout": Access.STAFF,
    "accounts.account": Access.STAFF,
    "accounts.set_language": Access.PUBLIC,
    "network.home": Access.PUBLIC,
    "network.overview": Access.LEAD_ADMIN,
    "network.new_member": Access.LEAD_ADMIN,
    "network.settings": Access.LEAD_ADMIN,
    "network.organisation": Access.ORGANISATION,
    "network.edit_facts": Access.ORGANISATION,
    "health.healthz": Access.PUBLIC,
}

# Routes of one object that belongs to Alpha: reachable like Alpha's own pages.
ALPHA_OBJECTS = {"outbox.show", "outbox.html", "outbox.cancel", "outbox.retry"}
POST_DATA = {"outbox.unsubscribe_page": {"action": "pause"}}

ACTORS = ("anonymous", "lead", "rep_alpha", "rep_beta")


@pytest.fixture
def alpha_objects(app: Flask, session, network: Network) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """One object of each kind a URL can name, all belonging to Alpha."""
    with app.app_context():
        person = participant(session, network, "anna@alpha.se")
        message_id = queue_welcome(session, person, START)
        session.get(Message, message_id).subject = "ALPHA-SECRET-SUBJECT"
        suppress(session, "gone@alpha.se", SuppressionReason.HARD_BOUNCE, "550", START)
        session.commit()
        suppression_id = session.scalars(select(Suppression.id)).one()
        token = token_for(person)
    return {
        "org": network.alpha.slug,
        "message_id": str(message_id),
        "suppression_id": str(suppression_id),
        "token": token,
        "name": "pilot-group",
        "language": "sv",
        "number": "02",
        "participant_id": str(person.id),
    }


def _url(rule: str, values: dict[str, str]) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], rule)


def routes(app: Flask) -> list[tuple[str, str, str]]:
    """Return (endpoint, rule, method) for every route but static files."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, rule.rule, method))
    return found


def test_every_route_has_an_expectation(app: Flask) -> None:
    endpoints = {endpoint for endpoint, _, _ in routes(app)}
    assert endpoints == set(EXPECTED), "add new routes to EXPECTED with their access"


def test_every_view_declares_the_access_the_matrix_expects(app: Flask) -> None:
    for endpoint, policy in EXPECTED.items():
        assert getattr(app.view_functions[endpoint], "access", None) is policy, endpoint


def _client_for(app: Flask, network: Network, actor: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    if actor != "anonymous":
        sign_in(client, getattr(network, actor).email)
    return client


@pytest.mark.parametrize("actor", ACTORS)
def test_role_matrix(
    app: Flask, network: Network, alpha_objects: dict[str, str], actor: str
) -> None:
    """Each actor gets exactly what the route's access allows, on Alpha's pages and objects."""
    for endpoint, rule, method in routes(app):
        client = _client_for(app, network, actor)
        url = _url(rule, alpha_objects)
        data = None
        if method == "POST":
            data = {"csrf_token": csrf_token(client), **POST_DATA.get(endpoint, {})}
        response = client.open(url, method=method, data=data)
        body = response.get_data(as_text=True)
        allowed = _allowed(EXPECTED[endpoint], actor)
        if endpoint in ALPHA_OBJECTS and actor == "rep_beta":
            allowed = False
        where = f"{actor} {method} {url} -> {response.status_code}"
        # Whatever Beta's representative may open shows nothing of Alpha (the participant's own
        # signed link excepted: whoever holds it is shown that participant's address).
        if actor == "rep_beta" and endpoint != "outbox.unsubscribe_page":
            for marker in ("ALPHA-SECRET-TIP", "ALPHA-SECRET-SUBJECT", "anna@alpha.se"):
                assert marker not in body, where
        if allowed:
            assert response.status_code in (200, 302), where
            if response.status_code == 302 and actor != "anonymous":
                assert "/login" not in response.headers["Location"] or endpoint.endswith(
                    "logout"
                ), where
        elif actor == "anonymous":
            assert response.status_code == 302, where
            assert response.headers["Location"].startswith("/login"), where
        else:
            assert response.status_code in (403, 404), where
            assert "ALPHA-SECRET-TIP" not in body, where
            assert "ALPHA-SECRET-SUBJECT" not in body, where
            assert "Alpha kommun" not in body, where


def _allowed(policy: Access, actor: str) -> bool:
    if policy is Access.PUBLIC:
        return True
    if policy is Access.STAFF:
        return actor != "anonymous"
    if policy is Access.LEAD_ADMIN:
        return actor == "lead"
    return actor in ("lead", "rep_alpha")  # ORGANISATION, on Alpha's pages


def test_rep_of_another_member_cannot_change_facts(app: Flask, network: Network, session) -> None:  # type: ignore[no-untyped-def]
    client = _client_for(app, network, "rep_beta")
    response = client.post(
        "/organisations/alpha/facts",
        data={"csrf_token": csrf_token(client), "meeting_software": "Hijacked"},
    )
    assert response.status_code == 404
    session.expire_all()
    membership = session.scalars(
        select(Membership).where(Membership.organisation_id == network.alpha.id)
    ).one()
    assert membership.meeting_software == "Lync"


def test_unknown_organisation_and_foreign_one_look_the_same(app: Flask, network: Network) -> None:
    client = _client_for(app, network, "rep_beta")
    foreign = client.get("/organisations/alpha")
    missing = client.get("/organisations/no-such-org")
    assert foreign.status_code == missing.status_code == 404
    # Identical but for the page's own address (in the language switch).
    assert foreign.get_data(as_text=True).replace("alpha", "no-such-org") == missing.get_data(
        as_text=True
    )


def test_rep_sees_own_organisation(app: Flask, network: Network) -> None:
    client = _client_for(app, network, "rep_beta")
    page = client.get("/organisations/beta").get_data(as_text=True)
    assert "Beta högskola" in page and "BETA-SECRET-TIP" in page
    assert client.get("/").headers["Location"] == "/organisations/beta"


def test_undeclared_view_is_closed(app: Flask, network: Network) -> None:
    app.add_url_rule("/forgotten", "forgotten", lambda: "secret data")
    client = _client_for(app, network, "lead")
    response = client.get("/forgotten")
    assert response.status_code == 403
    assert "secret data" not in response.get_data(as_text=True)
