"""Making a questionnaire anonymous cannot be undone, so it asks for a confirmation: a box
naming the consequence, required by the page and by the server."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from campaign.surveys import service
from campaign.surveys.models import Questionnaire
from tests.conftest import START, Network, csrf_token, sign_in
from tests.urls import staff


def _baseline(app: Flask, session: Session, network: Network) -> int:
    with app.app_context():
        found = service.questionnaires_of(session, network.campaign, START)
        session.commit()
        return next(q.id for q in found if not q.is_anonymous)


def test_the_page_asks_for_the_box_naming_the_consequence(
    app: Flask, session: Session, network: Network
) -> None:
    questionnaire_id = _baseline(app, session, network)
    lead = app.test_client()
    sign_in(lead, "lead@alpha.se")
    page = lead.get(staff(f"/questionnaires/{questionnaire_id}")).get_data(as_text=True)
    assert 'name="confirm" value="yes" id="anonymous-confirm" required' in page
    assert "Jag förstår att det inte går att ångra" in page


def test_without_the_box_nothing_changes_and_with_it_the_change_is_made(
    app: Flask, session: Session, network: Network
) -> None:
    questionnaire_id = _baseline(app, session, network)
    lead = app.test_client()
    sign_in(lead, "lead@alpha.se")
    page = staff(f"/questionnaires/{questionnaire_id}")
    token = csrf_token(lead, page)
    for unconfirmed in ({}, {"confirm": ""}, {"confirm": "no"}):
        refused = lead.post(f"{page}/anonymous", data={"csrf_token": token, **unconfirmed})
        assert refused.status_code == 302
        session.expire_all()
        assert not session.get(Questionnaire, questionnaire_id).is_anonymous, unconfirmed
    shown = lead.get(page).get_data(as_text=True)
    assert "Inget har ändrats: kryssa i rutan" in shown
    lead.post(f"{page}/anonymous", data={"csrf_token": token, "confirm": "yes"})
    session.expire_all()
    assert session.get(Questionnaire, questionnaire_id).is_anonymous
    assert 'id="anonymous-confirm"' not in lead.get(page).get_data(as_text=True)
