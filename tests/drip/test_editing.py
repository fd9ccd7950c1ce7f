"""The sequence editor through the web: a step's form with its problems beside the fields and its
preview, every save a version with its diff and a way back, re-planning, moving and removing
steps without sending anything twice, and the audit of each save."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.audit import AuditEvent
from campaign.drip.materialize import materialize
from campaign.drip.models import SequenceVersion
from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup, PilotGroupKind
from campaign.outbox.models import Message, MessageKind
from tests.conftest import START, Network, csrf_token, sign_in
from tests.urls import staff

NAME = "pilot-group"
EDIT = staff(f"/sequences/{NAME}/steps/02")
NOW = datetime(2014, 6, 19, 6, 30, tzinfo=UTC)  # the welcome's moment for a 19 June start


@pytest.fixture
def lead(client: FlaskClient, network: Network) -> FlaskClient:
    sign_in(client, network.lead.email)
    return client


@pytest.fixture
def person(session: Session, network: Network) -> Participant:
    """Åsa, following the sequence in Alpha from 19 June."""
    group = PilotGroup(
        campaign_id=network.campaign.id, organisation_id=network.alpha.id, name="Chefer",
        kind=PilotGroupKind.SELECTED_MANAGERS, starts_on=date(2014, 6, 19),
        sequence_name=NAME, created_at=START,
    )  # fmt: skip
    person = Participant(
        campaign_id=network.campaign.id, organisation_id=network.alpha.id, pilot_group=group,
        email="asa@alpha.se", name="Åsa Öberg", status=ParticipantStatus.ACTIVE,
        created_at=START, updated_at=START,
    )  # fmt: skip
    session.add_all([group, person])
    session.commit()
    return person


def form_of(client: FlaskClient, path: str = EDIT) -> dict[str, object]:
    """The step form's fields as the page shows them."""
    page = client.get(path).get_data(as_text=True)
    data: dict[str, object] = {"csrf_token": csrf_token(client, path)}
    for name, value in re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', page):
        if name not in ("csrf_token", "unless", "only_if", "language"):
            data[name] = value
    for name in ("offset_unit", "anchor"):
        pattern = rf'<select[^>]*name="{name}".*?<option selected value="([^"]*)"'
        chosen = re.search(pattern, page, re.S)
        data[name] = chosen.group(1) if chosen else ""
    for name in ("body_sv", "body_en"):
        found = re.search(rf'<textarea[^>]*name="{name}"[^>]*>\r?\n?(.*?)</textarea>', page, re.S)
        assert found, name
        data[name] = _unescaped(found.group(1))
    for name in ("unless", "only_if"):
        data[name] = re.findall(rf'name="{name}" value="(\w+)" checked', page)
    return data


def _unescaped(text: str) -> str:
    import html

    return html.unescape(text)


def post(client: FlaskClient, data: dict[str, object], path: str = EDIT, **changes: object):  # type: ignore[no-untyped-def]
    return client.post(path, data={**data, **changes})


def versions(session: Session) -> list[SequenceVersion]:
    session.expire_all()
    return list(session.scalars(select(SequenceVersion).order_by(SequenceVersion.number)))


def test_the_form_shows_the_step_and_saving_it_unchanged_makes_no_version(
    lead: FlaskClient, session: Session
) -> None:
    data = form_of(lead)
    assert data["subject_sv"] == "Ditt första webbmöte – prova med någon du känner"
    assert data["offset_amount"] == "2" and data["offset_unit"] == "business_days"
    assert data["at"] == "09:00"
    response = post(lead, data, action="save")
    assert response.status_code == 302
    assert versions(session) == []
    assert "Inget ändrades" in lead.get(response.headers["Location"]).get_data(as_text=True)


def test_a_save_is_a_version_with_its_diff_and_re_plans_the_followers(
    lead: FlaskClient, session: Session, person: Participant
) -> None:
    data = form_of(lead)
    response = post(lead, data, action="save", subject_sv="Prova med en kollega", at="10:15")
    assert response.status_code == 302, response.get_data(as_text=True)
    page = lead.get(response.headers["Location"]).get_data(as_text=True)
    assert "Sparad som version 2." in page and "1 deltagare planeras om." in page
    saved = versions(session)
    assert [(v.number, v.note) for v in saved] == [(1, "shipped"), (2, "edit:02")]
    assert saved[0].author_id is None and saved[1].author_id is not None
    text = saved[1].files["sv/02-prova-med-nagon-du-kanner.md"]
    assert text.startswith("---\noffset: +2 business days\nat: '10:15'\n")
    assert "subject: Prova med en kollega\nunless: [attended_practice_meeting]\n---\n" in text
    history = lead.get(staff(f"/sequences/{NAME}/history")).get_data(as_text=True)
    assert "Ändrade steg 02" in history and "Lea Lead" in history and "Den levererade" in history
    diff = lead.get(staff(f"/sequences/{NAME}/versions/2")).get_data(as_text=True)
    assert "<del>subject: Ditt första webbmöte – prova med någon du känner</del>" in diff
    assert "<ins>subject: Prova med en kollega</ins>" in diff and "Tillagd rad" in diff
    assert diff.count("<del>") == 3 and diff.count("<ins>") == 3  # at in both files, subject
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "sequence.saved")).one()
    assert event.campaign_id == person.campaign_id and event.target == f"sequence:{NAME}"
    assert event.details == {"number": 2, "steps": 1, "participants": 1}


def test_problems_stand_beside_their_fields_with_the_line_and_nothing_is_saved(
    lead: FlaskClient, session: Session
) -> None:
    data = form_of(lead)
    response = post(lead, data, action="save", at="03:00")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "1 problem: inget sparades." in page
    at_error = re.search(r'id="at-error">(.*?)</p>', page, re.S)
    assert at_error and "Rad 3 i " in at_error.group(1)
    said = "03:00 är under tysta timmar: e-post skickas mellan 08:00 och 18:00."
    assert said in at_error.group(1)
    assert 'aria-invalid="true"' in page and 'href="#at"' in page
    body = str(data["body_en"]).replace("\n\n", "\n\n{{ participant.nickname }}\n", 1)
    page = post(lead, data, action="save", body_en=body).get_data(as_text=True)
    body_error = re.search(r'id="body_en-error"><p>(.*?)</p>', page, re.S)
    assert body_error and "Rad 3 i texten: Okänd platshållare: nickname." in body_error.group(1)
    page = post(lead, data, action="save", subject_sv="").get_data(as_text=True)
    assert re.search(r'id="subject_sv-error"><p>[^<]+</p>', page)
    assert versions(session) == []


def test_preview_renders_the_unsaved_form_and_its_frame(
    lead: FlaskClient, session: Session
) -> None:
    data = form_of(lead)
    body = "Hej {{ participant.first_name }}, HELT NY TEXT.\n"
    response = post(lead, data, action="preview", body_sv=body, subject_sv="Nytt ämne")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Hej Åsa, HELT NY TEXT." in page and "Nytt ämne" in page
    frame = re.search(r'<iframe[^>]*src="([^"]+)"', page)
    assert frame
    html = lead.get(frame.group(1))
    assert "HELT NY TEXT" in html.get_data(as_text=True)
    assert html.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert versions(session) == []  # a preview saves nothing


def test_preview_as_a_participant(lead: FlaskClient, person: Participant) -> None:
    data = form_of(lead)
    page = post(lead, data, action="preview", participant="ASA@alpha.se").get_data(as_text=True)
    assert "Som Åsa Öberg får det" in page
    page = post(lead, data, action="preview", participant="nobody@alpha.se").get_data(as_text=True)
    assert "Ingen aktiv deltagare" in page


def test_send_me_a_test_of_the_unsaved_step(lead: FlaskClient, session: Session) -> None:
    data = form_of(lead)
    post(lead, data, action="test", subject_en="Unsaved subject")
    messages = session.scalars(select(Message).order_by(Message.id)).all()
    assert [m.kind for m in messages] == [MessageKind.TEST, MessageKind.TEST]
    assert {m.recipient for m in messages} == {"lead@alpha.se"}
    assert "Unsaved subject" in {m.subject for m in messages}
    assert versions(session) == []


def test_revert_saves_a_new_version_with_the_old_text(
    lead: FlaskClient, session: Session, person: Participant
) -> None:
    post(lead, form_of(lead), action="save", subject_sv="Första ändringen")
    token = csrf_token(lead, staff(f"/sequences/{NAME}/history"))
    response = lead.post(staff(f"/sequences/{NAME}/versions/1/revert"), data={"csrf_token": token})
    assert response.status_code == 302
    page = lead.get(response.headers["Location"]).get_data(as_text=True)
    assert "Sparad som version 3." in page and "1 deltagare planeras om." in page
    saved = versions(session)
    assert saved[2].note == "revert:1" and saved[2].files == saved[0].files
    assert "Återställde version 1" in page
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["sequence.saved", "sequence.reverted"]
    missing = lead.post(staff(f"/sequences/{NAME}/versions/9/revert"), data={"csrf_token": token})
    assert missing.status_code == 404


def test_a_new_step_gets_a_fresh_key_and_goes_last(lead: FlaskClient, session: Session) -> None:
    path = staff(f"/sequences/{NAME}/new-step")
    data = form_of(lead, path)
    fields = {
        "offset_amount": "20", "offset_unit": "weeks", "anchor": "start", "at": "09:30",
        "subject_sv": "Tack för att du var med", "body_sv": "Hej!\n\nTack.\n",
        "subject_en": "Thank you for taking part", "body_en": "Hi!\n\nThanks.\n",
    }  # fmt: skip
    response = post(lead, data, path, action="save", **fields)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    assert response.headers["Location"].endswith(f"/sequences/{NAME}/steps/09")
    files = versions(session)[-1].files
    assert files["sv/09-tack-for-att-du-var-med.md"].startswith("---\noffset: +20w\n")
    assert versions(session)[-1].note == "add:09"


def test_moving_and_editing_a_sent_step_never_sends_it_again(
    app: Flask, lead: FlaskClient, session: Session, person: Participant
) -> None:
    with app.app_context():
        materialize(session, NOW)
        session.commit()
    assert _sent(session, person) == [f"{NAME}/01"]
    timeline = staff(f"/sequences/{NAME}")
    token = csrf_token(lead, timeline)
    move = staff(f"/sequences/{NAME}/steps/01/move")
    assert lead.post(move, data={"csrf_token": token, "direction": "down"}).status_code == 302
    assert lead.post(move, data={"csrf_token": token, "direction": "sideways"}).status_code == 302
    page = lead.get(timeline).get_data(as_text=True)
    assert "Sparad som version 2." in page
    files = versions(session)[-1].files
    assert files["sv/02-valkommen.md"].startswith("---\nkey: '01'\n")
    assert files["sv/01-prova-med-nagon-du-kanner.md"].startswith("---\nkey: '02'\n")
    data = form_of(lead, staff(f"/sequences/{NAME}/steps/01"))
    post(lead, data, staff(f"/sequences/{NAME}/steps/01"), action="save", subject_sv="Ny rubrik")
    with app.app_context():
        materialize(session, NOW)
        session.commit()
    assert _sent(session, person) == [f"{NAME}/01"]  # the welcome, once


def test_removing_a_step_asks_first(lead: FlaskClient, session: Session) -> None:
    path = staff(f"/sequences/{NAME}/steps/03/remove")
    page = lead.get(path).get_data(as_text=True)
    assert "Ta bort steg 03" in page and versions(session) == []
    assert lead.post(path, data={"csrf_token": csrf_token(lead, path)}).status_code == 302
    assert not any(key.startswith("sv/03") for key in versions(session)[-1].files)
    assert versions(session)[-1].note == "remove:03"
    assert lead.get(path).status_code == 404


def _sent(session: Session, person: Participant) -> list[str]:
    rows = session.scalars(select(Message.source_key).where(Message.participant_id == person.id))
    return sorted(key.rsplit(":seq:", 1)[1] for key in rows)


def test_unknown_steps_and_sequences_are_404(lead: FlaskClient) -> None:
    assert lead.get(staff(f"/sequences/{NAME}/steps/77")).status_code == 404
    assert lead.get(staff("/sequences/no-such/steps/01")).status_code == 404
    assert lead.get(staff("/sequences/no-such/history")).status_code == 404
    assert lead.get(staff(f"/sequences/{NAME}/versions/1")).status_code == 404


def test_a_representative_cannot_edit(
    client: FlaskClient, network: Network, session: Session
) -> None:
    sign_in(client, network.rep_alpha.email)
    assert client.get(EDIT).status_code == 403
    token = csrf_token(client, staff("/organisations/alpha"))
    assert client.post(EDIT, data={"csrf_token": token, "action": "save"}).status_code == 403
    assert session.scalar(select(func.count()).select_from(SequenceVersion)) == 0


def test_every_step_saved_as_shown_changes_nothing(lead: FlaskClient, session: Session) -> None:
    """Each shipped step's form, posted as a browser sends it, makes no version: what the form
    shows (offsets, anchors, conditions, both texts) is what the files say."""
    from werkzeug.datastructures import MultiDict

    from tests.forms_as_sent import form_with

    for number in range(1, 9):
        path = staff(f"/sequences/{NAME}/steps/{number:02d}")
        form = form_with(lead.get(path).get_data(as_text=True), "subject_sv")
        response = lead.post(form.action or path, data=MultiDict(form.data()))
        assert response.status_code == 302, (path, response.get_data(as_text=True)[:3000])
    assert versions(session) == []
