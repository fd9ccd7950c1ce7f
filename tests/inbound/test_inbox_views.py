"""The Inbox page over real HTTP: scoped by organisation like the outbox, in Swedish, a message
shown as plain text whatever its shape or size, marked as read with CSRF and audited, downloaded
as it came by the lead administrator only."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.audit import AuditEvent
from campaign.enrolment.models import Participant
from campaign.outbox.inbound import InboundMessage
from tests.conftest import Network, csrf_token, sign_in
from tests.inbound.conftest import sample
from tests.inbound_helpers import stored
from tests.outbox_helpers import participant
from tests.urls import staff

Receive = Callable[..., InboundMessage]


@pytest.fixture
def rows(app: Flask, session: Session, network: Network) -> dict[str, int]:
    """A message of Alpha's Anna, one of Beta's Bo, one of no campaign."""
    with app.app_context():
        anna = participant(session, network, "anna@alpha.se", name="Anna Andersson")
        bo = participant(session, network, "bo@beta.se", name="Bo Berg", org="beta")
        found = {
            "alpha": stored(session, anna),
            "beta": stored(session, bo, raw=sample("auto-rfc3834.eml")),
            "nobody": stored(session, None, raw=sample("other-unknown-charset.eml")),
        }
        session.commit()
    return found


def _as(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    sign_in(client, email)
    return client


def _page(client: FlaskClient, path: str) -> str:
    response = client.get(staff(path))
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def test_each_sees_the_messages_of_their_own_organisation_and_the_lead_all(
    app: Flask, network: Network, rows: dict[str, int]
) -> None:
    lead = _page(_as(app, network.lead.email), "/inbox")
    assert "Inkorg" in lead and "anna@alpha.se" in lead and "bo@beta.se" in lead
    assert "Okänt ärende" in lead  # of no campaign: the lead administrator's to read
    assert "Att läsa" in lead and "Annat meddelande" in lead
    assert "Sparat för att läsas av en person" in lead
    alpha = _page(_as(app, network.rep_alpha.email), "/inbox")
    assert "anna@alpha.se" in alpha and "bo@beta.se" not in alpha and "Okänt" not in alpha
    beta = _as(app, network.rep_beta.email)
    assert "anna@alpha.se" not in _page(beta, "/inbox?show=all")
    for path in (f"/inbox/{rows['alpha']}", f"/inbox/{rows['nobody']}"):
        assert beta.get(staff(path)).status_code == 404
    token = csrf_token(beta, staff("/inbox"))
    refused = beta.post(staff(f"/inbox/{rows['alpha']}/dismiss"), data={"csrf_token": token})
    assert refused.status_code == 404
    assert beta.get(staff(f"/inbox/{rows['beta']}/raw")).status_code == 403


def test_the_row_names_the_participant_with_a_link_for_who_may_open_their_page(
    app: Flask, network: Network, rows: dict[str, int], session: Session
) -> None:
    anna = session.scalars(select(Participant).where(Participant.email == "anna@alpha.se")).one()
    link = f'href="/campaigns/test/organisations/alpha/participants/{anna.id}"'
    assert link in _page(_as(app, network.lead.email), "/inbox")
    assert link in _page(_as(app, network.rep_alpha.email), f"/inbox/{rows['alpha']}")


def test_the_navigation_counts_the_messages_to_read(
    app: Flask, network: Network, rows: dict[str, int]
) -> None:
    page = _page(_as(app, network.lead.email), "/outbox")
    assert '3<span class="visually-hidden"> att läsa</span>' in page
    page = _page(_as(app, network.rep_alpha.email), "/outbox")
    assert '1<span class="visually-hidden"> att läsa</span>' in page


def test_marking_as_read_needs_the_csrf_token_and_is_audited(
    app: Flask, network: Network, rows: dict[str, int], session: Session
) -> None:
    client = _as(app, network.rep_alpha.email)
    path = staff(f"/inbox/{rows['alpha']}/dismiss")
    assert client.post(path).status_code == 400
    token = csrf_token(client, staff(f"/inbox/{rows['alpha']}"))
    response = client.post(path, data={"csrf_token": token}, follow_redirects=True)
    assert "Meddelandet är markerat som läst." in response.get_data(as_text=True)
    session.expire_all()
    row = session.get(InboundMessage, rows["alpha"])
    assert row is not None and row.dismissed_at is not None
    assert row.dismissed_by == network.rep_alpha.id
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "inbound.dismissed")
    ).one()
    assert (event.actor_id, event.target) == (network.rep_alpha.id, f"inbound:{row.id}")
    assert event.campaign_id == network.campaign.id
    assert "Inget att läsa." in _page(client, "/inbox")
    assert "anna@alpha.se" in _page(client, "/inbox?show=all")


def test_a_message_is_shown_as_text_never_as_html(
    app: Flask, network: Network, receive_file: Receive
) -> None:
    row = receive_file("other-human-reply.eml", message_id="<not-ours@x>")
    page = _page(_as(app, network.lead.email), f"/inbox/{row.id}")
    assert "Tack, men vi kör redan Skype på hela förvaltningen." in page
    assert "<script>alert" not in page and "tracker.example.net" not in page
    assert "Markera som läst" in page and "Hämta meddelandet (.eml)" in page
    assert "In-Reply-To" in page and "multipart/alternative" in page


def test_an_html_only_message_shows_its_words(
    app: Flask, network: Network, receive_bytes: Receive
) -> None:
    raw = (
        b"From: x@example.net\nSubject: Html\nContent-Type: text/html; charset=utf-8\n\n"
        b"<p>Hej <b>d\xc3\xa4r</b>&amp;v\xc3\xa4lkommen</p><script>alert(1)</script>"
        b"<style>p{}</style>\n"
    )
    page = _page(_as(app, network.lead.email), f"/inbox/{receive_bytes(raw).id}")
    assert "Hej där&amp;välkommen" in page and "alert(1)" not in page and "<b>" not in page


def test_broken_mime_and_an_unknown_charset_are_shown_not_a_500(
    app: Flask, network: Network, receive_file: Receive
) -> None:
    client = _as(app, network.lead.email)
    unknown = receive_file("other-unknown-charset.eml")
    page = _page(client, f"/inbox/{unknown.id}")
    assert "Hallå! Vi undrar hur man gör för att vara med i provgruppen." in page
    broken = receive_file("other-broken-mime.eml")
    page = _page(client, f"/inbox/{broken.id}")
    assert "Bilaga: protokoll" in page and "protokoll.pdf" in page
    assert "Meddelandet är inte korrekt uppbyggt" in page


def test_a_message_of_50_mb_makes_a_page_of_a_normal_size(
    app: Flask, network: Network, receive_bytes: Receive
) -> None:
    line = b"Det h\xc3\xa4r \xc3\xa4r en mycket l\xc3\xa5ng rad i ett mycket stort meddelande.\n"
    head = b"From: x@example.net\nSubject: Stort\nContent-Type: text/plain; charset=utf-8\n\n"
    raw = head + line * (50_000_000 // len(line))
    row = receive_bytes(raw)
    assert row.size > 49_000_000
    client = _as(app, network.lead.email)
    response = client.get(staff(f"/inbox/{row.id}"))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert len(page) < 150_000 and "Bara början av meddelandet visas." in page
    download = client.get(staff(f"/inbox/{row.id}/raw"))
    assert download.mimetype == "message/rfc822" and download.data == raw


def test_the_filters_and_the_english_page(
    app: Flask, network: Network, rows: dict[str, int], receive_file: Receive
) -> None:
    receive_file("auto-precedence.eml")
    client = _as(app, network.lead.email)
    autos = _page(client, "/inbox?show=all&kind=auto_reply")
    assert "cecilia@gamma.se" in autos and "anna@alpha.se" not in autos
    assert "cecilia@gamma.se" not in _page(client, "/inbox")  # an auto-reply needs no reading
    client.post("/language", data={"language": "en", "csrf_token": csrf_token(client), "next": "/"})
    english = _page(client, "/inbox?show=all")
    assert "Inbox" in english and "Automatic reply" in english and "To read" in english
