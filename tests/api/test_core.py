"""The API's common ground: tokens, scopes, problems, pages, ETags, rate limits, audit."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign import timing
from campaign.api.tokens import ApiToken, revoke
from campaign.audit import AuditEvent
from campaign.timing import FixedClock
from tests.api_helpers import call, token_for
from tests.conftest import START, Network, SecondCampaign, sign_in
from tests.enrolment_helpers import group
from tests.outbox_helpers import participant

MEMBER = "/api/v1/campaigns/test/members/alpha"
ALPHA = f"{MEMBER}/participants"
BETA = "/api/v1/campaigns/test/members/beta/participants"


def clock_of(app: Flask) -> FixedClock:
    return cast(FixedClock, timing.clock_of(app))


def _problem(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status and body["code"] == code, body
    assert body["type"] == "about:blank" and body["title"] and body["detail"]
    return body


def test_the_document_is_valid_openapi_3_1_and_names_every_operation(
    app: Flask, client: FlaskClient
) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    operations = {op["operationId"] for path in document["paths"].values() for op in path.values()}
    api_views = {
        endpoint.removeprefix("api.")
        for endpoint, view in app.view_functions.items()
        if getattr(view, "api_resource", None)
    }
    assert api_views and operations == api_views
    assert not [name for name in document["components"]["schemas"] if "ValidationError" in name]
    for item in document["paths"].values():
        for described in item.values():
            errors = {s: a for s, a in described["responses"].items() if s >= "400"}
            assert {"401", "403", "429"} <= set(errors), described["operationId"]
            for answer in errors.values():
                assert list(answer["content"]) == ["application/problem+json"]


def test_without_a_valid_token_nothing_is_answered_but_401(
    app: Flask, client: FlaskClient, session: Session, network: Network
) -> None:
    _problem(client.get("/api/v1/campaigns"), 401, "unauthorized")
    _problem(call(client, "GET", "/api/v1/campaigns", "cmp_not-a-token"), 401, "unauthorized")
    _problem(call(client, "GET", "/api/v1/campaigns", "Basic abc"), 401, "unauthorized")
    # A browser's signed-in session is not a token: the API ignores the cookie.
    sign_in(client, network.lead.email)
    response = client.get("/api/v1/campaigns")
    _problem(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_token_lists_the_campaigns_of_its_account_and_sets_no_cookie(
    client: FlaskClient, session: Session, network: Network, second_campaign: SecondCampaign
) -> None:
    token = token_for(session, network.rep_alpha, ("read",))
    response = call(client, "GET", "/api/v1/campaigns", token)
    assert response.status_code == 200
    assert {c["slug"]: c["role"] for c in response.get_json()["items"]} == {
        "test": "member_rep",
        "other": "member_rep",
    }
    assert "Set-Cookie" not in response.headers
    assert response.headers["RateLimit-Limit"] == "600"
    shown = call(client, "GET", "/api/v1/campaigns/test", token)
    assert shown.get_json()["name"] == "Testöverenskommelsen" and shown.headers["ETag"]
    gamma = token_for(session, second_campaign.lead_gamma)
    _problem(call(client, "GET", "/api/v1/campaigns/test", gamma), 404, "not_found")


def test_expired_revoked_and_disabled_tokens_stop_at_once(
    app: Flask, client: FlaskClient, session: Session, network: Network
) -> None:
    token = token_for(session, network.lead, days=1)
    assert call(client, "GET", "/api/v1/campaigns", token).status_code == 200
    clock_of(app).advance(timedelta(days=1))
    _problem(call(client, "GET", "/api/v1/campaigns", token), 401, "unauthorized")
    clock_of(app).set(START)
    second = token_for(session, network.lead)
    revoke(session.scalars(select(ApiToken).order_by(ApiToken.id.desc())).first(), START)
    session.commit()
    _problem(call(client, "GET", "/api/v1/campaigns", second), 401, "unauthorized")
    third = token_for(session, network.lead)
    assert call(client, "GET", "/api/v1/campaigns", third).status_code == 200
    network.lead.is_enabled = False
    session.commit()
    _problem(call(client, "GET", "/api/v1/campaigns", third), 401, "unauthorized")


def test_scopes_narrow_what_a_token_may_do(
    client: FlaskClient, session: Session, network: Network
) -> None:
    participant(session, network, "anna@alpha.se")
    session.commit()
    only_campaigns = token_for(session, network.lead, ("campaigns:read",))
    assert call(client, "GET", "/api/v1/campaigns", only_campaigns).status_code == 200
    body = _problem(call(client, "GET", ALPHA, only_campaigns), 403, "insufficient_scope")
    assert "participants:read" in body["detail"]
    reader = token_for(session, network.lead, ("participants:read",))
    assert call(client, "GET", ALPHA, reader).status_code == 200
    writer = token_for(session, network.lead, ("participants:write",))
    assert call(client, "GET", ALPHA, writer).status_code == 200  # writing includes reading


def test_a_representative_token_never_reaches_another_member(
    client: FlaskClient, session: Session, network: Network
) -> None:
    person = participant(session, network, "anna@alpha.se")
    session.commit()
    token = token_for(session, network.rep_beta)
    _problem(call(client, "GET", ALPHA, token), 404, "not_found")
    _problem(call(client, "GET", f"{ALPHA}/{person.id}", token), 404, "not_found")
    _problem(call(client, "GET", f"{BETA}/{person.id}", token), 404, "not_found")
    assert call(client, "GET", BETA, token).get_json()["items"] == []
    own = token_for(session, network.rep_alpha)
    shown = call(client, "GET", f"{ALPHA}/{person.id}", own).get_json()
    assert shown["email"] == "anna@alpha.se" and shown["member"] == "alpha"


def test_lists_come_a_page_at_a_time_by_cursor(
    client: FlaskClient, session: Session, network: Network
) -> None:
    for number in range(7):
        participant(session, network, f"p{number}@alpha.se")
    session.commit()
    token = token_for(session, network.rep_alpha)
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = call(client, "GET", ALPHA, token, query_string=query).get_json()
        seen += [p["email"] for p in body["items"]]
        cursor, pages = body["next_cursor"], pages + 1
        if cursor is None:
            break
    assert pages == 3 and seen == [f"p{n}@alpha.se" for n in range(7)]
    bad = call(client, "GET", ALPHA, token, query_string={"cursor": "not-ours"})
    _problem(bad, 422, "invalid_cursor")


def test_every_list_pages_the_same_way(
    client: FlaskClient, session: Session, network: Network, second_campaign: SecondCampaign
) -> None:
    """Each list operation takes `limit` and `cursor` and answers `items` and `next_cursor`,
    so one paging loop reads them all; walked one item a page, each gives what one page of
    all gives, in the same order."""
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    for path, item in document["paths"].items():
        answer = item.get("get", {}).get("responses", {}).get("200", {})
        ref = answer.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
        properties = schemas[ref.rsplit("/", 1)[-1]]["properties"] if ref else {}
        if "items" in properties:
            assert "next_cursor" in properties, path
            names = {p["name"] for p in item["get"]["parameters"]}
            assert {"limit", "cursor"} <= names, path
    group(session, network, "Första")
    group(session, network, "Andra")
    session.commit()
    token = token_for(session, network.lead)
    for url in ("/api/v1/campaigns", "/api/v1/campaigns/test/members",
                f"{MEMBER}/groups", "/api/v1/campaigns/test/questionnaires"):  # fmt: skip
        whole = call(client, "GET", url, token).get_json()
        assert len(whole["items"]) >= 2 and whole["next_cursor"] is None, url
        seen, cursor = [], None
        while True:
            query = {"limit": 1, **({"cursor": cursor} if cursor else {})}
            body = call(client, "GET", url, token, query_string=query).get_json()
            seen += body["items"]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert seen == whole["items"], url
        bad = call(client, "GET", url, token, query_string={"cursor": "not-ours"})
        _problem(bad, 422, "invalid_cursor")


def test_a_body_that_is_not_json_is_refused_and_changes_nothing(
    client: FlaskClient, session: Session, network: Network
) -> None:
    made = group(session, network, "Gruppen")
    session.commit()
    token, url = token_for(session, network.rep_alpha), f"{MEMBER}/groups/{made.id}"
    broken = call(client, "PATCH", url, token, data='{"name": "Ny', content_type="application/json")
    _problem(broken, 400, "invalid_json")
    form = call(client, "PATCH", url, token, data={"name": "Ny"})
    _problem(form, 415, "unsupported_media_type")
    empty_form = call(client, "PATCH", url, token, content_type="multipart/form-data")
    _problem(empty_form, 415, "unsupported_media_type")
    assert call(client, "GET", url, token).get_json()["name"] == "Gruppen"


def test_invalid_parameters_are_named_in_the_problem(
    client: FlaskClient, session: Session, network: Network
) -> None:
    token = token_for(session, network.rep_alpha)
    response = call(client, "GET", ALPHA, token, query_string={"limit": 0, "status": "asleep"})
    body = _problem(response, 422, "invalid_input")
    assert {e["field"] for e in body["errors"]} == {"limit", "status"}


def test_problems_speak_the_language_asked_for(
    client: FlaskClient, session: Session, network: Network
) -> None:
    token = token_for(session, network.rep_beta)
    swedish = call(client, "GET", ALPHA, token).get_json()  # the account's language: sv
    english = call(client, "GET", ALPHA, token, headers={"Accept-Language": "en"}).get_json()
    assert swedish["detail"] == "Det finns ingen sida på den här adressen."
    assert english["detail"] == "There is no page at this address."


def test_each_token_has_a_rate_limit_per_minute(
    app: Flask, client: FlaskClient, session: Session, network: Network
) -> None:
    app.config["CAMPAIGN_API_RATE_LIMIT"] = 3
    token = token_for(session, network.lead)
    answers = [call(client, "GET", "/api/v1/campaigns", token) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[2].headers["RateLimit-Remaining"] == "0"
    _problem(answers[3], 429, "rate_limited")
    assert 1 <= int(answers[3].headers["Retry-After"]) <= 61
    other = token_for(session, network.lead)  # the limit is the token's, not the account's
    assert call(client, "GET", "/api/v1/campaigns", other).status_code == 200
    clock_of(app).advance(timedelta(minutes=1))
    assert call(client, "GET", "/api/v1/campaigns", token).status_code == 200


def test_every_use_is_audited_and_marks_the_token_used(
    client: FlaskClient, session: Session, network: Network
) -> None:
    token = token_for(session, network.rep_alpha)
    call(client, "GET", ALPHA, token)
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "api.request")).one()
    assert event.actor_id == network.rep_alpha.id
    assert event.target == f"GET {ALPHA}"
    row = session.scalars(select(ApiToken)).one()
    session.refresh(row)
    assert row.last_used_at == START
    assert event.details["token"] == row.id


def test_tokens_are_stored_only_as_hashes(session: Session, network: Network) -> None:
    token = token_for(session, network.lead)
    row = session.scalars(select(ApiToken)).one()
    assert token.startswith("cmp_") and token not in (row.secret_hash, row.hint)
    assert row.hint == token[:10]
