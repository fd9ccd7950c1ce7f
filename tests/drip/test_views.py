"""The sequences in the web UI: timeline, preview, a test to oneself."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.outbox.models import Message, MessageKind
from tests.conftest import Network, csrf_token, sign_in
from tests.urls import staff


def test_timeline_lists_every_step_in_both_languages(client: FlaskClient, network: Network) -> None:
    sign_in(client, "lead@alpha.se")
    assert "Alla 16 steg klarar kontrollen." in client.get(staff("/sequences")).get_data(
        as_text=True
    )
    page = client.get(staff("/sequences/pilot-group")).get_data(as_text=True)
    assert "+2 arbetsdagar" in page and "kl. 09.00" in page and "+25 veckor" in page
    assert "−2 veckor från överenskommelsens sista dag" in page
    assert "Ditt första webbmöte – prova med någon du känner" in page
    assert "Your first web meeting – try it with someone you know" in page
    assert "deltagaren har varit med på ett prova-på-möte" in page
    assert "Välkommen till provgruppen för webbmöten, Åsa!" in page  # sample data filled in
    assert page.index(">Svenska</h2>") < page.index(">English</h2>")
    assert "behåller sin text" in page  # editing never changes mail already queued
    assert client.get(staff("/sequences/no-such")).status_code == 404


def test_preview_and_test_mail(client: FlaskClient, network: Network, session: Session) -> None:
    sign_in(client, "lead@alpha.se")
    page = client.get(staff("/sequences/pilot-group/sv/02")).get_data(as_text=True)
    assert "Hej Åsa!" in page and "Petter Bergman" in page  # sample data
    html = client.get(staff("/sequences/pilot-group/sv/02/html"))
    assert html.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert client.get(staff("/sequences/pilot-group/sv/99")).status_code == 404
    client.post(
        staff("/sequences/pilot-group/en/02/test"),
        data={"csrf_token": csrf_token(client, staff("/sequences"))},
    )
    message = session.scalars(select(Message)).one()
    assert message.kind is MessageKind.TEST and message.recipient == "lead@alpha.se"
    assert message.subject == "Your first web meeting – try it with someone you know"
