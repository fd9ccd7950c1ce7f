"""The API's people: participants (enrol, change, pause, resume, unsubscribe, erase, export),
members and their facts, pilot groups; each as the pages do it, with the pages' sentences, and
never reaching another member's."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.audit import AuditEvent
from campaign.enrolment.models import (
    Consent,
    ConsentMethod,
    Participant,
    ParticipantStatus,
    PilotGroup,
)
from campaign.network.models import Membership, MembershipStatus
from campaign.outbox.models import Message, MessageState, Suppression
from tests.api_helpers import call, token_for
from tests.conftest import START, Network, sign_in
from tests.enrolment_helpers import group as make_group
from tests.outbox_helpers import participant, queue_welcome
from tests.urls import staff

API = "/api/v1/campaigns/test"
ALPHA = f"{API}/members/alpha"
EN = {"Accept-Language": "en"}
CONSENT_PLEASE = "Bekräfta att personen har gått med på det."


@pytest.fixture
def groups(session: Session, network: Network) -> tuple[PilotGroup, PilotGroup]:
    """Alpha's two pilot groups, and one of Beta's."""
    first, second = make_group(session, network), make_group(session, network, "Alpha-chefer")
    make_group(session, network, "Beta-gruppen", org="beta")
    session.commit()
    return first, second


@pytest.fixture
def rep(session: Session, network: Network) -> str:
    return token_for(session, network.rep_alpha)


def _problem(response, status: int, code: str = "") -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.get_json(force=True)
    assert not code or body["code"] == code, body
    return body


def _fields(body: dict) -> dict[str, str]:
    return {error["field"]: error["detail"] for error in body.get("errors", [])}


def _new(group: PilotGroup, **values: object) -> dict:
    return {
        "email": "Nils@Alpha.se", "name": "  Nils   Ny ", "title": "Handläggare",
        "pilot_group_id": group.id, "has_agreed": True, **values,
    }  # fmt: skip


def _one(session: Session, email: str) -> Participant:
    session.expire_all()
    return session.scalars(select(Participant).where(Participant.email == email)).one()


# Participants: enrolment


def test_a_participant_is_enrolled_with_the_consent_the_staff_form_records(
    client: FlaskClient, session: Session, network: Network, groups, rep: str
) -> None:
    response = call(client, "POST", f"{ALPHA}/participants", rep, json=_new(groups[0]))
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["email"], body["name"], body["status"]) == ("nils@alpha.se", "Nils Ny", "active")
    assert body["language"] == "sv" and body["pilot_group_id"] == groups[0].id
    assert response.headers["Location"].endswith(f"/members/alpha/participants/{body['id']}")
    assert call(client, "GET", response.headers["Location"], rep).get_json() == body
    assert response.headers["ETag"]
    person = _one(session, "nils@alpha.se")
    (consent,) = person.consents
    assert consent.method is ConsentMethod.STAFF_FORM
    assert json.loads(consent.source) == {"by": "rep@alpha.se"}
    assert consent.text == (
        "rep@alpha.se bekräftade att personen har gått med på att delta i provgruppen"
        " Alpha-gruppen."
    )
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "participant.enrolled"))
    assert event.one().actor_id == network.rep_alpha.id


def test_the_same_idempotency_key_enrols_once_and_replays_the_answer(
    client: FlaskClient, session: Session, network: Network, groups, rep: str
) -> None:
    key = {"Idempotency-Key": "hr-feed-4711"}
    first = call(client, "POST", f"{ALPHA}/participants", rep, json=_new(groups[0]), headers=key)
    again = call(client, "POST", f"{ALPHA}/participants", rep, json=_new(groups[0]), headers=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert session.scalar(select(func.count(Participant.id))) == 1
    other = _new(groups[0], email="other@alpha.se")
    reused = call(client, "POST", f"{ALPHA}/participants", rep, json=other, headers=key)
    _problem(reused, 422, "idempotency_key_reused")
    assert session.scalar(select(func.count(Participant.id))) == 1
    # Without a key the second request is a second enrolment of the address: refused.
    twice = call(client, "POST", f"{ALPHA}/participants", rep, json=_new(groups[0]), headers=EN)
    body = _problem(twice, 409, "already_enrolled")
    assert _fields(body) == {"email": "Already enrolled in this pilot group, nothing to change"}


def test_an_enrolment_is_refused_as_the_form_refuses_it_and_nothing_is_written(
    client: FlaskClient, session: Session, network: Network, groups, rep: str
) -> None:
    url = f"{ALPHA}/participants"
    control = (
        "Ta bort radbrytningar, tabbar och andra kontrolltecken: fältet tar en rad vanlig text."
    )
    cases = [
        (_new(groups[0], has_agreed=False), {"has_agreed": CONSENT_PLEASE}),
        (_new(groups[0], email="nils@"), {"email": "Inte en giltig e-postadress"}),
        (_new(groups[0], name="Nils\tNy"), {"name": control}),
    ]
    for sent, errors in cases:
        body = _problem(call(client, "POST", url, rep, json=sent), 422, "invalid_input")
        assert _fields(body) == errors
    beta_group = session.scalar(select(PilotGroup).where(PilotGroup.name == "Beta-gruppen"))
    body = _problem(call(client, "POST", url, rep, json=_new(beta_group)), 422, "invalid_input")
    assert set(_fields(body)) == {"pilot_group_id"}
    missing = {k: v for k, v in _new(groups[0]).items() if k != "email"}
    assert set(_fields(_problem(call(client, "POST", url, rep, json=missing), 422))) == {"email"}
    participant(session, network, "bo@beta.se", org="beta")
    session.commit()
    taken = call(client, "POST", url, rep, json=_new(groups[0], email="bo@beta.se"))
    _problem(taken, 409, "other_member")
    assert session.scalar(select(func.count(Participant.id))) == 1  # Bo, of Beta


# Participants: changes


def test_a_change_with_a_stale_if_match_is_refused_and_writes_nothing(
    client: FlaskClient, session: Session, network: Network, groups, rep: str
) -> None:
    person = participant(session, network, "anna@alpha.se", name="Anna Ahl")
    person.pilot_group_id = groups[0].id
    session.commit()
    url = f"{ALPHA}/participants/{person.id}"
    etag = call(client, "GET", url, rep).headers["ETag"]
    change = {"name": "Anna  Berg", "language": "en", "pilot_group_id": groups[1].id}
    done = call(client, "PATCH", url, rep, json=change, headers={"If-Match": etag})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert done.headers["ETag"] != etag
    body = done.get_json()
    assert (body["name"], body["language"], body["pilot_group_id"]) == (
        "Anna Berg", "en", groups[1].id,
    )  # fmt: skip
    stale = call(client, "PATCH", url, rep, json={"title": "Chef"}, headers={"If-Match": etag})
    _problem(stale, 412, "precondition_failed")
    found = _one(session, "anna@alpha.se")
    assert (found.name, found.title, found.pilot_group_id) == ("Anna Berg", "", groups[1].id)
    actions = set(session.scalars(select(AuditEvent.action)))
    assert {"participant.changed", "participant.moved"} <= actions
    bad = call(client, "PATCH", url, rep, json={"language": "de"})
    assert set(_fields(_problem(bad, 422, "invalid_input"))) == {"language"}
    beta_group = session.scalar(select(PilotGroup).where(PilotGroup.name == "Beta-gruppen"))
    moved = call(client, "PATCH", url, rep, json={"pilot_group_id": beta_group.id, "title": "X"})
    assert set(_fields(_problem(moved, 422))) == {"pilot_group_id"}
    assert _one(session, "anna@alpha.se").title == ""


def test_lists_filter_by_status_group_and_change(
    app: Flask, client: FlaskClient, session: Session, network: Network, groups, rep: str
) -> None:
    anna, bo = (participant(session, network, f"{n}@alpha.se") for n in ("anna", "bo"))
    anna.pilot_group_id, bo.pilot_group_id = groups[0].id, groups[1].id
    bo.status, bo.updated_at = ParticipantStatus.PAUSED, START + timedelta(days=2)
    session.commit()

    def emails(**query: object) -> list[str]:
        found = call(client, "GET", f"{ALPHA}/participants", rep, query_string=query)
        return [p["email"] for p in found.get_json()["items"]]

    assert emails() == ["anna@alpha.se", "bo@alpha.se"]
    assert emails(status="paused") == ["bo@alpha.se"]
    assert emails(pilot_group_id=groups[0].id) == ["anna@alpha.se"]
    assert emails(updated_since="2014-03-04T00:00:00+01:00") == ["bo@alpha.se"]


# Participants: pause, resume, unsubscribe


def _schedule(app: Flask, person: Participant) -> str:
    """The participant's drip schedule, as their member's representative sees it."""
    browser = app.test_client()
    sign_in(browser, "rep@alpha.se")
    page = staff(f"/organisations/alpha/participants/{person.id}/schedule")
    return browser.get(page).get_data(as_text=True)


def test_a_pause_until_a_day_and_a_resume_show_in_the_drip_schedule(
    app: Flask, client: FlaskClient, session: Session, network: Network, groups, rep: str
) -> None:
    person = participant(session, network, "anna@alpha.se")
    person.pilot_group_id, person.starts_on = groups[0].id, None
    session.commit()
    url = f"{ALPHA}/participants/{person.id}"
    assert "Hoppas över (pausad)" not in _schedule(app, person)
    today = call(client, "POST", f"{url}/pause", rep, json={"until": "2014-03-03"})
    assert _fields(_problem(today, 422)) == {"until": "Ange en dag efter i dag."}
    paused = call(client, "POST", f"{url}/pause", rep, json={"until": "2014-08-15"})
    assert paused.status_code == 200, paused.get_data(as_text=True)
    assert (paused.get_json()["status"], paused.get_json()["paused_until"]) == (
        "paused", "2014-08-15",
    )  # fmt: skip
    schedule = _schedule(app, person)
    assert "Pausad till 15 augusti 2014" in schedule
    assert schedule.count("Hoppas över (pausad)") == 4
    resumed = call(client, "POST", f"{url}/resume", rep)
    assert resumed.get_json()["status"] == "active" and resumed.get_json()["paused_until"] is None
    schedule = _schedule(app, person)
    assert "Pausad till" not in schedule and "Hoppas över (pausad)" not in schedule
    again = call(client, "POST", f"{url}/resume", rep, headers=EN)
    body = _problem(again, 409, "status")
    assert body["detail"] == "That is not possible in the participant's present status."
    actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert [a for a in actions if a.startswith("participant.")] == [
        "participant.paused", "participant.resumed",
    ]  # fmt: skip


def test_an_unsubscribed_participant_gets_no_more_mail_and_cannot_be_paused(
    app: Flask, client: FlaskClient, session: Session, network: Network, rep: str
) -> None:
    person = participant(session, network, "anna@alpha.se")
    with app.app_context():
        queue_welcome(session, person, START + timedelta(days=1))
    session.commit()
    url = f"{ALPHA}/participants/{person.id}"
    done = call(client, "POST", f"{url}/unsubscribe", rep)
    assert done.status_code == 200 and done.get_json()["status"] == "unsubscribed"
    assert session.scalar(select(Suppression.email)) == "anna@alpha.se"
    states = set(session.scalars(select(Message.state)))
    assert states == {MessageState.CANCELLED}
    _problem(call(client, "POST", f"{url}/pause", rep, json={}), 409, "status")


# Participants: data export and erasure


def test_the_export_is_the_pages_and_the_erasure_leaves_no_personal_data(
    app: Flask, client: FlaskClient, session: Session, network: Network, groups, rep: str
) -> None:
    person = participant(session, network, "anna@alpha.se", name="Anna Ahl")
    person.pilot_group_id, person.title = groups[0].id, "Chef"
    with app.app_context():
        queue_welcome(session, person, START)
        queue_welcome(session, person, START + timedelta(days=3), step="02")
    sent = session.scalar(select(Message).where(Message.source_key.like("%/01")))
    sent.state, sent.sent_at = MessageState.SENT, START
    sent.last_answer = "250 2.0.0 Ok: queued for <anna@alpha.se>"
    session.add(Consent(participant_id=person.id, method=ConsentMethod.IMPORT,
                        given_at=START, source="import from 10.0.0.1", text="ok"))  # fmt: skip
    session.commit()
    url = f"{ALPHA}/participants/{person.id}"
    exported = call(client, "GET", f"{url}/data", rep)
    assert exported.status_code == 200 and exported.headers["Cache-Control"] == "no-store"
    browser = app.test_client()
    sign_in(browser, "rep@alpha.se")
    page = browser.get(staff(f"/organisations/alpha/participants/{person.id}/data.json"))
    assert exported.get_json() == json.loads(page.get_data(as_text=True))
    assert exported.get_json()["participant"]["email"] == "anna@alpha.se"

    refused = call(client, "POST", f"{url}/erase", rep, json={"understood": False})
    assert set(_fields(_problem(refused, 422))) == {"understood"}
    assert _one(session, "anna@alpha.se").name == "Anna Ahl"
    erased = call(client, "POST", f"{url}/erase", rep, json={"understood": True})
    assert erased.status_code == 204 and erased.get_data() == b""
    session.expire_all()
    row = session.get(Participant, person.id)
    assert row.status is ParticipantStatus.ERASED and (row.name, row.title) == ("", "")
    assert row.email == f"erased-{person.id}@erased.invalid"
    assert session.scalar(select(func.count(Consent.id))) == 0
    messages = session.scalars(select(Message).where(Message.participant_id == person.id)).all()
    assert {m.state for m in messages} == {MessageState.SENT, MessageState.CANCELLED}
    for message in messages:
        text = message.recipient + message.subject + message.text_body + message.html_body
        assert "anna" not in text + (message.calendar or "") + (message.last_answer or "")
    events = session.scalars(select(AuditEvent).where(AuditEvent.action.like("participant.%")))
    assert all("anna" not in json.dumps(e.details) + (e.target or "") for e in events)
    _problem(call(client, "GET", url, rep), 404)
    _problem(call(client, "GET", f"{url}/data", rep), 404)
    listed = call(client, "GET", f"{ALPHA}/participants", rep).get_json()["items"]
    assert listed == []


# Another member's representative


def test_a_representative_token_never_touches_another_members_people(
    client: FlaskClient, session: Session, network: Network, groups
) -> None:
    person = participant(session, network, "anna@alpha.se", name="Anna Ahl")
    person.pilot_group_id = groups[0].id
    session.commit()
    beta = token_for(session, network.rep_beta)
    own = f"{API}/members/beta/participants/{person.id}"
    theirs = f"{ALPHA}/participants/{person.id}"
    attempts = [
        ("POST", f"{ALPHA}/participants", _new(groups[0])),
        ("POST", f"{API}/members/beta/participants", _new(groups[0])),
        ("PATCH", theirs, {"name": "Hacked"}), ("PATCH", own, {"name": "Hacked"}),
        ("POST", f"{theirs}/pause", {}), ("POST", f"{own}/pause", {}),
        ("POST", f"{theirs}/unsubscribe", None), ("POST", f"{own}/unsubscribe", None),
        ("POST", f"{theirs}/erase", {"understood": True}),
        ("POST", f"{own}/erase", {"understood": True}),
        ("GET", f"{theirs}/data", None), ("GET", f"{own}/data", None),
        ("GET", f"{ALPHA}", None), ("PATCH", f"{ALPHA}", {"tips_md": "x"}),
        ("GET", f"{ALPHA}/groups", None), ("GET", f"{ALPHA}/groups/{groups[0].id}", None),
        ("GET", f"{API}/members/beta/groups/{groups[0].id}", None),
        ("PATCH", f"{API}/members/beta/groups/{groups[0].id}", {"name": "Hacked"}),
        ("POST", f"{ALPHA}/groups", {"name": "X", "kind": "volunteers", "starts_on": "2014-04-01"}),
    ]  # fmt: skip
    for method, url, body in attempts:
        response = call(client, method, url, beta, json=body)
        # Beta's own list takes the body, and finds no group of Beta's with Alpha's group's id.
        refusal = 422 if url == f"{API}/members/beta/participants" else 404
        assert response.status_code == refusal, f"{method} {url} -> {response.status_code}"
        assert "anna" not in response.get_data(as_text=True)
    session.expire_all()
    found = session.get(Participant, person.id)
    assert (found.name, found.status) == ("Anna Ahl", ParticipantStatus.ACTIVE)
    assert session.scalar(select(func.count(Participant.id))) == 1
    assert session.scalar(select(func.count(PilotGroup.id))) == 3
    assert "Hacked" not in {g.name for g in session.scalars(select(PilotGroup))}


# Members and their facts


def test_the_lead_lists_every_member_and_a_representative_their_own(
    client: FlaskClient, session: Session, network: Network, groups
) -> None:
    lead = call(client, "GET", f"{API}/members", token_for(session, network.lead)).get_json()
    assert [m["slug"] for m in lead["items"]] == ["alpha", "beta"]
    alpha = lead["items"][0]
    # The lead administrator is no representative of Alpha, as on the network's overview.
    assert (alpha["pilot_groups"], alpha["representatives"], alpha["status"]) == (2, 1, "signed")
    beta = call(client, "GET", f"{API}/members", token_for(session, network.rep_beta))
    assert [m["slug"] for m in beta.get_json()["items"]] == ["beta"]
    assert "ALPHA-SECRET-TIP" not in beta.get_data(as_text=True)
    facts = call(client, "GET", f"{API}/members/beta", token_for(session, network.rep_beta))
    assert facts.get_json()["tips_md"] == "- BETA-SECRET-TIP" and facts.headers["ETag"]


def test_a_representative_changes_the_facts_the_page_lets_them_and_no_more(
    client: FlaskClient, session: Session, network: Network, rep: str
) -> None:
    etag = call(client, "GET", ALPHA, rep).headers["ETag"]
    change = {"people_reached": 2400, "contact_email": "Kim@Alpha.SE", "tips_md": "- a\r\n- b"}
    done = call(client, "PATCH", ALPHA, rep, json=change, headers={"If-Match": etag})
    assert done.status_code == 200, done.get_data(as_text=True)
    body = done.get_json()
    assert (body["people_reached"], body["contact_email"]) == (2400, "kim@alpha.se")
    assert body["tips_md"] == "- a\n- b" and body["meeting_software"] == "Lync"
    stale = call(client, "PATCH", ALPHA, rep, json={"tips_md": "x"}, headers={"If-Match": etag})
    _problem(stale, 412, "precondition_failed")
    status = call(client, "PATCH", ALPHA, rep, json={"status": "informal", "tips_md": "x"})
    assert set(_fields(_problem(status, 403, "lead_admin_only"))) == {"status"}
    bad = call(client, "PATCH", ALPHA, rep, json={"guide_url": "intranet", "contact_email": "x@"})
    assert set(_fields(_problem(bad, 422))) == {"guide_url", "contact_email"}
    session.expire_all()
    membership = session.scalars(select(Membership).where(Membership.people_reached == 2400))
    assert membership.one().tips_md == "- a\n- b"
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "member.facts_changed"))
    assert events.one().details["fields"] == ["people_reached", "tips_md", "contact_email"]
    lead = token_for(session, network.lead)
    decided = call(client, "PATCH", f"{API}/members/beta", lead,
                   json={"status": "signed", "enrolment_target": 40})  # fmt: skip
    assert decided.status_code == 200, decided.get_data(as_text=True)
    assert (decided.get_json()["status"], decided.get_json()["enrolment_target"]) == ("signed", 40)
    beta = session.scalars(select(Membership).where(Membership.enrolment_target == 40)).one()
    assert beta.status is MembershipStatus.SIGNED


# Pilot groups


def test_pilot_groups_are_created_once_per_key_and_changed_with_if_match(
    client: FlaskClient, session: Session, network: Network, rep: str
) -> None:
    new = {"name": " Miljö  förvaltningen", "kind": "project_group", "starts_on": "2014-04-01",
           "sequence_name": "pilot-group"}  # fmt: skip
    key = {"Idempotency-Key": "group-1"}
    first = call(client, "POST", f"{ALPHA}/groups", rep, json=new, headers=key)
    again = call(client, "POST", f"{ALPHA}/groups", rep, json=new, headers=key)
    assert first.status_code == 201, first.get_data(as_text=True)
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json() == first.get_json()
    made = first.get_json()
    assert (made["name"], made["kind"], made["active_participants"]) == (
        "Miljö förvaltningen", "project_group", 0,
    )  # fmt: skip
    assert session.scalar(select(func.count(PilotGroup.id))) == 1
    taken = call(client, "POST", f"{ALPHA}/groups", rep, json=new, headers=EN)
    body = _problem(taken, 409, "name_taken")
    assert body["detail"] == "You already have a pilot group with this name."
    bad = {**new, "name": "Annan", "sequence_name": "no-such", "starts_on": "1899-01-01"}
    assert set(_fields(_problem(call(client, "POST", f"{ALPHA}/groups", rep, json=bad), 422))) == {
        "sequence_name", "starts_on",
    }  # fmt: skip
    url = first.headers["Location"]
    etag = call(client, "GET", url, rep).headers["ETag"]
    changed = call(
        client, "PATCH", url, rep, json={"sequence_name": ""}, headers={"If-Match": etag}
    )
    assert changed.status_code == 200 and changed.get_json()["sequence_name"] is None
    stale = call(client, "PATCH", url, rep, json={"name": "Y"}, headers={"If-Match": etag})
    _problem(stale, 412)
    listed = call(client, "GET", f"{ALPHA}/groups", rep).get_json()["items"]
    assert [g["name"] for g in listed] == ["Miljö förvaltningen"]
    actions = list(
        session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.action.like("pilot_group.%"))
            .order_by(AuditEvent.id)
        )
    )
    assert actions == ["pilot_group.created", "pilot_group.changed"]
