"""Control characters (an escape, a bell) typed into names, titles, member facts, imported cells
and answers: refused or cleaned where they come in, and removed from every spreadsheet download
that still meets one in older rows (openpyxl refuses a whole workbook for one escape character:
the download was a 500)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.enrolment import importing
from campaign.enrolment.models import ImportRow, Participant, PilotGroup
from campaign.network.models import Membership
from campaign.surveys import service
from campaign.surveys.models import Response
from tests.conftest import START, Network, Runner, csrf_token, sign_in
from tests.enrolment_helpers import group
from tests.outbox_helpers import participant
from tests.urls import staff

ESC, BELL = "\x1b", "\x07"
ANSWERS = {
    "trips_replaced": "12",
    "km_avoided": "840",
    "hours_saved": "20",
    "satisfaction": "4",
}


def _signed_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    sign_in(client, email)
    return client


def _post(client: FlaskClient, path: str, **data: str) -> tuple[int, str]:
    response = client.post(path, data={"csrf_token": csrf_token(client, path), **data})
    return response.status_code, response.get_data(as_text=True)


def _sheet(body: bytes) -> list[tuple[object, ...]]:
    return list(openpyxl.load_workbook(io.BytesIO(body)).active.iter_rows(values_only=True))


def _download(client: FlaskClient, path: str) -> bytes:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.data


def _no_control_characters(rows: list[tuple[object, ...]] | list[list[str]]) -> None:
    for row in rows:
        for value in row:
            assert not (isinstance(value, str) and (ESC in value or BELL in value)), row


def test_the_participants_download_cleans_what_older_rows_hold(
    app: Flask, session: Session, network: Network
) -> None:
    with app.app_context():
        target = group(session, network, f"Miljö{BELL}gruppen")
        person = participant(session, network, "asa@alpha.se", name=f"Åsa{ESC} Öberg")
        person.title, person.pilot_group_id = f"{ESC}=cmd|' /C calc'!A0", target.id
        session.commit()
    client = _signed_in(app, "rep@alpha.se")
    rows = _sheet(_download(client, staff("/organisations/alpha/participants/export.xlsx")))
    assert rows[1][:3] == ("asa@alpha.se", "Åsa Öberg", "'=cmd|' /C calc'!A0")
    assert rows[1][5] == "Miljögruppen"
    body = _download(client, staff("/organisations/alpha/participants/export.csv"))
    (header, row) = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert row[:3] == ["asa@alpha.se", "Åsa Öberg", "'=cmd|' /C calc'!A0"]
    _no_control_characters(rows)


def test_the_final_report_figures_clean_what_older_member_facts_hold(
    app: Flask, session: Session, network: Network, runner: Runner, tmp_path: Path
) -> None:
    membership = session.scalar(
        select(Membership).where(Membership.organisation_id == network.beta.id)
    )
    membership.meeting_software = f"Adobe{ESC} Connect"
    membership.software_comment = f"Alla{BELL}"
    membership.contact_name, membership.contact_title = f"Kim{ESC}", f"Chef{ESC}"
    membership.tips_md = f"- Testa{ESC} före mötet"
    session.commit()
    client = _signed_in(app, "lead@alpha.se")
    downloaded = _sheet(_download(client, staff("/report/final.xlsx?language=en")))
    out = tmp_path / "report.xlsx"
    result = runner.invoke("report", "--format", "xlsx", "-o", str(out), "--language", "en")
    assert result.exit_code == 0, result.output
    for rows in (downloaded, _sheet(out.read_bytes())):
        assert any("Adobe Connect" in row for row in rows), rows
        _no_control_characters(rows)
    rows = list(
        csv.reader(io.StringIO(_download(client, staff("/report/final.csv")).decode("utf-8-sig")))
    )
    _no_control_characters(rows)


def _five_respondents(app: Flask, session: Session, network: Network) -> tuple[int, list[str]]:
    """Five of Alpha's participants with their links to the follow-up questionnaire."""
    with app.app_context():
        target = group(session, network)
        people = []
        for n in range(5):
            person = participant(session, network, f"p{n}@alpha.se")
            person.pilot_group_id = target.id
            people.append(person)
        follow_up = next(
            q
            for q in service.questionnaires_of(session, network.campaign, START)
            if q.slug == "follow-up"
        )
        session.commit()
        return follow_up.id, [f"/q/{service.link_token(follow_up, p)}" for p in people]


def test_answers_keep_line_breaks_and_tabs_only_and_the_export_cleans_older_ones(
    app: Flask, session: Session, network: Network
) -> None:
    questionnaire_id, links = _five_respondents(app, session, network)
    for link in links:
        status, page = _post(
            app.test_client(), link, **ANSWERS, tips=f"Börja{ESC} som{BELL} lyssnare\r\n\tsen tala"
        )
        assert status == 200 and "Tack!" in page
    session.expire_all()
    answers = session.scalars(select(Response.answers)).all()
    assert [a["tips"] for a in answers] == ["Börja som lyssnare\n\tsen tala"] * 5
    # A row stored before answers were cleaned.
    older = session.scalars(select(Response)).first()
    older.answers = {**older.answers, "tips": f"Äldre{ESC} svar"}
    session.commit()
    lead = _signed_in(app, "lead@alpha.se")
    for path in (
        staff(f"/questionnaires/{questionnaire_id}/export.xlsx"),
        staff(f"/organisations/alpha/questionnaires/{questionnaire_id}/export.xlsx"),
    ):
        rows = _sheet(_download(lead, path))
        assert len(rows) == 6 and any("Äldre svar" in row for row in rows), rows
        _no_control_characters(rows)


def test_forms_refuse_control_characters_in_names_titles_and_member_facts(
    app: Flask, session: Session, network: Network
) -> None:
    with app.app_context():
        target = group(session, network)
        anna = participant(session, network, "anna@alpha.se", name="Anna Ahl")
        anna.pilot_group_id = target.id
        session.commit()
    rep = _signed_in(app, "rep@alpha.se")
    refused = "Ta bort radbrytningar, tabbar och andra kontrolltecken"
    person = {"email": "anna@alpha.se", "name": "Anna Ahl", "title": "Chef", "language": "sv"}
    edit = staff(f"/organisations/alpha/participants/{anna.id}/edit")
    for field in ("name", "title"):
        status, page = _post(rep, edit, **{**person, field: f"Anna{ESC}"})
        assert status == 200 and refused in page, field
    new = staff("/organisations/alpha/participants/new")
    extra = {"pilot_group": str(target.id), "agreed": "y"}
    status, page = _post(
        rep, new, **{**person, **extra, "email": "ny@alpha.se", "title": f"Chef{ESC}"}
    )
    assert status == 200 and refused in page
    groups = staff("/organisations/alpha/groups/new")
    status, page = _post(
        rep, groups, name=f"Grupp{ESC}", kind="volunteers", starts_on="2014-04-01",
        sequence_name="pilot-group",
    )  # fmt: skip
    assert status == 200 and refused in page
    session.expire_all()
    assert (anna.name, anna.title) == ("Anna Ahl", "")
    assert session.scalar(select(Participant).where(Participant.email == "ny@alpha.se")) is None
    assert session.scalar(select(PilotGroup).where(PilotGroup.name.like("Grupp%"))) is None

    facts = staff("/organisations/alpha/facts")
    for field in ("meeting_software", "software_comment", "contact_name", "contact_title"):
        status, page = _post(rep, facts, **{field: f"Lync{ESC}"})
        assert status == 200 and refused in page, field
    for field in ("starting_point_md", "work_done_md", "tips_md"):
        status, page = _post(rep, facts, **{field: f"- Testa{ESC} före"})
        assert status == 200 and "Ta bort kontrolltecknen" in page, field
    status, page = _post(rep, facts, guide_url=f"https://intranat.alpha.se/a{ESC}b")
    assert status == 200 and "En länk kan inte innehålla" in page
    status, _page = _post(rep, facts, meeting_software="Lync", tips_md="- Ett\r\n- Två\tmed tab")
    assert status == 302  # line breaks and tabs are what a text of several lines may keep
    session.expire_all()
    membership = session.scalar(
        select(Membership).where(Membership.organisation_id == network.alpha.id)
    )
    # the browser's CRLF is stored as LF (tests/test_edit_forms.py), the tab as it is
    assert (membership.meeting_software, membership.tips_md) == ("Lync", "- Ett\n- Två\tmed tab")


def test_the_join_form_refuses_a_control_character_in_the_title(
    app: Flask, session: Session, network: Network
) -> None:
    from campaign.enrolment import joining
    from campaign.enrolment.models import JoinRequest

    with app.app_context():
        target = group(session, network)
        joining.open_link(target)
        session.commit()
        path = f"/join/{joining.link_token(target)}"
    visitor = app.test_client()
    status, page = _post(
        visitor, path, name="Åsa Öberg", email="asa@alpha.se", title=f"Chef{ESC}",
        language="sv", agreed="y",
    )  # fmt: skip
    assert status == 200 and "Ta bort radbrytningar, tabbar och andra kontrolltecken" in page
    assert session.scalars(select(JoinRequest)).all() == []


def test_an_imported_cell_loses_its_control_characters(
    app: Flask, session: Session, network: Network
) -> None:
    with app.app_context():
        target = group(session, network)
        session.commit()
    rep = _signed_in(app, "rep@alpha.se")
    content = f"E-post;Namn;Titel\nanna@alpha.se;Anna{ESC}Ahl;Chef{BELL}\x1c\n".encode()
    upload = staff("/organisations/alpha/imports/new")
    response = rep.post(
        upload,
        data={
            "csrf_token": csrf_token(rep, upload),
            "pilot_group": str(target.id),
            "file": (io.BytesIO(content), "lista.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    importing.wait_for_readers()
    session.expire_all()
    row = session.scalar(select(ImportRow))
    assert (row.email, row.name, row.title) == ("anna@alpha.se", "Anna Ahl", "Chef")
