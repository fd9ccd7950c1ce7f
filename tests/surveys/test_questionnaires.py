"""Questionnaires: sent at their moment, reminded with a cap, answered through signed links,
validated on the server, anonymous when asked, and small groups suppressed in results."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous.timed import TimestampSigner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.jobs import JOBS, run_job
from campaign.outbox.models import Message, MessageKind, MessageState
from campaign.outbox.unsubscribe import token_for
from campaign.surveys import service
from campaign.surveys.definitions import check_answers, definitions
from campaign.surveys.models import Questionnaire, QuestionnaireKind, Receipt, Response
from tests.conftest import START, Network, csrf_token, sign_in
from tests.enrolment_helpers import group
from tests.outbox_helpers import participant
from tests.urls import staff

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
        questionnaires = {
            q.slug: q for q in service.questionnaires_of(session, network.campaign, START)
        }
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


def _xlsx(client: FlaskClient, path: str) -> list[tuple]:  # type: ignore[type-arg]
    response = client.get(path)
    assert response.status_code == 200, path
    sheet = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True).active
    return list(sheet.iter_rows(values_only=True))


def _stored(session: Session) -> tuple[int, int]:
    session.expire_all()
    return (
        session.scalar(select(func.count(Response.id))) or 0,
        session.scalar(select(func.count(Receipt.id))) or 0,
    )


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
    # A text input for numbers: a browser's number input refuses "1 200" (the server checks).
    assert "Hur många resor till möten har du ersatt" in form and 'inputmode="numeric"' in form

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
    page = staff(f"/questionnaires/{follow_up.id}")
    lead.post(f"{page}/anonymous", data={"csrf_token": csrf_token(lead, page), "confirm": "yes"})
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
        (lead, staff(f"/questionnaires/{follow_up.id}/export.csv")),
        (lead, staff(f"/questionnaires/{follow_up.id}")),
        (lead, staff(f"/organisations/alpha/questionnaires/{follow_up.id}/export.csv")),
        (lead, staff(f"/organisations/alpha/questionnaires/{follow_up.id}")),
    ]:
        body = client.get(path).get_data(as_text=True)
        for marker in identifying:
            assert marker not in body, (path, marker)
    rows = list(
        csv.reader(
            io.StringIO(
                lead.get(staff(f"/questionnaires/{follow_up.id}/export.csv"))
                .get_data(as_text=True)
                .lstrip("\ufeff")
            ),
            delimiter=";",
        )
    )
    assert rows[0][:2] == ["Medlem", "Hur många resor till möten har du ersatt med webbmöten"
                           " sedan du började i provgruppen?"]  # fmt: skip
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
    page = alpha.get(staff(f"/organisations/alpha/questionnaires/{follow_up.id}")).get_data(
        as_text=True
    )
    assert "Färre än 5 personer har svarat" in page and "Resor är en vana" not in page
    assert "p4@alpha.se" in page  # not answered yet, named: the questionnaire is not anonymous
    _post(app, _link(app, follow_up, people[4]), VALID)
    # Five answers: Alpha's count and are shown. Beta's two count nowhere (answers count in
    # whole groups of five per member), so no figure of Alpha's needs hiding to protect them.
    page = alpha.get(staff(f"/organisations/alpha/questionnaires/{follow_up.id}")).get_data(
        as_text=True
    )
    assert "5 svarande." in page and "Resor är en vana" in page
    lead = app.test_client()
    sign_in(lead, "lead@alpha.se")
    page = lead.get(staff(f"/questionnaires/{follow_up.id}")).get_data(as_text=True)
    assert "7 svarande. Svaren från 5 av dem räknas" in page and "Resor är en vana" in page
    # The network's trips are Alpha's alone (10 + 11 + 12 + 13 + 12): minus Alpha's, nothing.
    assert "<dt>Totalt</dt><dd>58 resor</dd>" in page
    # Beta's representative sees Beta's two answers as too few, and none of Alpha's; how many
    # answered is no secret to staff (the outbox shows whose reminders stopped).
    beta = app.test_client()
    sign_in(beta, "rep@beta.se")
    page = beta.get(staff(f"/organisations/beta/questionnaires/{follow_up.id}")).get_data(
        as_text=True
    )
    assert "Färre än 5 personer har svarat" in page and "2 svarande." in page
    assert "Resor är en vana" not in page
    # Nor does Beta's export give them: the header only, as for any scope of fewer than 5.
    export = beta.get(staff(f"/organisations/beta/questionnaires/{follow_up.id}/export.csv"))
    lines = export.get_data(as_text=True).lstrip("\ufeff").strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("E-post;Namn;Medlem;Svarat;Hur många")
    assert "p0@beta.se" not in export.get_data(as_text=True)
    assert beta.get(staff(f"/questionnaires/{follow_up.id}")).status_code == 403


def test_check_answers_is_the_one_place_of_validation() -> None:
    from werkzeug.datastructures import MultiDict

    baseline = definitions()["baseline"]
    answers, problems = check_answers(
        baseline, MultiDict({"trips_per_month": "-3", "experience": "weekly", "expectation": "5"})
    )
    assert problems == {"trips_per_month": ("out_of_bounds", {"min": 0, "max": 200})}
    assert answers == {"experience": "weekly", "expectation": 5}
    assert QuestionnaireKind(baseline.kind) is QuestionnaireKind.BASELINE


def test_odd_numbers_get_a_sentence_and_nul_bytes_are_not_stored(
    app: Flask, session: Session, network: Network
) -> None:
    (person, _other), questionnaires = _setup(app, session, network)
    path = _link(app, questionnaires["follow-up"], person)
    client = app.test_client()
    odd = {
        **VALID,
        "trips_replaced": "²",  # str.isdigit() says yes, int() says no
        "km_avoided": "--5",
        "hours_saved": "9" * 5000,  # over Python's limit for int() of a string
        "satisfaction": "²",
        "tips": "Bra\x00 tips",
    }
    response = client.post(path, data={"csrf_token": csrf_token(client, path), **odd})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.count("Skriv ett heltal, utan decimaler eller bokstäver.") == 2
    assert "Skriv ett tal från 0 till 5000." in page
    assert "Välj ett av alternativen." in page
    assert _stored(session) == (0, 0)
    # A text that is too long is shown again to be shortened, not thrown away.
    page = _post(app, path, {**VALID, "tips": "lång " * 401})
    assert "Svaret är längre än 2000 tecken." in page and "lång " * 400 in page
    assert _stored(session) == (0, 0)

    assert "Tack!" in _post(app, path, {**VALID, "tips": "Bra\x00 tips\x00"})
    session.expire_all()
    (stored,) = session.scalars(select(Response)).all()
    assert stored.answers["tips"] == "Bra tips"


def test_exports_of_fewer_than_five_respondents_have_no_rows(
    app: Flask, session: Session, network: Network
) -> None:
    people, questionnaires = _setup(app, session, network, count=5)
    follow_up = questionnaires["follow-up"]
    for person in people[:4]:
        _post(app, _link(app, follow_up, person), VALID)
    lead = app.test_client()
    sign_in(lead, "lead@alpha.se")
    network_xlsx = staff(f"/questionnaires/{follow_up.id}/export.xlsx")
    member_xlsx = staff(f"/organisations/alpha/questionnaires/{follow_up.id}/export.xlsx")
    for path in (network_xlsx, member_xlsx):
        rows = _xlsx(lead, path)
        assert len(rows) == 1 and rows[0][:4] == ("E-post", "Namn", "Medlem", "Svarat")
    csv_body = lead.get(staff(f"/questionnaires/{follow_up.id}/export.csv")).get_data(as_text=True)
    assert len(csv_body.strip().splitlines()) == 1 and "p0@alpha.se" not in csv_body

    _post(app, _link(app, follow_up, people[4]), {**VALID, "trips_replaced": "77"})
    for path in (network_xlsx, member_xlsx):
        rows = _xlsx(lead, path)
        assert len(rows) == 6 and {r[0] for r in rows[1:]} == {p.email for p in people}
        assert sorted(r[4] for r in rows[1:]) == [12, 12, 12, 12, 77]


def test_a_question_answered_by_fewer_than_five_is_not_shown(
    app: Flask, session: Session, network: Network
) -> None:
    people, questionnaires = _setup(app, session, network, count=6)
    follow_up = questionnaires["follow-up"]
    tips = ["Delta", "bravo", "Echo", "alfa", "Charlie"]  # in the order they answered
    for person, tip in zip(people, tips, strict=False):
        _post(app, _link(app, follow_up, person), {**VALID, "tips": tip, "barriers": []})
    _post(app, _link(app, follow_up, people[5]), {**VALID, "tips": "", "barriers": ["habit"]})
    rep = app.test_client()
    sign_in(rep, "rep@alpha.se")
    page = rep.get(staff(f"/organisations/alpha/questionnaires/{follow_up.id}")).get_data(
        as_text=True
    )
    assert "6 svarande. Svaren från 5 av dem räknas" in page and "Median" in page  # shown
    # One person named a barrier: that question says "fewer than 5" and shows no bars.
    barriers = page.split('id="q-barriers"')[1].split("</section>")[0]
    assert "Färre än 5 svar på den här frågan räknas än" in barriers
    assert "Resor är en vana" not in barriers and "<meter" not in barriers
    # Five free texts are shown, sorted, not in the order they were given.
    shown = page.split('id="q-tips"')[1].split("</section>")[0]
    positions = [
        shown.index(f"<li>{t}</li>") for t in ["alfa", "bravo", "Charlie", "Delta", "Echo"]
    ]
    assert positions == sorted(positions)


def test_the_answer_form_outlasts_the_staff_forms_hour_and_keeps_refused_answers(
    app: Flask, session: Session, network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    (person, _other), questionnaires = _setup(app, session, network)
    follow_up = questionnaires["follow-up"]
    path = _link(app, follow_up, person)
    participant_client, lead = app.test_client(), app.test_client()
    sign_in(lead, "lead@alpha.se")
    results_page = staff(f"/questionnaires/{follow_up.id}")
    staff_token = csrf_token(lead, results_page)
    token = csrf_token(participant_client, path)
    # Two hours later (Flask-WTF's tokens use the real clock) ...
    later = TimestampSigner.get_timestamp(TimestampSigner("k")) + 2 * 3600
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)
    # ... a staff form is refused as before, the participant's answers are saved.
    refused = lead.post(f"{results_page}/anonymous", data={"csrf_token": staff_token})
    assert refused.status_code == 400
    session.expire_all()
    assert not session.get(Questionnaire, follow_up.id).is_anonymous
    page = participant_client.post(path, data={"csrf_token": token, **VALID})
    assert page.status_code == 200 and "Tack!" in page.get_data(as_text=True)
    assert _stored(session) == (1, 1)

    # A token the session does not know (a lost cookie, say): nothing saved, nothing lost.
    stranger = app.test_client()
    response = stranger.post(path, data={"csrf_token": token, **VALID, "trips_replaced": "31",
                                         "tips": "Mina långa tankar."})  # fmt: skip
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Dina svar är inte sparade än" in page
    assert 'value="31"' in page and "Mina långa tankar." in page
    session.expire_all()
    assert session.scalars(select(Response)).one().answers["trips_replaced"] == 12
    # The page carries a fresh token for this session: sending again saves.
    retry = {"csrf_token": csrf_token(stranger, path), **VALID, "trips_replaced": "31"}
    assert "Tack!" in stranger.post(path, data=retry).get_data(as_text=True)
    session.expire_all()
    assert session.scalars(select(Response)).one().answers["trips_replaced"] == 31


def test_forged_and_expired_links_store_nothing_when_posted(
    app: Flask, session: Session, network: Network
) -> None:
    (person, _other), questionnaires = _setup(app, session, network)
    follow_up = questionnaires["follow-up"]  # not sent: it never closes for this person
    path = _link(app, follow_up, person)
    client = app.test_client()
    token = csrf_token(client, path)  # a valid form token, so only the link can refuse
    forged = client.post(path[:-3] + "abc", data={"csrf_token": token, **VALID})
    assert forged.status_code == 400 and "Länken är inte giltig." in forged.get_data(as_text=True)
    with app.app_context():
        borrowed = f"/q/{token_for(person)}"
    assert client.post(borrowed, data={"csrf_token": token, **VALID}).status_code == 400
    _clock(app).advance(service.LINK_LIFETIME + timedelta(days=1))
    expired = client.post(path, data={"csrf_token": token, **VALID})
    assert expired.status_code == 400 and "Länken har gått ut." in expired.get_data(as_text=True)
    assert _stored(session) == (0, 0)


def test_a_questionnaire_whose_file_was_removed_answers_410(
    app: Flask, session: Session, network: Network
) -> None:
    (person, _other), questionnaires = _setup(app, session, network)
    follow_up = questionnaires["follow-up"]
    path = _link(app, follow_up, person)
    client = app.test_client()
    token = csrf_token(client, path)
    session.get(Questionnaire, follow_up.id).definition = "removed-questionnaire"
    session.commit()
    for response in (client.get(path), client.post(path, data={"csrf_token": token, **VALID})):
        assert response.status_code == 410
        assert "Enkäten finns inte längre." in response.get_data(as_text=True)
    assert _stored(session) == (0, 0)


def test_an_unsubscribed_participant_may_still_answer_but_gets_no_reminder(
    app: Flask, session: Session, network: Network
) -> None:
    """Unsubscribing stops the mail, not the person's own say: an answer given through their
    link counts (README, "Threat model"); only erasure makes the link answer 410."""
    from campaign.enrolment.lifecycle import unsubscribe

    (person, _other), questionnaires = _setup(app, session, network)
    follow_up = questionnaires["follow-up"]
    link = _link(app, follow_up, person)
    with app.app_context():
        unsubscribe(session, person, _clock(app).now(), how="test")
        session.commit()
    page = _post(app, link, VALID)
    assert "Tack" in page and _stored(session) == (1, 1)
    _clock(app).advance(timedelta(days=200))
    run_job(app, JOB)
    assert _keys(session, person) == []
