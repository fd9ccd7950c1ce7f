"""Response rates count the same people above and below the line, whatever an erasure cancels:
never more than 100 %, on the questionnaire pages and the dashboard alike."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import update
from sqlalchemy.orm import Session

from campaign.enrolment.models import Participant
from campaign.jobs import JOBS, run_job
from campaign.outbox.models import Message, MessageState
from campaign.surveys import results, service
from campaign.surveys.models import Questionnaire
from tests.conftest import Network, csrf_token, sign_in
from tests.enrolment_helpers import group
from tests.outbox_helpers import participant
from tests.urls import staff

JOB = next(job for job in JOBS if job.name == "questionnaires")


def _invited(app: Flask, session: Session, network: Network, count: int) -> list[int]:
    """`count` participants of Alpha sent the baseline questionnaire (queued, not yet sent)."""
    with app.app_context():
        target = group(session, network)
        people = [participant(session, network, f"p{n}@alpha.se") for n in range(count)]
        for person in people:
            person.pilot_group_id = target.id
        session.commit()
    app.extensions["campaign.clock"].set(datetime(2014, 3, 3, 9, 0, tzinfo=UTC))
    run_job(app, JOB)
    return [p.id for p in people]


def _baseline(session: Session, network: Network) -> Questionnaire:
    found = service.questionnaires_of(session, network.campaign, datetime(2014, 3, 3, tzinfo=UTC))
    return next(q for q in found if q.slug == "baseline")


def _answer(app: Flask, session: Session, questionnaire: Questionnaire, person_id: int) -> None:
    with app.app_context():
        path = f"/q/{service.link_token(questionnaire, session.get(Participant, person_id))}"
    client = app.test_client()
    data = {"csrf_token": csrf_token(client, path), **_valid(questionnaire)}
    assert client.post(path, data=data).status_code in (200, 302)


def _valid(questionnaire: Questionnaire) -> dict[str, str]:
    """An answer to every required question of the definition, the first choice or 1."""
    from campaign.surveys.definitions import definitions

    answers = {}
    for q in definitions()[questionnaire.definition].questions:
        if q.options:
            answers[q.id] = q.options[0].value
        elif q.type == "likert":
            answers[q.id] = "1"
        elif q.type == "number":
            answers[q.id] = str(q.minimum)
        else:
            answers[q.id] = "Bra."
    return answers


def _erase(app: Flask, person_id: int) -> None:
    rep = app.test_client()
    sign_in(rep, "rep@alpha.se")
    page = staff(f"/organisations/alpha/participants/{person_id}/erase")
    done = rep.post(page, data={"csrf_token": csrf_token(rep, page), "understood": "y"})
    assert done.status_code == 302


def _shown_percents(app: Flask, questionnaire: Questionnaire) -> list[int]:
    """Every percentage on the member's questionnaire pages and on both dashboards."""
    lead = app.test_client()
    sign_in(lead, "lead@alpha.se")
    pages = [
        staff("/organisations/alpha/questionnaires"),
        staff(f"/organisations/alpha/questionnaires/{questionnaire.id}"),
        staff("/questionnaires"),
        staff("/dashboard"),
        staff("/organisations/alpha/dashboard"),
    ]
    found = []
    for path in pages:
        response = lead.get(path)
        assert response.status_code == 200, path
        found += [
            int(n)
            for n in re.findall(r"(\d+)\s?(?:&nbsp;|\u00a0)?%", response.get_data(as_text=True))
        ]
    return found


@pytest.mark.parametrize("sent", [False, True], ids=["invitations-queued", "invitations-sent"])
def test_an_erased_participant_who_answered_counts_above_and_below_the_line(
    app: Flask, session: Session, network: Network, sent: bool
) -> None:
    people = _invited(app, session, network, 7)
    if sent:
        session.execute(update(Message).values(state=MessageState.SENT, sent_at=Message.due_at))
        session.commit()
    baseline = _baseline(session, network)
    for person_id in people[:3]:
        _answer(app, session, baseline, person_id)
    _erase(app, people[0])  # answered; an unsent invitation of theirs is cancelled
    session.expire_all()
    table = results.rates(session, baseline)
    assert (table.invited, table.answered) == (7, 3)
    assert [r.percent for r in table.rows] == [43]
    assert 43 in _shown_percents(app, baseline)


def test_a_rate_never_passes_100_percent_when_everyone_answered_and_one_is_erased(
    app: Flask, session: Session, network: Network
) -> None:
    people = _invited(app, session, network, 7)
    baseline = _baseline(session, network)
    for person_id in people:
        _answer(app, session, baseline, person_id)
    _erase(app, people[-1])
    session.expire_all()
    table = results.rates(session, baseline)
    assert (table.invited, table.answered) == (7, 7)
    assert [r.percent for r in table.rows] == [100]
    shown = _shown_percents(app, baseline)
    assert 100 in shown
    assert max(shown) <= 100
