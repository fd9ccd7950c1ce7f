"""The whole way through the API with plain HTTP requests (the test client, tokens made by
token_for): a person enrolled, invited to a meeting, answering through the signed link of the
invitation they were sent, and the report counting their yes."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import cast

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from campaign import timing
from campaign.outbox.models import Message
from campaign.timing import FixedClock
from tests.api_helpers import call, token_for
from tests.conftest import START, Network, csrf_token
from tests.enrolment_helpers import group

MEMBER = "/api/v1/campaigns/test/members/alpha"
RSVP_LINK = re.compile(r"https?://[^/\s]+(/rsvp/[^\s?\"<>]+)")


def _enrol(client: FlaskClient, token: str, group_id: int) -> int:
    """Enrol Anna in the pilot group through the API."""
    made = call(client, "POST", f"{MEMBER}/participants", token, json={
        "email": "anna@alpha.se", "name": "Anna Andersson", "pilot_group_id": group_id,
        "has_agreed": True,
    })  # fmt: skip
    assert made.status_code == 201, made.get_data(as_text=True)
    return int(made.get_json()["id"])


def _answer_yes(client: FlaskClient, mail: str) -> None:
    """Answer yes through the invitation's signed link, as the participant's browser does."""
    found = RSVP_LINK.search(mail)
    assert found, mail
    path = found.group(1)
    response = client.post(
        path, data={"answer": "accepted", "csrf_token": csrf_token(client, path)}
    )
    assert response.status_code == 200, response.get_data(as_text=True)


def test_enrolment_invitation_rsvp_report(
    app: Flask, client: FlaskClient, session: Session, network: Network
) -> None:
    pilot_group = group(session, network)
    session.commit()
    rep, lead = token_for(session, network.rep_alpha), token_for(session, network.lead)
    person_id = _enrol(client, rep, pilot_group.id)

    meeting = call(client, "POST", f"{MEMBER}/events", rep, json={
        "kind": "practice_meeting", "title": "Prova Lync", "day": "2014-03-05", "starts": "09:00",
        "ends": "10:00", "audience": "pilot_group", "pilot_group_id": pilot_group.id,
    })  # fmt: skip
    assert meeting.status_code == 201, meeting.get_data(as_text=True)
    event = meeting.headers["Location"]
    invited = call(client, "POST", f"{event}/invitations", rep).get_json()
    assert (invited["invited"], invited["state"]) == (1, "done")

    sent = call(client, "GET", "/api/v1/campaigns/test/outbox/messages", rep,
                query_string={"participant_id": person_id, "kind": "invitation"})  # fmt: skip
    [message] = sent.get_json()["items"]
    assert message["recipient"] == "anna@alpha.se" and message["state"] == "queued"
    # What Anna receives: the mail itself, with her link (the API never shows it).
    mail = session.get(Message, message["id"])
    assert mail is not None
    _answer_yes(app.test_client(), mail.text_body)

    answers = call(client, "GET", f"{event}/invitations", rep).get_json()["items"]
    assert [(i["participant_id"], i["rsvp"]) for i in answers] == [(person_id, "accepted")]

    cast(FixedClock, timing.clock_of(app)).set(START + timedelta(days=3))  # the meeting is held
    report = call(client, "GET", "/api/v1/campaigns/test/report", lead).get_json()
    [held] = report["meetings"]
    assert (held["title"], held["invited"], held["accepted"]) == ("Prova Lync", 1, 1)
    own = call(client, "GET", f"{MEMBER}/report", rep).get_json()
    assert own["meetings"][0]["accepted"] == 1 and own["figures"]["by_status"] == {"active": 1}
    before = call(client, "GET", "/api/v1/campaigns/test/report", lead,
                  query_string={"as_of": "2014-03-05T09:30:00"})  # fmt: skip
    assert before.get_json()["meetings"] == []  # not held yet at that moment
