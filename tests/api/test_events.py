"""The API's meetings: planned, changed and cancelled by the meeting form's rules; invitations
through the page's fan-out; the invitees' answers; attendance."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign import timing
from campaign.audit import AuditEvent
from campaign.events import fanout, invitations
from campaign.events.models import Audience, Event, Invitation, Rsvp
from campaign.outbox.models import Message, MessageKind
from campaign.timing import FixedClock
from tests.api_helpers import call, token_for
from tests.conftest import START, Network
from tests.enrolment_helpers import make_event
from tests.outbox_helpers import participant

BASE = "/api/v1/campaigns/test"
ALPHA = f"{BASE}/members/alpha/events"
MEETING = {
    "kind": "training", "title": "Utbildning i Lync", "day": "2014-04-01", "starts": "09:00",
    "ends": "10:30", "room": "Sal 1",
}  # fmt: skip


def _clock(app: Flask) -> FixedClock:
    return cast(FixedClock, timing.clock_of(app))


def _errors(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/problem+json"
    return {e["field"]: e["detail"] for e in response.get_json()["errors"]}


def test_a_representative_plans_a_meeting_and_reads_it_back(
    client: FlaskClient, session: Session, network: Network
) -> None:
    token = token_for(session, network.rep_alpha)
    made = call(client, "POST", ALPHA, token, json=MEETING)
    assert made.status_code == 201, made.get_data(as_text=True)
    body = made.get_json()
    assert made.headers["Location"] == f"{ALPHA}/{body['id']}" and made.headers["ETag"]
    assert body["starts_at"].startswith("2014-04-01T07:00:00")  # 09:00 in Stockholm, summer
    assert (body["member"], body["timezone"], body["state"]) == (
        "alpha", "Europe/Stockholm", "planned",
    )  # fmt: skip
    shown = call(client, "GET", made.headers["Location"], token)
    assert shown.get_json() == body and shown.headers["ETag"] == made.headers["ETag"]
    row = session.get(Event, body["id"])
    assert row is not None and row.title == "Utbildning i Lync" and row.organiser_id
    audited = session.scalars(select(AuditEvent).where(AuditEvent.action == "event.created"))
    assert audited.one().actor_id == network.rep_alpha.id


def test_the_form_refuses_what_the_page_refuses_in_its_words(
    client: FlaskClient, session: Session, network: Network
) -> None:
    token = token_for(session, network.rep_alpha)
    en = {"Accept-Language": "en"}
    late = call(client, "POST", ALPHA, token, json={**MEETING, "ends": "08:00"}, headers=en)
    assert _errors(late) == {"ends": "The meeting must end after it starts."}
    zone = call(client, "POST", ALPHA, token, json={**MEETING, "timezone": "Mars/Olympus"},
                headers=en)  # fmt: skip
    assert "Not a known time zone" in _errors(zone)["timezone"]
    gap = {**MEETING, "day": "2014-03-30", "starts": "02:30", "ends": "04:00"}
    assert "does not exist on 2014-03-30" in _errors(call(client, "POST", ALPHA, token, json=gap,
                                                          headers=en))["starts"]  # fmt: skip
    group = call(client, "POST", ALPHA, token, json={**MEETING, "audience": "pilot_group"},
                 headers=en)  # fmt: skip
    assert _errors(group) == {"pilot_group_id": "Choose the pilot group that is invited."}
    # Only the lead administrator invites the whole campaign.
    wide = call(client, "POST", ALPHA, token, json={**MEETING, "audience": "campaign"})
    assert set(_errors(wide)) == {"audience"}
    typed = call(client, "POST", ALPHA, token, json={**MEETING, "day": "someday"})
    assert set(_errors(typed)) == {"day"}
    assert session.scalar(select(func.count()).select_from(Event)) == 0
    lead = token_for(session, network.lead)
    assert (
        call(client, "POST", ALPHA, lead, json={**MEETING, "audience": "campaign"}).status_code
        == 201
    )


def test_another_members_meetings_are_not_there(
    client: FlaskClient, session: Session, network: Network
) -> None:
    own = make_event(session, network)
    wide = make_event(session, network, audience=Audience.CAMPAIGN, title="Hela nätverket")
    beta_event = make_event(session, network, organisation_id=network.beta.id, title="Betas")
    session.commit()
    beta = token_for(session, network.rep_beta)
    assert call(client, "GET", f"{ALPHA}/{own.id}", beta).status_code == 404
    assert call(client, "POST", ALPHA, beta, json=MEETING).status_code == 404
    assert call(client, "PATCH", f"{ALPHA}/{own.id}", beta, json={"room": "x"}).status_code == 404
    assert call(client, "POST", f"{ALPHA}/{own.id}/cancel", beta).status_code == 404
    assert call(client, "GET", f"{BASE}/members/beta/events/{own.id}", beta).status_code == 404
    listed = call(client, "GET", f"{BASE}/events", beta).get_json()["items"]
    assert {e["id"] for e in listed} == {wide.id, beta_event.id}
    lead = token_for(session, network.lead)
    everything = call(client, "GET", f"{BASE}/events", lead).get_json()["items"]
    assert {e["id"] for e in everything} == {own.id, wide.id, beta_event.id}
    only_beta = call(client, "GET", f"{BASE}/events", lead, query_string={"member": "beta"})
    assert [e["id"] for e in only_beta.get_json()["items"]] == [beta_event.id]
    # A representative of Alpha may not change the meeting for the whole campaign.
    alpha = token_for(session, network.rep_alpha)
    refused = call(client, "PATCH", f"{ALPHA}/{wide.id}", alpha, json={"room": "x"})
    assert refused.status_code == 403
    assert call(client, "GET", f"{ALPHA}/{wide.id}", alpha).get_json()["may_change"] is False


def test_upcoming_and_past_meetings(
    app: Flask, client: FlaskClient, session: Session, network: Network
) -> None:
    early = make_event(session, network)  # 2014-03-10
    later = make_event(session, network, starts_at=START + timedelta(days=30),
                       ends_at=START + timedelta(days=30, hours=1))  # fmt: skip
    session.commit()
    token = token_for(session, network.rep_alpha)
    _clock(app).set(START + timedelta(days=10))

    def listed(when: str) -> list[int]:
        answer = call(client, "GET", f"{BASE}/events", token, query_string={"when": when})
        return [e["id"] for e in answer.get_json()["items"]]

    assert (listed("upcoming"), listed("past")) == ([later.id], [early.id])
    bad = call(client, "GET", f"{BASE}/events", token, query_string={"when": "soon"})
    assert set(_errors(bad)) == {"when"}


def test_a_change_checks_if_match_and_sends_the_new_time(
    client: FlaskClient, session: Session, network: Network
) -> None:
    event = make_event(session, network)
    for n in range(3):
        participant(session, network, f"p{n}@alpha.se")
    session.commit()
    token = token_for(session, network.rep_alpha)
    url = f"{ALPHA}/{event.id}"
    etag = call(client, "GET", url, token).headers["ETag"]
    assert call(client, "POST", f"{url}/invitations", token).get_json()["invited"] == 3
    changed = call(client, "PATCH", url, token, json={"starts": "08:30"},
                   headers={"If-Match": etag})  # fmt: skip
    assert changed.status_code == 200, changed.get_data(as_text=True)
    body = changed.get_json()
    assert (body["starts"], body["ends"], body["sequence"]) == ("08:30", "10:00", 1)
    assert changed.headers["ETag"] != etag
    stale = call(client, "PATCH", url, token, json={"room": "Sal 9"}, headers={"If-Match": etag})
    assert stale.status_code == 412
    assert session.get(Event, event.id).room == "Sal 3"  # type: ignore[union-attr]
    updates = select(func.count()).where(Message.source_key.like(f"ev:{event.id}:s1:%"))
    assert session.scalar(updates) == 3  # each invitee gets the new time
    bad = call(client, "PATCH", url, token, json={"ends": "07:00"})
    assert set(_errors(bad)) == {"ends"}


def test_cancelling_tells_the_invitees_and_ends_changes(
    client: FlaskClient, session: Session, network: Network
) -> None:
    event = make_event(session, network)
    participant(session, network, "anna@alpha.se")
    session.commit()
    token = token_for(session, network.rep_alpha)
    url = f"{ALPHA}/{event.id}"
    call(client, "POST", f"{url}/invitations", token)
    cancelled = call(client, "POST", f"{url}/cancel", token)
    assert cancelled.status_code == 200 and cancelled.get_json()["state"] == "cancelled"
    notices = select(func.count()).where(Message.source_key.like(f"ev:{event.id}:s1:%"))
    assert session.scalar(notices) == 1
    assert call(client, "POST", f"{url}/cancel", token).status_code == 200  # stays cancelled
    assert session.scalar(notices) == 1
    for method, path in (("PATCH", url), ("POST", f"{url}/invitations")):
        refused = call(
            client, method, path, token, json={"room": "x"} if method == "PATCH" else None
        )
        assert refused.status_code == 409 and refused.get_json()["code"] == "event_cancelled"


def test_a_repeated_create_with_its_idempotency_key_plans_one_meeting(
    client: FlaskClient, session: Session, network: Network
) -> None:
    token = token_for(session, network.rep_alpha)
    key = {"Idempotency-Key": "plan-1"}
    first = call(client, "POST", ALPHA, token, json=MEETING, headers=key)
    again = call(client, "POST", ALPHA, token, json=MEETING, headers=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.get_json()["id"] == again.get_json()["id"]
    assert session.scalar(select(func.count()).select_from(Event)) == 1


def test_a_large_audience_is_invited_by_the_job_a_batch_at_a_time(
    app: Flask, client: FlaskClient, session: Session, network: Network,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr(fanout, "IN_REQUEST", 2)  # more than 2 go to the job (200 in production)
    event = make_event(session, network)
    for n in range(5):
        participant(session, network, f"p{n}@alpha.se")
    session.commit()
    token = token_for(session, network.rep_alpha)
    answer = call(client, "POST", f"{ALPHA}/{event.id}/invitations", token).get_json()
    assert answer["invited"] == 5 and answer["not_yet_invited"] == 0
    assert (answer["state"], answer["done"], answer["total"]) == ("queued", 0, 5)
    assert session.scalar(select(func.count()).select_from(Message)) == 0
    with app.app_context():
        fanout.run_due(session, START)
    kinds = session.scalars(select(Message.kind)).all()
    assert kinds == [MessageKind.INVITATION] * 5
    assert call(client, "POST", f"{ALPHA}/{event.id}/invitations", token).get_json()["invited"] == 0


def test_invitees_and_answers_a_representative_sees_only_their_own(
    app: Flask, client: FlaskClient, session: Session, network: Network
) -> None:
    wide = make_event(session, network, audience=Audience.CAMPAIGN, capacity=1)
    people = [participant(session, network, f"a{n}@alpha.se") for n in range(2)]
    people.append(participant(session, network, "b@beta.se", org="beta"))
    session.commit()
    lead = token_for(session, network.lead)
    url = f"{ALPHA}/{wide.id}/invitations"
    assert call(client, "POST", url, lead).get_json()["invited"] == 3
    rows = {i.participant_id: i for i in session.scalars(select(Invitation))}
    with app.app_context():
        invitations.respond(session, rows[people[0].id], Rsvp.ACCEPTED, START)
        invitations.respond(session, rows[people[1].id], Rsvp.ACCEPTED, START)  # full: waits
    session.commit()
    everyone = call(client, "GET", url, lead).get_json()["items"]
    assert {(i["email"], i["member"], i["rsvp"]) for i in everyone} == {
        ("a0@alpha.se", "alpha", "accepted"), ("a1@alpha.se", "alpha", "waitlisted"),
        ("b@beta.se", "beta", "pending"),
    }  # fmt: skip
    rep = token_for(session, network.rep_alpha)
    own = call(client, "GET", url, rep).get_json()["items"]
    assert {i["email"] for i in own} == {"a0@alpha.se", "a1@alpha.se"}
    waiting = call(client, "GET", url, rep, query_string={"rsvp": "waitlisted"}).get_json()
    assert [i["email"] for i in waiting["items"]] == ["a1@alpha.se"]
    paged = call(client, "GET", url, lead, query_string={"limit": 2}).get_json()
    assert len(paged["items"]) == 2 and paged["next_cursor"]


def test_attendance_once_started_and_never_at_a_cancelled_meeting(
    app: Flask, client: FlaskClient, session: Session, network: Network
) -> None:
    event = make_event(session, network)
    people = [participant(session, network, f"p{n}@alpha.se") for n in range(3)]
    session.commit()
    token = token_for(session, network.rep_alpha)
    url = f"{ALPHA}/{event.id}"
    call(client, "POST", f"{url}/invitations", token)
    ids = {i.participant_id: i.id for i in session.scalars(select(Invitation))}
    with app.app_context():
        no = session.get(Invitation, ids[people[2].id])
        invitations.respond(session, no, Rsvp.DECLINED, START)  # type: ignore[arg-type]
    session.commit()
    early = call(client, "PUT", f"{url}/attendance", token, json={"attended": [ids[people[0].id]]},
                 headers={"Accept-Language": "en"})  # fmt: skip
    assert early.status_code == 409 and early.get_json()["code"] == "event_not_started"
    assert early.get_json()["detail"].startswith("The meeting has not started yet")
    _clock(app).set(START + timedelta(days=7, minutes=-30))  # 09:30 local: under way
    shown = call(client, "GET", f"{url}/attendance", token)
    assert shown.get_json()["state"] == "started" and shown.get_json()["attended"] == 0
    everyone = list(ids.values())
    marked = call(client, "PUT", f"{url}/attendance", token, json={"attended": everyone},
                  headers={"If-Match": shown.headers["ETag"]})  # fmt: skip
    assert marked.status_code == 200, marked.get_data(as_text=True)
    # One who said no counts only when named as having come anyway.
    assert marked.get_json()["attended_ids"] == sorted([ids[people[0].id], ids[people[1].id]])
    stale = call(client, "PUT", f"{url}/attendance", token, json={"attended": []},
                 headers={"If-Match": shown.headers["ETag"]})  # fmt: skip
    assert stale.status_code == 412
    anyway = call(client, "PUT", f"{url}/attendance", token,
                  json={"attended": [], "came_anyway": [ids[people[2].id]]})  # fmt: skip
    assert anyway.get_json()["attended_ids"] == [ids[people[2].id]]
    came = {i.id for i in session.scalars(select(Invitation).where(Invitation.has_attended))}
    assert came == {ids[people[2].id]}
    audited = select(func.count()).where(AuditEvent.action == "event.attendance_marked")
    assert session.scalar(audited) == 2
    call(client, "POST", f"{url}/cancel", token)
    refused = call(client, "PUT", f"{url}/attendance", token, json={"attended": []})
    assert refused.status_code == 409 and refused.get_json()["code"] == "event_cancelled"
