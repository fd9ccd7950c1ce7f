"""The outbox in the web UI: lists, one message, cancel, send again, test mail, suppressions."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.outbox.models import (
    Message,
    MessageKind,
    MessageState,
    Suppression,
    SuppressionReason,
)
from campaign.outbox.queue import suppress
from tests.conftest import START, Network, csrf_token, sign_in
from tests.outbox_helpers import participant, queue_welcome
from tests.urls import staff


def _mail(app: Flask, session: Session, network: Network) -> tuple[int, int]:
    with app.app_context():
        alpha = queue_welcome(session, participant(session, network, "a@alpha.se"), START)
        beta = queue_welcome(session, participant(session, network, "b@beta.se", org="beta"), START)
        session.commit()
    return alpha, beta


def test_lead_admin_sees_all_mail_and_a_rep_only_their_own(
    app: Flask, session: Session, network: Network
) -> None:
    _mail(app, session, network)
    lead = app.test_client()
    sign_in(lead, "lead@alpha.se")
    page = lead.get(staff("/outbox")).get_data(as_text=True)
    assert "a@alpha.se" in page and "b@beta.se" in page and "2 meddelanden" in page
    rep = app.test_client()
    sign_in(rep, "rep@beta.se")
    page = rep.get(staff("/outbox")).get_data(as_text=True)
    assert "b@beta.se" in page and "a@alpha.se" not in page and "1 meddelande" in page
    assert "spärrade adresser" not in page  # the suppression list is the lead admin's


def test_filter_by_state(
    app: Flask, client: FlaskClient, session: Session, network: Network
) -> None:
    alpha, _beta = _mail(app, session, network)
    session.get(Message, alpha).state = MessageState.FAILED
    session.commit()
    sign_in(client, "lead@alpha.se")
    page = client.get(staff("/outbox?state=failed")).get_data(as_text=True)
    assert "a@alpha.se" in page and "b@beta.se" not in page


def test_cancel_and_send_again_keep_the_message_id(
    app: Flask, client: FlaskClient, session: Session, network: Network
) -> None:
    alpha, _beta = _mail(app, session, network)
    message_id = session.get(Message, alpha).message_id
    sign_in(client, "rep@alpha.se")
    page = client.get(staff(f"/outbox/{alpha}")).get_data(as_text=True)
    assert message_id.replace("<", "&lt;").replace(">", "&gt;") in page
    token = csrf_token(client, staff(f"/outbox/{alpha}"))
    client.post(staff(f"/outbox/{alpha}/cancel"), data={"csrf_token": token})
    session.expire_all()
    message = session.get(Message, alpha)
    assert message.state is MessageState.CANCELLED and "rep@alpha.se" in message.last_answer
    response = client.post(staff(f"/outbox/{alpha}/cancel"), data={"csrf_token": token})
    assert "kan inte längre stoppas" in client.get(response.headers["Location"]).get_data(True)
    client.post(staff(f"/outbox/{alpha}/retry"), data={"csrf_token": token})
    session.expire_all()
    message = session.get(Message, alpha)
    assert message.state is MessageState.QUEUED and message.message_id == message_id


def test_html_preview_is_served_with_its_own_narrow_policy(
    app: Flask, client: FlaskClient, session: Session, network: Network
) -> None:
    alpha, _beta = _mail(app, session, network)
    sign_in(client, "lead@alpha.se")
    response = client.get(staff(f"/outbox/{alpha}/html"))
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "<strong>provgruppen</strong>" in response.get_data(as_text=True)
    page = client.get(staff(f"/outbox/{alpha}")).get_data(as_text=True)
    frame = staff(f"/outbox/{alpha}/html")
    assert f'sandbox src="{frame}"' in page


def test_send_a_test_mail_to_oneself(
    app: Flask, client: FlaskClient, session: Session, network: Network
) -> None:
    sign_in(client, "rep@beta.se")
    response = client.post(
        staff("/outbox/test"), data={"csrf_token": csrf_token(client, staff("/outbox"))}
    )
    assert response.status_code == 302
    message = session.scalars(select(Message)).one()
    assert message.kind is MessageKind.TEST and message.recipient == "rep@beta.se"
    assert message.subject == "Testmejl från kampanjtjänsten"
    assert message.organisation_id == network.beta.id
    assert "Hej Bert!" in message.text_body


def test_lead_admin_lifts_a_suppression(
    app: Flask, client: FlaskClient, session: Session, network: Network
) -> None:
    suppress(session, "gone@alpha.se", SuppressionReason.HARD_BOUNCE, "550 No such user", START)
    session.commit()
    suppression_id = session.scalars(select(Suppression.id)).one()
    sign_in(client, "lead@alpha.se")
    page = client.get(staff("/outbox/suppressions")).get_data(as_text=True)
    assert "gone@alpha.se" in page and "550 No such user" in page
    client.post(
        staff(f"/outbox/suppressions/{suppression_id}/delete"),
        data={"csrf_token": csrf_token(client, staff("/outbox"))},
    )
    assert session.scalars(select(Suppression)).all() == []
