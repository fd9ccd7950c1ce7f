"""The API's questionnaire results hide exactly what the results pages hide: answers count in
whole groups of five per member, each question's among those; the same figures, side by side
with the pages read over HTTP."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from campaign.surveys import service
from campaign.surveys.models import Questionnaire, Receipt, Response
from tests.api_helpers import call, token_for
from tests.conftest import START, Network, sign_in
from tests.outbox_helpers import participant

BASE = "/api/v1/campaigns/test"
GIVEN = datetime(2014, 9, 1, 8, 0, tzinfo=UTC)
SECTION = re.compile(r'<section aria-labelledby="q-(\w+)">(.*?)</section>', re.DOTALL)
ROW = re.compile(r'<tr><th scope="row">(.*?)</th><td class="num">(\d+)</td>')


@pytest.fixture
def follow_up(app: Flask, session: Session, network: Network) -> Questionnaire:
    """The follow-up, answered by 6 of Alpha's people (of them 3 say what stops them) and 4
    of Beta's: Alpha's first five count, three of whom answered "barriers"; none of Beta's."""
    with app.app_context():
        found = {q.slug: q for q in service.questionnaires_of(session, network.campaign, START)}
    questionnaire = found["follow-up"]
    for n in range(6):
        barriers = {"barriers": ["habit"]} if n in (0, 2, 4) else {}
        _respond(session, network, questionnaire, "alpha", n, {
            "trips_replaced": 2 + n, "satisfaction": 1 + n % 5, "tools_used": ["lync"],
            "tips": f"Tips nummer {n}", **barriers,
        })  # fmt: skip
    for n in range(4):
        _respond(session, network, questionnaire, "beta", n, {"trips_replaced": 100})
    session.commit()
    return questionnaire


def _respond(
    session: Session, network: Network, questionnaire: Questionnaire, org: str, n: int,
    answers: dict[str, Any],
) -> None:  # fmt: skip
    person = participant(session, network, f"r{n}@{org}.se", org=org)
    at = GIVEN + timedelta(minutes=n)
    session.add_all([
        Response(questionnaire_id=questionnaire.id, participant_id=person.id,
                 organisation_id=person.organisation_id, answers=answers, submitted_at=at,
                 updated_at=at),
        Receipt(questionnaire_id=questionnaire.id, participant_id=person.id,
                answered_on=at.date()),
    ])  # fmt: skip


def _page(app: Flask, email: str, path: str) -> str:
    """The results page as its reader sees it."""
    browser = app.test_client()
    sign_in(browser, email)
    response = browser.get(path)
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def _shown_on_page(page: str) -> dict[str, Any]:
    """Each question's section on the page: None if hidden, else its rows (label -> count) or
    its text."""
    shown: dict[str, Any] = {}
    for question, section in SECTION.findall(page):
        if "so its answers are not shown" in section or "visas inte" in section:
            shown[question] = None
        else:
            shown[question] = {label: int(n) for label, n in ROW.findall(section)} or section
    return shown


def _compare(api: dict[str, Any], page: str) -> None:
    """Assert that the API hides what the page hides and counts what it counts."""
    on_page = _shown_on_page(page)
    assert set(on_page) == {q["id"] for q in api["questions"]}
    for question in api["questions"]:
        seen = on_page[question["id"]]
        assert (seen is None) is question["suppressed"], question["id"]
        if question["counts"] is not None:
            assert seen == {c["label"]: c["count"] for c in question["counts"]}, question["id"]
        for text in question["texts"] or []:
            assert text in seen
        if question["total"] is not None:
            assert f">{question['total']} " in seen


def test_a_question_answered_by_fewer_than_five_is_hidden_as_on_the_page(
    app: Flask, client: FlaskClient, session: Session, network: Network,
    follow_up: Questionnaire,
) -> None:  # fmt: skip
    token = token_for(session, network.rep_alpha)
    path = f"/members/alpha/questionnaires/{follow_up.id}"
    answer = call(client, "GET", f"{BASE}{path}/results", token)
    assert answer.status_code == 200 and answer.headers["ETag"]
    body = answer.get_json()
    assert (body["respondents"], body["counted"], body["is_shown"]) == (6, 5, True)
    questions = {q["id"]: q for q in body["questions"]}
    barriers = questions["barriers"]
    assert barriers["suppressed"] and barriers["answered"] == 0  # 3 answered: none count
    assert barriers["counts"] is None and barriers["total"] is None
    assert questions["trips_replaced"]["total"] == sum(2 + n for n in range(5))  # the first five
    assert questions["tips"]["texts"] == [f"Tips nummer {n}" for n in range(5)]
    assert "Tips nummer 5" not in answer.get_data(as_text=True)  # the sixth waits for its group
    assert body["rates"] == [{"member": "alpha", "invited": 6, "answered": 6, "percent": 100}]
    page = _page(
        app,
        network.rep_alpha.email,
        f"/campaigns/test/organisations/alpha/questionnaires/{follow_up.id}",
    )
    _compare(body, page)


def test_a_member_with_fewer_than_five_shows_nothing_as_on_the_page(
    app: Flask, client: FlaskClient, session: Session, network: Network,
    follow_up: Questionnaire,
) -> None:  # fmt: skip
    token = token_for(session, network.rep_beta)
    path = f"/members/beta/questionnaires/{follow_up.id}"
    body = call(client, "GET", f"{BASE}{path}/results", token).get_json()
    assert (body["respondents"], body["counted"], body["is_shown"]) == (4, 0, False)
    assert body["questions"] == [] and "100" not in str(body["questions"])
    page = _page(
        app,
        network.rep_beta.email,
        f"/campaigns/test/organisations/beta/questionnaires/{follow_up.id}",
    )
    assert body["note"] and body["note"] in page
    assert SECTION.findall(page) == []
    assert body["not_answered"] == []  # named to the member's own representative only


def test_the_networks_results_are_the_lead_administrators_and_the_pages(
    app: Flask, client: FlaskClient, session: Session, network: Network,
    follow_up: Questionnaire,
) -> None:  # fmt: skip
    lead = token_for(session, network.lead)
    body = call(client, "GET", f"{BASE}/questionnaires/{follow_up.id}/results", lead).get_json()
    assert body["member"] is None and (body["respondents"], body["counted"]) == (10, 5)
    assert {r["member"]: r["answered"] for r in body["rates"]} == {"alpha": 6, "beta": 4}
    assert body["not_answered"] is None
    page = _page(app, network.lead.email, f"/campaigns/test/questionnaires/{follow_up.id}")
    _compare(body, page)
    listed = call(client, "GET", f"{BASE}/questionnaires", lead).get_json()["items"]
    assert {q["slug"] for q in listed} == {"baseline", "follow-up"}
    rep = token_for(session, network.rep_alpha)
    refused = call(client, "GET", f"{BASE}/questionnaires/{follow_up.id}/results", rep)
    assert refused.status_code == 403
    missing = call(client, "GET", f"{BASE}/members/alpha/questionnaires/999999/results", rep)
    assert missing.status_code == 404
