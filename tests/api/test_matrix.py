"""The API's role matrix: every API route, for each actor's token, and for every token scope.

The web pages' matrix (tests/accounts/test_scope.py) covers the pages; this one covers the
API with the same actors and the same objects of Alpha's (conftest's `alpha_objects`). A route
added without a line in EXPECTED fails `test_every_api_route_has_an_expectation`.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from campaign.accounts.scope import Access
from campaign.api.tokens import RESOURCES
from campaign.enrolment import importing
from tests.accounts.test_scope import ALPHA_MARKERS, _allowed
from tests.api_helpers import call, token_for
from tests.conftest import Network, SecondCampaign
from tests.routes import routes, url_of

EXPECTED: dict[str, Access] = {
    "api.openapi": Access.PUBLIC,
    "api.docs": Access.PUBLIC,
    "api.list_campaigns": Access.SIGNED_IN,
    "api.show_campaign": Access.STAFF,
    "api.list_participants": Access.ORGANISATION,
    "api.show_participant": Access.ORGANISATION,
    "api.create_participant": Access.ORGANISATION,
    "api.update_participant": Access.ORGANISATION,
    "api.pause_participant": Access.ORGANISATION,
    "api.resume_participant": Access.ORGANISATION,
    "api.unsubscribe_participant": Access.ORGANISATION,
    "api.erase_participant": Access.ORGANISATION,
    "api.export_participant_data": Access.ORGANISATION,
    "api.list_members": Access.STAFF,
    "api.show_member": Access.ORGANISATION,
    "api.update_member": Access.ORGANISATION,
    "api.list_groups": Access.ORGANISATION,
    "api.show_group": Access.ORGANISATION,
    "api.create_group": Access.ORGANISATION,
    "api.update_group": Access.ORGANISATION,
    "api.create_import": Access.ORGANISATION,
    "api.show_import": Access.ORGANISATION,
    "api.list_import_rows": Access.ORGANISATION,
    "api.apply_import": Access.ORGANISATION,
    "api.list_events": Access.STAFF,
    "api.show_event": Access.ORGANISATION,
    "api.create_event": Access.ORGANISATION,
    "api.update_event": Access.ORGANISATION,
    "api.cancel_event": Access.ORGANISATION,
    "api.invite_to_event": Access.ORGANISATION,
    "api.list_invitations": Access.ORGANISATION,
    "api.show_attendance": Access.ORGANISATION,
    "api.mark_attendance": Access.ORGANISATION,
    "api.list_questionnaires": Access.STAFF,
    "api.show_network_results": Access.LEAD_ADMIN,
    "api.show_member_results": Access.ORGANISATION,
    "api.show_report_figures": Access.LEAD_ADMIN,
    "api.show_member_figures": Access.ORGANISATION,
    "api.list_messages": Access.STAFF,
    "api.show_message": Access.STAFF,
}
# The JSON body each write operation is sent with (one that its allowed callers may send); a
# function makes it of the objects the URLs name (conftest's `alpha_objects`).
Body = dict[str, Any] | Callable[[dict[str, str]], dict[str, Any]]
BODIES: dict[str, Body] = {
    "api.create_participant": lambda objects: {
        "email": "new@alpha.se",
        "name": "Ny Person",
        "has_agreed": True,
        "pilot_group_id": int(objects["group_id"]),
    },
    "api.update_participant": lambda objects: {
        "title": "Handläggare",
        "pilot_group_id": int(objects["other_group_id"]),
    },
    "api.pause_participant": {"until": "2014-08-15"},
    "api.erase_participant": {"understood": True},
    "api.update_member": {"meeting_software": "Skype"},
    "api.create_group": {"name": "API-gruppen", "kind": "volunteers", "starts_on": "2014-04-01"},
    "api.update_group": {"name": "Nytt namn"},
    "api.apply_import": {"people_have_agreed": True},
    "api.create_event": {
        "title": "Nytt prova-på-möte",
        "day": "2014-04-01",
        "starts": "09:00",
        "ends": "10:00",
    },
    "api.update_event": {"room": "Sal 4"},
    "api.mark_attendance": {"attended": []},
}
# The multipart body of each upload, made of the objects the URLs name.
UPLOADS: dict[str, Callable[[dict[str, str]], dict[str, Any]]] = {
    "api.create_import": lambda objects: {
        "pilot_group_id": objects["group_id"],
        "file": (io.BytesIO(b"E-post;Namn\nfil@alpha.se;Fil Person\n"), "list.csv"),
    },
}
# Operations that take away what later ones name (an erasure): the matrix calls them last.
LAST: set[str] = {"api.erase_participant", "api.cancel_event"}
# Operations its allowed callers may get a conflict from on the matrix's objects: attendance
# is marked only once a meeting has started (the page's events.attendance answers 409 too).
CONFLICTS = {"api.mark_attendance"}
# Operations open to all staff of the campaign that name one of Alpha's objects: Beta's
# representative finds nothing there (as with the pages' ALPHA_OBJECTS).
OF_ALPHA = {"api.show_message"}
ACTORS = ("anonymous", "lead", "rep_alpha", "rep_beta", "operator", "lead_gamma")


def _user(network: Network, second: SecondCampaign, actor: str):  # type: ignore[no-untyped-def]
    return getattr(second if actor in ("operator", "lead_gamma") else network, actor)


def _ordered(app: Flask) -> list[tuple[str, str, str]]:
    found = routes(app, api=True)
    return sorted(found, key=lambda r: (r[0] in LAST or r[2] == "DELETE", r[0], r[2]))


def _send(client: FlaskClient, token: str | None, endpoint: str, url: str, method: str,  # type: ignore[no-untyped-def]
          objects: dict[str, str], headers: dict[str, str] | None = None):  # fmt: skip
    if endpoint in UPLOADS:
        response = call(client, method, url, token, data=UPLOADS[endpoint](objects),
                        headers=headers or {})  # fmt: skip
        importing.wait_for_readers()  # the file is read in a thread: let it end with the test
        return response
    body = BODIES.get(endpoint) if method not in ("GET", "DELETE") else None
    return call(client, method, url, token, json=body(objects) if callable(body) else body,
                headers=headers or {})  # fmt: skip


def test_every_api_route_has_an_expectation(app: Flask) -> None:
    assert {endpoint for endpoint, _, _ in routes(app, api=True)} == set(EXPECTED)
    for endpoint, policy in EXPECTED.items():
        assert getattr(app.view_functions[endpoint], "access", None) is policy, endpoint


@pytest.mark.parametrize("actor", ACTORS)
def test_api_role_matrix(
    app: Flask,
    session: Session,
    network: Network,
    second_campaign: SecondCampaign,
    alpha_objects: dict[str, str],
    actor: str,
) -> None:
    """Each actor's token (all scopes) reaches what the actor's role reaches in the pages:
    anonymous gets 401, another member's representative 404 or 403, Gamma's lead (no part in
    "test") 404; nobody but Alpha's own and the lead's sees anything of Alpha's."""
    token = None
    if actor != "anonymous":
        token = token_for(session, _user(network, second_campaign, actor))
    client = app.test_client()
    for endpoint, rule, method in _ordered(app):
        url = url_of(rule, alpha_objects)
        response = _send(client, token, endpoint, url, method, alpha_objects)
        where = f"{actor} {method} {url} -> {response.status_code}"
        body = response.get_data(as_text=True)
        policy = EXPECTED[endpoint]
        if actor in ("rep_beta", "lead_gamma"):
            for marker in ALPHA_MARKERS:
                assert marker not in body, where
        if _allowed(policy, actor) and not (endpoint in OF_ALPHA and actor == "rep_beta"):
            conflict = (409,) if endpoint in CONFLICTS else ()
            assert 200 <= response.status_code < 300 or response.status_code in conflict, (
                where + body[:500]
            )
        elif actor == "anonymous":
            assert response.status_code == 401, where
        else:
            assert response.status_code in (403, 404), where
            if actor == "lead_gamma":
                assert response.status_code == 404, where


def test_every_api_route_of_a_campaign_refuses_another_campaigns_objects(
    app: Flask,
    session: Session,
    network: Network,
    second_campaign: SecondCampaign,
    alpha_objects: dict[str, str],
) -> None:
    """Alpha is a member of "other" too, but nothing of Alpha's in "test" is reachable
    through "other"'s URLs, for the operator who sees both."""
    token = token_for(session, second_campaign.operator)
    client = app.test_client()
    for endpoint, rule, method in _ordered(app):
        if "<campaign>" not in rule:
            continue
        url = url_of(rule, {**alpha_objects, "campaign": "other"})
        response = _send(client, token, endpoint, url, method, alpha_objects)
        body = response.get_data(as_text=True)
        for marker in ALPHA_MARKERS:
            assert marker not in body, f"{method} {url}"
        if any(f"<{name}>" in rule or f":{name}>" in rule for name in _object_names()):
            assert response.status_code == 404, f"{method} {url} -> {response.status_code}"


def _object_names() -> tuple[str, ...]:
    """The URL variables that name one object of a campaign."""
    from tests.accounts.test_scope import CAMPAIGN_OBJECTS

    return tuple(CAMPAIGN_OBJECTS)


@pytest.mark.parametrize("resource", RESOURCES)
def test_a_token_scoped_to_another_resource_or_to_reading_is_refused(
    app: Flask,
    session: Session,
    network: Network,
    alpha_objects: dict[str, str],
    resource: str,
) -> None:
    """A token of `resource`:write reaches that resource's operations only; one of
    `resource`:read none of its writes. Checked before anything is done."""
    writer = token_for(session, network.lead, (f"{resource}:write",))
    reader = token_for(session, network.lead, (f"{resource}:read",))
    client = app.test_client()
    for endpoint, rule, method in _ordered(app):
        view = app.view_functions[endpoint]
        if not getattr(view, "api_resource", None):
            continue
        url = url_of(rule, alpha_objects)
        if view.api_resource != resource:
            response = _send(client, writer, endpoint, url, method, alpha_objects)
            assert response.status_code == 403, f"{resource} token: {method} {url}"
            assert response.get_json()["code"] == "insufficient_scope"
        elif method != "GET":
            response = _send(client, reader, endpoint, url, method, alpha_objects)
            assert response.status_code == 403, f"{resource}:read: {method} {url}"
