"""Unsubscribe and pause without a login: RFC 8058 one-click, the page's buttons, bad links."""

from __future__ import annotations

import base64
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.enrolment.models import Participant, ParticipantStatus
from campaign.outbox.models import Message, MessageState, Suppression, SuppressionReason
from campaign.outbox.unsubscribe import LINK_LIFETIME, token_for
from tests.conftest import START, Network
from tests.outbox_helpers import participant, queue_welcome


def _person_with_mail(app: Flask, session: Session, network: Network) -> tuple[Participant, str]:
    with app.app_context():
        person = participant(session, network, "asa@alpha.se")
        queue_welcome(session, person, START, step="01")
        queue_welcome(session, person, START + timedelta(days=3), step="02")
        session.commit()
        return person, token_for(person)


def _reload(session: Session, person: Participant) -> Participant:
    session.expire_all()
    return session.get(Participant, person.id)


def test_one_click_post_unsubscribes_without_login_cookie_or_csrf(
    app: Flask, session: Session, network: Network
) -> None:
    person, token = _person_with_mail(app, session, network)
    client = app.test_client(use_cookies=False)
    response = client.post(
        f"/u/{token}",
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert _reload(session, person).status is ParticipantStatus.UNSUBSCRIBED
    suppression = session.scalars(select(Suppression)).one()
    assert suppression.email == "asa@alpha.se"
    assert suppression.reason is SuppressionReason.UNSUBSCRIBED
    assert set(session.scalars(select(Message.state))) == {MessageState.CANCELLED}
    again = client.post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"})
    assert again.status_code == 200  # a second click is harmless


def test_opening_the_link_changes_nothing_until_a_button_is_pressed(
    app: Flask, client: FlaskClient, session: Session, network: Network
) -> None:
    person, token = _person_with_mail(app, session, network)
    page = client.get(f"/u/{token}").get_data(as_text=True)
    assert "Pausa min e-post" in page and "Avsluta e-posten" in page
    assert 'lang="sv"' in page and "asa@alpha.se" in page
    assert _reload(session, person).status is ParticipantStatus.ACTIVE
    page = client.post(f"/u/{token}", data={"action": "pause"}).get_data(as_text=True)
    assert "Din e-post är pausad" in page
    assert _reload(session, person).status is ParticipantStatus.PAUSED
    assert set(session.scalars(select(Message.state))) == {MessageState.QUEUED}  # held, not lost
    client.post(f"/u/{token}", data={"action": "resume"})
    assert _reload(session, person).status is ParticipantStatus.ACTIVE
    client.post(f"/u/{token}", data={"action": "unsubscribe"})
    assert _reload(session, person).status is ParticipantStatus.UNSUBSCRIBED


def test_page_speaks_the_participants_language(
    app: Flask, client: FlaskClient, session: Session, network: Network
) -> None:
    person, token = _person_with_mail(app, session, network)
    person.language = "en"
    session.commit()
    page = client.get(f"/u/{token}").get_data(as_text=True)
    assert 'lang="en"' in page and "Pause my e-mail" in page


def test_tampered_and_expired_links_are_refused_clearly(
    app: Flask, client: FlaskClient, session: Session, network: Network
) -> None:
    person, token = _person_with_mail(app, session, network)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    response = client.post(f"/u/{forged}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 400 and "Länken är inte giltig." in response.get_data(True)
    payload, signed_rest = token.split(".", 1)
    other_id = base64.urlsafe_b64encode(str(person.id + 1).encode()).rstrip(b"=").decode()
    assert other_id != payload
    other = client.post(f"/u/{other_id}.{signed_rest}", data={"action": "unsubscribe"})
    assert other.status_code == 400  # another participant's id under this signature
    app.extensions["campaign.clock"].advance(LINK_LIFETIME + timedelta(days=1))
    response = client.get(f"/u/{token}")
    assert response.status_code == 400 and "Länken har gått ut." in response.get_data(True)
    assert _reload(session, person).status is ParticipantStatus.ACTIVE


def test_erased_participant_gets_a_clear_answer(
    app: Flask, client: FlaskClient, session: Session, network: Network
) -> None:
    person, token = _person_with_mail(app, session, network)
    session.delete(person)
    session.commit()
    response = client.get(f"/u/{token}")
    assert response.status_code == 410
    assert "Vi har inga uppgifter om dig." in response.get_data(True)
