"""The step form offers what the checker knows of the campaign: its milestones as anchors, its
questionnaires, their single-choice answers and each kind of meeting as conditions, said in
words; choosing them saves them into the step's files."""

from __future__ import annotations

from datetime import date

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from campaign.milestones.models import Milestone
from campaign.surveys import service
from tests.conftest import START, Network
from tests.drip.test_editing import EDIT, form_of, lead, post, versions  # noqa: F401

__all__ = ["lead"]


def test_the_form_offers_the_campaigns_milestones_and_conditions_and_saves_them(
    lead: FlaskClient,
    session: Session,
    network: Network,  # noqa: F811
) -> None:
    session.add(
        Milestone(
            campaign_id=network.campaign.id, organisation_id=None, name="teams",
            description="Teams införs", day=date(2014, 9, 1), updated_at=START,
        )
    )  # fmt: skip
    service.questionnaires_of(session, network.campaign, START)  # the campaign's questionnaires
    session.commit()
    page = lead.get(EDIT).get_data(as_text=True)
    assert 'value="milestone:teams"' in page
    assert "milstolpen teams (medlemmens eget datum, annars kampanjens)" in page
    assert 'value="answered:baseline"' in page and 'value="attended:training"' in page
    assert 'value="answer:baseline.experience=weekly"' in page
    assert "Varje vecka" in page  # the option said as the questionnaire says it
    data = form_of(lead)
    response = post(
        lead, data, action="save", anchor="milestone:teams", offset_amount="-5",
        only_if=["answer:baseline.experience=weekly", "attended:training"], unless=[],
    )  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)
    text = versions(session)[-1].files["sv/02-prova-med-nagon-du-kanner.md"]
    assert "anchor: milestone:teams" in text and "offset: -5" in text
    assert "answer:baseline.experience=weekly" in text and "attended:training" in text
