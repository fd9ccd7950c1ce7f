"""Questionnaires: sent at their moment, reminded with a cap, answered through signed links,
validated on the server, anonymous when asked, and small groups suppressed in results."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.clock import JOBS, run_job
from campaign.outbox.models import Message, MessageKind, MessageState
from campaign.outbox.unsubscribe import token_for
from campaign.surveys import service
from campaign.surveys.definitions import check_answers, definitions
from campaign.surveys.models import Questionnaire, QuestionnaireKind, Receipt, Response
from tests.conftest import Network, csrf_token, sign_in
from tests.enrolment_helpers import group
from tests.outbox_helpers import participant

JOB = next(job for job in JOBS if job.name == "questionnaires")
VALID = {
    "trips_replaced": "12",
    "km_avoided": "840",
    "hours_saved": "20",
    "tools_used": ["lync", "phone"],
    "barriers": ["habit"],
    "satisfaction": "4",
    "tips": "Börja som lyssnare.",
}


def _clock(app: Flask):  # type: ignore[no-untyped-def]
    return app.extensions["campaign.clock"]


def _setup(app: Flask, session: Session, network: Network, count: int = 2, org: str = "alpha"):  # type: ignore[no-untyped-def]
    with app.app_context():
        target = group(session, network, f"{org}-gruppen", org=org)
        people = []
        for n in range(count):
            person = participant(session, network, f"p{n}@{org}.se", org=org)
            person.pilot_group_id = target.id
            people.append(person)
        questionnaires = {q.slug: q for q in service.questionnaires_of(session, network.campaign)}
        session.commit()
    return people, questionnaires


def _keys(session: Session, person) -> list[str]:  # type: ignore[no-untyped-def]
    session.expire_all()
    return sorted(
        m.source_key.split(":", 2)[2] + f"@{m.source_key.split(':')[1]}"
        for m in session.scalars(
            select(Message).where(
                Message.participant_id == person.id,
                Message.kind.in_([MessageKind.QUESTIONNAIRE, MessageKind.REMINDER]),
                Message.state != MessageState.CANCELLED,
            )
        )
    )


def _link(app: Flask, questionnaire: Questionnaire, person) -> str:  # type: ignore[no-untyped-def]
    with app.app_context():
        return f"/q/{service.link_token(questionnaire, person)}"


def _post(app: Flask, path: str, data: dict) -> str:  # type: ignore[no-untyped-def]
    client = app.test_client()
    return client.post(path, data={"csrf_token": csrf_token(client, path), **data}).get_data(
        as_text=True
    )


def test_shipped_definitions_have_the_programmes_questions() -> None:
    shipped = definitions()
    assert set(shipped) == {"baseline", "follow-up"}
    follow_up = shipped["follow-up"]
    assert {q.outcome for q in follow_up.questions if q.outcome} == {"trips", "km", "hours"}
    barriers = follow_up.question("barriers")
    assert "Resor är en vana" in [o.label["sv"] for o in barriers.options]
    assert {q.type for q in follow_up.questions} == {"number", "multiple", "likert", "text"}
    assert all(q.text["sv"] and q.text["en"] for d in shipped.values() for q in d.questions)


def test_baseline_at_the_start_follow_up_after_six_months_and_two_reminders(
    app: Flask, session: Session, network: Network
) -> None:
    (person, _other), questionnaires = _setup(app, session, network)
    baseline, follow_up = questionnaires["baseline"].id, questionnaires["follow-up"].id
    _clock(app).set(datetime(2014, 3, 3, 8, 59, tzinfo=UTC))  # 09:59 in Stockholm
    run_job(app, JOB)
    assert _keys(session, person) == []
    _clock(app).set(datetime(2014, 3, 3, 9, 0, tzinfo=UTC))  # 10:00: the baseline's moment
    run_job(app, JOB)
    run_job(app, JOB)
    assert _keys(session, person) == [f"p{person.id}@{baseline}"]
    for days, expected in [(6, 1), (7, 2), (13, 2), (14, 3), (30, 3)]:
        _clock(app).set(datetime(2014, 3, 3, 9, 0, tzinfo=UTC) + timedelta(days=days))
        run_job(app, JOB)
        assert len(_keys(session, person)) == expected, days
    assert _keys(session, person) == [
        f"p{person.id}:r1@{baseline}",
        f"p{person.id}:r2@{baseline}",
        f"p{person.id}@{baseline}",
    ]
    # The follow-up 26 weeks after the group's start (2014-09-01, summer time: 08:00 UTC).
    _clock(app).set(datetime(2014, 9, 1, 6, 59, tzinfo=UTC))
    run_job(app, JOB)
    assert not any(k.endswith(f"@{follow_up}") for k in _keys(session, person))
    _clock(app).set(datetime(2014, 9, 1, 7, 0, tzinfo=UTC))
    run_job(app, JOB)
    assert f"p{person.id}@{follow_up}" in _keys(session, person)


def test_answering_stops_the_reminders_at_once(
    app: Flask, session: Session, network: Network
) -> None:
    (person, other), questionnaires = _setup(app, session, network)
    follow_up = questionnaires["follow-up"]
    sent = datetime(2014, 9, 1, 7, 0, tzinfo=UTC)
    _clock(app).set(sent)
    run_job(app, JOB)
    _clock(app).set(sent + timedelta(days=7))
    run_job(app, JOB)  # the first reminder is queued for both
    page = _post(app, _link(app, follow_up, person), VALID)
    assert "Tack! Dina svar är sparade" in page
    session.expire_all()
    reminders = {
        m.participant_id: m.state
        for m in session.scalars(select(Message).where(Message.source_key.like("%:r1")))
        if f"q:{follow_up.id}:" in m.source_key
    }
    assert reminders == {person.id: MessageState.CANCELLED, other.id: MessageState.QUEUED}
    _clock(app).set(sent + timedelta(days=14))
    run_job(app, JOB)
    assert not any(k.startswith(f"p{person.id}:r2") for k in _keys(session, person))
    assert any(k.startswith(f"p{other.id}:r2") for k in _keys(session, other))


def test_answers_are_checked_on_the_server_and_can_be_changed(
    app: Flask, session: Session, network: Network
) -> None:
    (person, other), questionnaires = _setup(app, session, network)
    follow_up = questionnaires["follow-up"]
    _clock(app).set(datetime(2014, 9, 1, 7, 0, tzinfo=UTC))
    run_job(app, JOB)
    path = _link(app, follow_up, person)
    form = app.test_client().get(path).get_data(as_text=True)
    assert "Hur många resor till möten har du ersatt" in form and 'min="0" max="1000"' in form

    bad = {
        **VALID,
        "trips_replaced": "1001",
        "km_avoided": "tolv",
        "hours_saved": "",
        "satisfaction": "9",
        "tools_used": ["lync", "fax"],
    }
    page = _post(app, path, bad)
    assert "Skriv ett tal från 0 till 1000." in page
    assert "Skriv ett heltal, utan decimaler eller bokstäver." in page
    assert "Svara på den här frågan." in page
    assert page.count("Välj ett av alternativen.") == 2
    assert session.scalar(select(func.count(Response.id))) == 0  # nothing stored

    assert "Tack!" in _post(app, path, VALID)
    (response,) = session.scalars(select(Response)).all()
    assert response.participant_id == person.id
    assert response.answers == {
        "trips_replaced": 12, "km_avoided": 840, "hours_saved": 20,
        "tools_used": ["lync", "phone"], "barriers": ["habit"], "satisfaction": 4,
        "tips": "Börja som lyssnare.",
    }  # fmt: skip

    _clock(app).advance(timedelta(days=2))
    _post(app, path, {**VALID, "trips_replaced": "15", "tips": ""})
    session.expire_all()
    (response,) = session.scalars(select(Response)).all()
    assert response.answers["trips_replaced"] == 15 and "tips" not in response.answers
    assert response.updated_at - response.submitted_at == timedelta(days=2)
    assert session.scalar(select(func.count(Receipt.id))) == 1  # one receipt, however often

    # Another participant's link opens their own questionnaire, never this one's answers.
    theirs = app.test_client().get(_link(app, follow_up, other)).get_data(as_text=True)
    assert 'value="15"' not in theirs
    _post(app, _link(app, follow_up, other), {**VALID, "trips_replaced": "3"})
    session.expire_all()
    by_person = {
        r.participant_id: r.answers["trips_replaced"] for r in session.scalars(select(Response))
    }
    assert by_person == {person.id: 15, other.id: 3}
    # Forged, borrowed (an unsubscribe token) and expired links are refused.
    assert app.test_client().get(path[:-3] + "abc").status_code == 400
    with app.app_context():
        assert app.test_client().get(f"/q/{token_for(person)}").status_code == 400
    # After the questionnaire closes (8 weeks), answers stay as they were.
    _clock(app).set(datetime(2014, 10, 27, 7, 0, tzinfo=UTC))
    closed = _post(app, path, {**VALID, "trips_replaced": "99"})
    assert "Enkäten är stängd" in closed
    session.expire_all()
    mine = session.scalars(select(Response).where(Response.participant_id == person.id)).one()
    assert mine.answers["trips_replaced"] == 15
    _clock(app).advance(timedelta(days=400))
    assert app.test_client().get(path).status_code == 400


def test_anonymous_questionnaire_export_and_results_name_nobody(
    app: Flask, session: Session, network: Network
) -> None:
    people, questionnaires = _setup(app, session, network, count=6)
    follow_up = questionnaires["follow-up"]
    _clock(app).set(datetime(2014, 9, 1, 7, 0, tzinfo=UTC))
    run_job(app, JOB)
    _clock(app).set(datetime(2014, 9, 2, 13, 37, tzinfo=UTC))
    _post(app, _link(app, follow_up, people[0]), VALID)  # answered before it became anonymous

    lead = app.test_client()
    sign_in(lead, "lead@alpha.se")
    page = f"/questionnaires/{follow_up.id}"
    lead.post(f"{page}/anonymous", data={"csrf_token": csrf_token(lead, page)})
    for n, person in enumerate(people[1:5], start=1):
        _post(app, _link(app, follow_up, person), {**VALID, "trips_replaced": str(n)})
    # A changed answer still finds its anonymous response through the participant's own link.
    _post(app, _link(app, follow_up, people[1]), {**VALID, "trips_replaced": "7"})
    session.expire_all()
    stored = session.scalars(select(Response)).all()
    assert len(stored) == 5 and all(r.participant_id is None for r in stored)
    assert all(r.submitted_at.time() == datetime.min.time() for r in stored)  # the day only
    assert sorted(r.answers["trips_replaced"] for r in stored) == [2, 3, 4, 7, 12]
    assert session.scalar(select(func.count(Receipt.id))) == 5  # reminders still know

    identifying = [p.email for p in people] + ["Åsa Öberg", "13:37", "p0@"]
    for client, path in [
        (lead, f"/questionnaires/{follow_up.id}/export.csv"),
        (lead, f"/questionnaires/{follow_up.id}"),
        (lead, f"/organisations/alpha/questionnaires/{follow_up.id}/export.csv"),
        (lead, f"/organisations/alpha/questionnaires/{follow_up.id}"),
    ]:
        body = client.get(path).get_data(as_text=True)
        for marker in identifying:
            assert marker not in body, (path, marker)
    rows = list(
        csv.reader(
            io.StringIO(
                lead.get(f"/questionnaires/{follow_up.id}/export.csv")
                .get_data(as_text=True)
                .lstrip("\ufeff")
            ),
            delimiter=";",
        )
    )
    assert rows[0][:2] == ["organisation", "trips_replaced"]
    assert len(rows) == 6 and {r[0] for r in rows[1:]} == {"Alpha"}


def test_fewer_than_five_respondents_are_not_shown(
    app: Flask, session: Session, network: Network
) -> None:
    people, questionnaires = _setup(app, session, network, count=5)
    beta_people, _ = _setup(app, session, network, count=2, org="beta")
    follow_up = questionnaires["follow-up"]
    _clock(app).set(datetime(2014, 9, 1, 7, 0, tzinfo=UTC))
    run_job(app, JOB)
    for n, person in enumerate(people[:4] + beta_people):
        _post(app, _link(app, follow_up, person), {**VALID, "trips_replaced": str(10 + n)})
    alpha = app.test_client()
    sign_in(alpha, "rep@alpha.se")
    page = alpha.get(f"/organisations/alpha/questionnaires/{follow_up.id}").get_data(as_text=True)
    assert "Färre än 5 personer har svarat" in page and "Resor är en vana" not in page
    assert "p4@alpha.se" in page  # not answered yet, named: the questionnaire is not anonymous
    _post(app, _link(app, follow_up, people[4]), VALID)
    page = alpha.get(f"/organisations/alpha/questionnaires/{follow_up.id}").get_data(as_text=True)
    assert "Färre än 5" not in page and "Resor är en vana" in page
    assert "5 svarande" in page and "Median" in page
    # Beta's representative sees Beta's two answers as too few, and none of Alpha's.
    beta = app.test_client()
    sign_in(beta, "rep@beta.se")
    page = beta.get(f"/organisations/beta/questionnaires/{follow_up.id}").get_data(as_text=True)
    assert "Färre än 5" in page and "2 svarande" in page
    export = beta.get(f"/organisations/beta/questionnaires/{follow_up.id}/export.csv")
    lines = export.get_data(as_text=True).strip().splitlines()
    assert len(lines) == 3 and all("alpha" not in line for line in lines)
    assert beta.get(f"/questionnaires/{follow_up.id}").status_code == 403


def test_check_answers_is_the_one_place_of_validation() -> None:
    from werkzeug.datastructures import MultiDict

    baseline = definitions()["baseline"]
    answers, problems = check_answers(
        baseline, MultiDict({"trips_per_month": "-3", "experience": "weekly", "expectation": "5"})
    )
    assert problems == {"trips_per_month": ("out_of_bounds", {"min": 0, "max": 200})}
    assert answers == {"experience": "weekly", "expectation": 5}
    assert QuestionnaireKind(baseline.kind) is QuestionnaireKind.BASELINE
