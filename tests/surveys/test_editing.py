"""Editing a campaign's questionnaires in the web UI: the wording at any time, the questions only
while nobody has answered (refused on the server after), a copy as a new version, every save
checked as the loader checks a file and audited, and a preview of the real answer form."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from campaign.audit import AuditEvent
from campaign.enrolment.models import Participant
from campaign.jobs import JOBS, run_job
from campaign.network.models import Campaign
from campaign.outbox.models import Message
from campaign.succession.copying import Plan, start_next
from campaign.surveys import service, stored
from campaign.surveys.models import Questionnaire, QuestionnaireVersion
from tests.conftest import START, Network, SecondCampaign, csrf_token, sign_in
from tests.enrolment_helpers import group
from tests.forms_as_sent import form_with
from tests.outbox_helpers import participant
from tests.urls import staff

JOB = next(job for job in JOBS if job.name == "questionnaires")
SENT = datetime(2014, 9, 1, 7, 0, tzinfo=UTC)  # the follow-up's moment for the group below
ANSWERS = {
    "trips_replaced": "12", "km_avoided": "840", "hours_saved": "20", "satisfaction": "4",
}  # fmt: skip
LOCKED = "Det finns redan svar på enkäten"


@pytest.fixture
def follow_up(app: Flask, session: Session, network: Network) -> Questionnaire:
    """The follow-up of the test campaign, sent to two of Alpha's pilot users."""
    with app.app_context():
        target = group(session, network, "alpha-gruppen")
        for n in range(2):
            participant(session, network, f"p{n}@alpha.se").pilot_group_id = target.id
        found = {q.slug: q for q in service.questionnaires_of(session, network.campaign, START)}
        session.commit()
    return found["follow-up"]


@pytest.fixture
def lead(app: Flask, network: Network) -> FlaskClient:
    client = app.test_client()
    sign_in(client, network.lead.email)
    return client


def _answer(app: Flask, session: Session, questionnaire: Questionnaire) -> str:
    """Answer as the first pilot user; return their form as shown afterwards."""
    app.extensions["campaign.clock"].set(SENT)
    run_job(app, JOB)
    person = session.scalars(
        select(Message.participant_id).where(Message.source_key.like("q:%"))
    ).first()
    with app.app_context():
        link = f"/q/{service.link_token(questionnaire, session.get(Participant, person))}"
    client = app.test_client()
    page = client.post(link, data={"csrf_token": csrf_token(client, link), **ANSWERS})
    assert "Tack! Dina svar är sparade" in page.get_data(as_text=True)
    return link


def _edit_path(questionnaire: Questionnaire) -> str:
    return staff(f"/questionnaires/{questionnaire.id}/edit")


def _form(client: FlaskClient, questionnaire: Questionnaire) -> MultiDict[str, str]:
    """The edit form as a browser would send it unchanged."""
    page = client.get(_edit_path(questionnaire))
    assert page.status_code == 200
    return MultiDict(form_with(page.get_data(as_text=True), "title-sv").data())


def _post(client: FlaskClient, questionnaire: Questionnaire, data: MultiDict[str, str]) -> Any:
    return client.post(_edit_path(questionnaire), data=data)


def _versions(session: Session, questionnaire: Questionnaire) -> list[tuple[int, str]]:
    session.expire_all()
    rows = session.scalars(
        select(QuestionnaireVersion)
        .where(QuestionnaireVersion.questionnaire_id == questionnaire.id)
        .order_by(QuestionnaireVersion.number)
    )
    return [(v.number, v.note) for v in rows]


def _actions(session: Session) -> list[tuple[str, int | None]]:
    session.expire_all()
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action.like("questionnaire.%")).order_by(AuditEvent.id)
    )
    return [(e.action, e.campaign_id) for e in events]


def test_wording_changes_after_answers_and_shows_on_the_form(
    app: Flask, session: Session, network: Network, follow_up: Questionnaire, lead: FlaskClient
) -> None:
    link = _answer(app, session, follow_up)
    page = lead.get(_edit_path(follow_up)).get_data(as_text=True)
    assert LOCKED in page and 'name="q1-type"' not in page and "Kopiera till en ny utgåva" in page
    data = _form(lead, follow_up)
    data["q1-text-sv"] = "Hur många mötesresor har du ersatt?"
    data["q4-o1-en"] = "Skype for Business"
    data["title-en"] = "How did the web meetings go?"
    data["title-sv"] = "Hur gick webbmötena?"
    response = _post(lead, follow_up, data)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _versions(session, follow_up) == [(1, "shipped"), (2, "edit")]
    shown = app.test_client().get(link).get_data(as_text=True)
    assert "Hur många mötesresor har du ersatt?" in shown
    session.expire_all()
    definition = stored.definition_of(session, session.get(Questionnaire, follow_up.id))
    assert definition is not None and definition.title["en"] == "How did the web meetings go?"
    assert definition.questions[3].options[0].label["en"] == "Skype for Business"
    results = lead.get(staff(f"/questionnaires/{follow_up.id}")).get_data(as_text=True)
    assert "<h1>Hur gick webbmötena?</h1>" in results
    assert _actions(session) == [("questionnaire.edited", network.campaign.id)]
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "questionnaire.edited")
    ).one()
    assert event.details == {"version": 2, "changed": "wording"}
    log = lead.get(staff("/network/audit")).get_data(as_text=True)
    assert "Ändrade en enkät" in log and "Ändrat: formuleringarna" in log


@pytest.mark.parametrize(
    "change",
    [{"q1-type": "text"}, {"q2-remove": "1"}, {"q1-max": "5000"}, {"q7-position": "1"},
     {"q4-o2-value": "teams"}, {"q1-outcome": ""}, {"q6-required": "0"}],
)  # fmt: skip
def test_a_structure_change_after_answers_is_refused_on_the_server(
    app: Flask,
    session: Session,
    follow_up: Questionnaire,
    lead: FlaskClient,
    change: dict[str, str],
) -> None:
    _answer(app, session, follow_up)
    data = _form(lead, follow_up)
    data["title-sv"] = "En ny rubrik"
    for key, value in change.items():
        data.setlist(key, [value])
    response = _post(lead, follow_up, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and LOCKED in page
    assert 'value="En ny rubrik"' in page  # what was typed is shown again
    assert _versions(session, follow_up) == []
    assert _actions(session) == []


def test_copy_to_a_new_version_whose_questions_can_change(
    app: Flask, session: Session, network: Network, follow_up: Questionnaire, lead: FlaskClient
) -> None:
    _answer(app, session, follow_up)
    response = lead.post(
        staff(f"/questionnaires/{follow_up.id}/copy"),
        data={"csrf_token": csrf_token(lead, _edit_path(follow_up))},
    )
    assert response.status_code == 302
    session.expire_all()
    copy = session.scalars(select(Questionnaire).where(Questionnaire.slug == "follow-up-2")).one()
    assert (copy.campaign_id, copy.kind, copy.is_sending) == (
        network.campaign.id, follow_up.kind, False,
    )  # fmt: skip
    assert response.headers["Location"].endswith(f"/questionnaires/{copy.id}/edit")
    assert stored.text_of(session, copy) == stored.text_of(session, follow_up)
    data = _form(lead, copy)
    data["q7-remove"] = "1"  # the free text goes
    data["q6-scale"] = "7"
    assert _post(lead, copy, data).status_code == 302
    session.expire_all()
    asked = stored.definition_of(session, session.get(Questionnaire, copy.id))
    assert asked is not None and [q.id for q in asked.questions][-1] == "satisfaction"
    assert asked.questions[-1].scale == 7
    app.extensions["campaign.clock"].set(SENT.replace(hour=8))
    run_job(app, JOB)
    assert not _queued_for(session, copy)  # unsent until the lead starts it
    lead.post(
        staff(f"/questionnaires/{copy.id}/sending"),
        data={"csrf_token": csrf_token(lead, _edit_path(copy)), "sending": "yes"},
    )
    run_job(app, JOB)
    assert len(_queued_for(session, copy)) == 2
    assert [a for a, _c in _actions(session)] == [
        "questionnaire.copied", "questionnaire.edited", "questionnaire.sending",
    ]  # fmt: skip


def _queued_for(session: Session, questionnaire: Questionnaire) -> list[str]:
    session.expire_all()
    return list(
        session.scalars(
            select(Message.source_key).where(Message.source_key.like(f"q:{questionnaire.id}:%"))
        )
    )


def test_the_questions_change_while_nobody_has_answered(
    app: Flask, session: Session, follow_up: Questionnaire, lead: FlaskClient
) -> None:
    data = _form(lead, follow_up)
    data["q7-position"] = "1"  # the free text first
    data["new-id"] = "meetings_per_week"
    data["new-type"] = "number"
    data["new-text-sv"] = "Hur många webbmöten har du i veckan?"
    data["new-text-en"] = "How many web meetings do you have a week?"
    response = _post(lead, follow_up, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200  # shown again: a number needs its unit
    assert 'id="q8-unit-error"' in page and "behöver en text på både svenska och engelska" in page
    assert _versions(session, follow_up) == []
    again = MultiDict(form_with(page, "title-sv").data())
    again["q8-unit-sv"], again["q8-unit-en"] = "möten", "meetings"
    assert _post(lead, follow_up, again).status_code == 302
    session.expire_all()
    asked = stored.definition_of(session, session.get(Questionnaire, follow_up.id))
    assert asked is not None
    assert [q.id for q in asked.questions][0] == "tips"
    assert asked.questions[-1].id == "meetings_per_week"
    assert asked.questions[-1].unit == {"sv": "möten", "en": "meetings"}
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "questionnaire.edited")
    ).one()
    assert event.details["changed"] == "questions"


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"title-en": ""}, 'id="title-error"'),
        ({"q1-max": "tusen"}, 'id="q1-max-error"'),
        ({"q1-max": "-5"}, 'id="q1-bounds-error"'),
        ({"q6-scale": "12"}, 'id="q6-scale-error"'),
        ({"q7-max_length": "0"}, 'id="q7-max_length-error"'),
        ({"q4-o1-sv": ""}, 'id="q4-options-error"'),
        ({"q4-onew-value": "Ett namn"}, 'id="q4-onew-error"'),
        ({"q4-o2-value": "<b>"}, 'id="q4-options-error"'),
        ({"new-id": "csrf_token", "new-text-sv": "a", "new-text-en": "a"}, 'id="q8-id-error"'),
        ({"new-id": "Möten", "new-text-sv": "a", "new-text-en": "a"}, 'id="q8-id-error"'),
        ({"questions": "²", "based_on": "²"}, 'id="questions-error"'),
        ({"q2-remove": "1", "q3-remove": "1", "q1-remove": "1", "q4-remove": "1",
          "q5-remove": "1", "q6-remove": "1", "q7-remove": "1"}, 'id="questions-error"'),
    ],
)  # fmt: skip
def test_invalid_input_keeps_everything(
    session: Session,
    follow_up: Questionnaire,
    lead: FlaskClient,
    change: dict[str, str],
    error: str,
) -> None:
    data = _form(lead, follow_up)
    data["title-sv"] = "Ändrad rubrik"
    for key, value in change.items():
        data.setlist(key, [value])
    response = _post(lead, follow_up, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and error in page, page[:3000]
    assert "Inget är sparat än" in page and "Ändrad rubrik" in page
    assert _versions(session, follow_up) == [] and _actions(session) == []


def test_saving_unchanged_stores_nothing(
    session: Session, follow_up: Questionnaire, lead: FlaskClient
) -> None:
    assert _post(lead, follow_up, _form(lead, follow_up)).status_code == 302
    assert _versions(session, follow_up) == [] and _actions(session) == []


def test_the_preview_is_the_answer_form_in_either_language(
    follow_up: Questionnaire, lead: FlaskClient
) -> None:
    page = lead.get(staff(f"/questionnaires/{follow_up.id}/preview?language=en"))
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'class="phone-frame"' in text and "style=" not in text
    assert f"/questionnaires/{follow_up.id}/preview/en" in text
    framed = lead.get(staff(f"/questionnaires/{follow_up.id}/preview/en"))
    form = framed.get_data(as_text=True)
    assert framed.status_code == 200 and "How have the web meetings gone?" in form
    assert 'name="trips_replaced"' in form and "Logga ut" not in form and "Sign out" not in form
    assert "frame-ancestors 'self'" in framed.headers["Content-Security-Policy"]
    swedish = lead.get(staff(f"/questionnaires/{follow_up.id}/preview/sv")).get_data(as_text=True)
    assert "Hur har det gått med webbmötena?" in swedish
    posted = lead.post(staff(f"/questionnaires/{follow_up.id}/preview/sv"), data=ANSWERS)
    assert posted.status_code in (400, 405)  # nothing can be sent from a preview
    assert lead.get(staff(f"/questionnaires/{follow_up.id}/preview/de")).status_code == 404


def test_the_yaml_of_each_version_can_be_downloaded(
    session: Session, follow_up: Questionnaire, lead: FlaskClient
) -> None:
    data = _form(lead, follow_up)
    data["title-sv"] = "Uppföljningen"
    _post(lead, follow_up, data)
    latest = lead.get(staff(f"/questionnaires/{follow_up.id}/definition.yaml"))
    assert latest.status_code == 200 and "Uppföljningen" in latest.get_data(as_text=True)
    first = lead.get(staff(f"/questionnaires/{follow_up.id}/definition.yaml?version=1"))
    assert "Hur har det gått med webbmötena?" in first.get_data(as_text=True)
    assert (
        lead.get(staff(f"/questionnaires/{follow_up.id}/definition.yaml?version=9")).status_code
        == 404
    )


def test_only_the_campaigns_lead_administrator_edits(
    app: Flask,
    network: Network,
    second_campaign: SecondCampaign,
    follow_up: Questionnaire,
) -> None:
    rep = app.test_client()
    sign_in(rep, network.rep_alpha.email)
    assert rep.get(_edit_path(follow_up)).status_code == 403
    assert rep.post(staff(f"/questionnaires/{follow_up.id}/copy")).status_code in (400, 403)
    other = app.test_client()
    sign_in(other, second_campaign.lead_gamma.email)
    own = f"/campaigns/{second_campaign.campaign.slug}/questionnaires/{follow_up.id}/edit"
    assert other.get(own).status_code == 404


def test_the_next_campaign_asks_with_the_edited_wording(
    app: Flask, session: Session, network: Network, follow_up: Questionnaire, lead: FlaskClient
) -> None:
    data = _form(lead, follow_up)
    data["title-sv"] = "Vår egen uppföljning"
    assert _post(lead, follow_up, data).status_code == 302
    plan = Plan("nasta", "Nästa avtal", date(2015, 4, 1), date(2016, 6, 30))
    with app.app_context():
        new = start_next(session, session.get(Campaign, network.campaign.id), plan, None, START)
        session.commit()
        copied = session.scalars(
            select(Questionnaire).where(
                Questionnaire.campaign_id == new.id, Questionnaire.slug == "follow-up"
            )
        ).one()
        asked = stored.definition_of(session, copied)
    assert asked is not None and asked.title["sv"] == "Vår egen uppföljning"
    assert copied.is_sending
