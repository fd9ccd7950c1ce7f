"""The API's outbox: message states in the outbox page's scope, filtered and paged, and never a
link that acts for the recipient."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.events.invitations import rsvp_token
from campaign.events.models import Invitation
from campaign.outbox.models import Message, MessageKind, MessageState
from campaign.security import SIGNED_TOKEN
from tests.api_helpers import call, token_for
from tests.conftest import START, Network
from tests.enrolment_helpers import make_event
from tests.outbox_helpers import participant, queue_welcome

BASE = "/api/v1/campaigns/test"
MESSAGES = f"{BASE}/outbox/messages"


def test_an_invitation_shows_its_state_and_text_but_no_signed_link(
    app: Flask, client: FlaskClient, session: Session, network: Network
) -> None:
    event = make_event(session, network)
    person = participant(session, network, "anna@alpha.se")
    session.commit()
    rep = token_for(session, network.rep_alpha)
    call(client, "POST", f"{BASE}/members/alpha/events/{event.id}/invitations", rep)
    message = session.scalars(select(Message)).one()
    invitation = session.scalars(select(Invitation)).one()
    with app.app_context():
        link = rsvp_token(invitation)
    assert link in message.text_body  # the mail itself carries the participant's link
    message.state, message.attempts = MessageState.RETRY, 2
    message.last_answer = "451 4.7.1 Greylisted, try again"
    session.commit()
    answer = call(client, "GET", f"{MESSAGES}/{message.id}", rep, headers={"Accept-Language": "en"})
    assert answer.status_code == 200 and answer.headers["ETag"]
    body = answer.get_json()
    assert (body["kind"], body["state"], body["attempts"]) == ("invitation", "retry", 2)
    assert (body["member"], body["participant_id"], body["recipient"]) == (
        "alpha", person.id, "anna@alpha.se",
    )  # fmt: skip
    assert body["last_answer"] == body["last_answer_text"] == "451 4.7.1 Greylisted, try again"
    assert body["subject"] and "[personal link, hidden]" in body["text"]
    raw = answer.get_data(as_text=True)
    assert link not in raw and "/rsvp/" not in raw and not SIGNED_TOKEN.search(raw)
    listed = call(client, "GET", MESSAGES, rep).get_data(as_text=True)
    assert (
        link not in listed
        and "text" not in call(client, "GET", MESSAGES, rep).get_json()["items"][0]
    )


def test_mail_only_its_recipient_may_read_shows_its_envelope_only(
    client: FlaskClient, session: Session, network: Network
) -> None:
    secret = Message(
        source_key="login:1", campaign_id=network.campaign.id, organisation_id=network.alpha.id,
        recipient="rep@alpha.se", kind=MessageKind.LOGIN_LINK, subject="Din inloggningslänk",
        text_body="Logga in: https://kampanj.example.se/login/SECRET-LINK", html_body="",
        message_id="<login.1@t>", due_at=START, created_at=START,
    )  # fmt: skip
    session.add(secret)
    session.commit()
    lead = token_for(session, network.lead)
    body = call(client, "GET", f"{MESSAGES}/{secret.id}", lead).get_json()
    assert (body["kind"], body["state"], body["subject"], body["text"]) == (
        "login_link", "queued", None, None,
    )  # fmt: skip
    assert "SECRET-LINK" not in str(body) and "inloggningslänk" not in str(body)


def test_filters_pages_and_the_pages_scope(
    app: Flask, client: FlaskClient, session: Session, network: Network
) -> None:
    anna = participant(session, network, "anna@alpha.se")
    bo = participant(session, network, "bo@alpha.se")
    beda = participant(session, network, "beda@beta.se", org="beta")
    with app.app_context():  # the unsubscribe links are signed
        ids = [queue_welcome(session, p, START, n) for p in (anna, bo, beda) for n in ("01", "02")]
    failed = session.get(Message, ids[1])
    assert failed is not None
    failed.state, failed.last_answer = MessageState.FAILED, "550 5.1.1 No such user"
    session.commit()
    lead = token_for(session, network.lead)

    def listed(token: str, **query: object) -> list[int]:
        answer = call(client, "GET", MESSAGES, token, query_string=query)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return [m["id"] for m in answer.get_json()["items"]]

    assert listed(lead) == ids
    assert listed(lead, state="failed") == [ids[1]]
    assert listed(lead, participant_id=bo.id) == ids[2:4]
    assert listed(lead, kind="sequence_step", state="queued") == [ids[0], *ids[2:]]
    assert listed(lead, kind="invitation") == []
    first = call(client, "GET", MESSAGES, lead, query_string={"limit": 4}).get_json()
    rest = call(client, "GET", MESSAGES, lead,
                query_string={"limit": 4, "cursor": first["next_cursor"]}).get_json()  # fmt: skip
    assert [m["id"] for m in first["items"] + rest["items"]] == ids and rest["next_cursor"] is None
    beta = token_for(session, network.rep_beta)
    assert listed(beta) == ids[4:]
    assert listed(beta, participant_id=anna.id) == []
    assert call(client, "GET", f"{MESSAGES}/{ids[0]}", beta).status_code == 404
    bad = call(client, "GET", MESSAGES, lead, query_string={"state": "lost"})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "state"
