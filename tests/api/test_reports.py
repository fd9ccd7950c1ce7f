"""The API's report figures as of a moment: the report page's and the dashboard's, the same
moment giving the same figures; a representative's own member's only."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import cast

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from campaign import timing
from campaign.events.models import Invitation, Rsvp
from campaign.outbox.models import Message, MessageState
from campaign.timing import FixedClock
from tests.api_helpers import call, token_for
from tests.conftest import START, Network, sign_in
from tests.enrolment_helpers import make_event
from tests.outbox_helpers import participant, queue_welcome

BASE = "/api/v1/campaigns/test"
CARD = re.compile(r'<span class="value">([^<]*)</span> <span class="label">([^<]*)</span>')
ENGLISH = {
    "pilotanvändare": "pilot users", "levererade e-postmeddelanden": "e-mails delivered",
    "utbildade": "people trained", "km undvikna resor": "km of travel avoided",
    "hållna utbildningar och prova-på-möten": "trainings and practice meetings held",
}  # fmt: skip
SENT = START + timedelta(days=1)  # 2014-03-04 09:00 UTC: 10:00 in Stockholm


@pytest.fixture
def pilot(app: Flask, session: Session, network: Network) -> None:
    """Two of Alpha's people and one of Beta's, each sent a welcome a day after START; Alpha's
    meeting of 2014-03-10, to which one said yes and came."""
    with app.app_context():
        people = [
            participant(session, network, "a1@alpha.se"),
            participant(session, network, "a2@alpha.se"),
            participant(session, network, "b1@beta.se", org="beta"),
        ]
        for person in people:
            message = session.get(Message, queue_welcome(session, person, START))
            assert message is not None
            message.state, message.sent_at = MessageState.SENT, SENT
    event = make_event(session, network)
    session.add_all([
        Invitation(event_id=event.id, participant_id=people[0].id, rsvp=Rsvp.ACCEPTED,
                   has_attended=True, created_at=START),
        Invitation(event_id=event.id, participant_id=people[1].id, created_at=START),
    ])  # fmt: skip
    session.commit()
    cast(FixedClock, timing.clock_of(app)).set(
        START + timedelta(days=20)
    )  # within the tokens' 30 days


def _cards(app: Flask, email: str, path: str) -> dict[str, str]:
    """The figures of a page's cards, by their label."""
    browser = app.test_client()
    sign_in(browser, email)
    page = browser.get(path).get_data(as_text=True)  # in the account's language: Swedish
    return {ENGLISH[label]: value for value, label in CARD.findall(html.unescape(page))}


@pytest.mark.usefixtures("pilot")
def test_the_report_figures_are_the_report_pages_as_of_any_moment(
    app: Flask, client: FlaskClient, session: Session, network: Network
) -> None:
    lead = token_for(session, network.lead)
    now = call(client, "GET", f"{BASE}/report", lead)
    assert now.status_code == 200, now.get_data(as_text=True)
    body = now.get_json()
    assert (body["participants"], body["delivered"], body["trained"]) == (3, 3, 1)
    assert body["as_of"] == "2014-03-23T10:00:00+01:00"  # now, in the campaign's zone
    assert body["outcomes"]["km"] is None  # no follow-up answers count: hidden
    members = {m["member"]: m for m in body["members"]}
    assert (members["alpha"]["delivered"], members["beta"]["delivered"]) == (2, 1)
    assert body["meetings"][0]["invited"] == 2 and body["meetings"][0]["accepted"] == 1
    cards = _cards(app, network.lead.email, "/campaigns/test/report")
    assert cards["pilot users"] == "3" and cards["e-mails delivered"] == "3"
    assert cards["people trained"] == "1" and cards["km of travel avoided"] == "–"
    # Before the mail went (09:00 in Stockholm, no offset given), nothing was delivered.
    before = call(
        client, "GET", f"{BASE}/report", lead, query_string={"as_of": "2014-03-04T09:59:59"}
    )
    assert before.get_json()["delivered"] == 0
    again = call(
        client, "GET", f"{BASE}/report", lead, query_string={"as_of": "2014-03-04T09:59:59"}
    )
    assert again.headers["ETag"] == before.headers["ETag"]  # the same moment, the same figures
    at_send = call(
        client, "GET", f"{BASE}/report", lead, query_string={"as_of": "2014-03-04T09:00:00Z"}
    )
    assert at_send.get_json()["delivered"] == 3


@pytest.mark.usefixtures("pilot")
def test_a_moment_the_report_cannot_be_made_for_is_refused_in_the_pages_words(
    app: Flask, client: FlaskClient, session: Session, network: Network
) -> None:
    lead = token_for(session, network.lead)
    for asked in ("yesterday", "2099-01-01T00:00:00"):
        answer = call(client, "GET", f"{BASE}/report", lead, query_string={"as_of": asked})
        assert answer.status_code == 422 and answer.get_json()["errors"][0]["field"] == "as_of"
        browser = app.test_client()
        sign_in(browser, network.lead.email)
        page = browser.get("/campaigns/test/report", query_string={"as_of": asked})
        assert page.status_code == 400
        assert answer.get_json()["detail"] in html.unescape(page.get_data(as_text=True))


@pytest.mark.usefixtures("pilot")
def test_a_representative_reads_only_their_own_members_figures(
    app: Flask, client: FlaskClient, session: Session, network: Network
) -> None:
    rep = token_for(session, network.rep_alpha)
    own = call(client, "GET", f"{BASE}/members/alpha/report", rep)
    assert own.status_code == 200, own.get_data(as_text=True)
    figures = own.get_json()["figures"]
    assert (figures["member"], figures["participants"], figures["delivered"]) == ("alpha", 2, 2)
    assert figures["by_status"] == {"active": 2} and figures["trained"] == 1
    assert own.get_json()["meetings"][0]["accepted"] == 1
    cards = _cards(app, network.rep_alpha.email, "/campaigns/test/organisations/alpha/dashboard")
    assert cards["pilot users"] == "2" and cards["e-mails delivered"] == "2"
    assert call(client, "GET", f"{BASE}/members/beta/report", rep).status_code == 404
    assert call(client, "GET", f"{BASE}/report", rep).status_code == 403
    beta = token_for(session, network.rep_beta)
    theirs = call(client, "GET", f"{BASE}/members/beta/report", beta).get_json()
    assert theirs["figures"]["delivered"] == 1 and theirs["meetings"] == []
    assert "alpha" not in str(theirs)
