"""Enrolment through the web UI: groups, the import preview, the lists, and a person's rights."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.audit import AuditEvent
from campaign.enrolment import importing
from campaign.enrolment.models import (
    Consent,
    ConsentMethod,
    ImportState,
    Participant,
    ParticipantImport,
    ParticipantStatus,
    PilotGroup,
)
from campaign.outbox.models import Message, MessageState, Suppression
from campaign.outbox.unsubscribe import token_for
from campaign.timing import FixedClock
from tests.conftest import START, Network, csrf_token, sign_in
from tests.enrolment_helpers import group
from tests.outbox_helpers import participant, queue_welcome
from tests.urls import staff


def rep(app: Flask, email: str = "rep@alpha.se") -> FlaskClient:
    client = app.test_client()
    sign_in(client, email)
    return client


def post(client: FlaskClient, path: str, form_page: str | None = None, **data):  # type: ignore[no-untyped-def]
    return client.post(path, data={"csrf_token": csrf_token(client, form_page or path), **data})


def test_a_representative_creates_renames_and_deletes_pilot_groups(
    app: Flask, session: Session, network: Network
) -> None:
    client = rep(app)
    new = staff("/organisations/alpha/groups/new")
    form = client.get(new).get_data(as_text=True)
    assert 'selected value="pilot-group"' in form  # the shipped sequence is the default
    response = post(
        client, new, name="  Miljö  och bygg ", kind="volunteers", starts_on="2014-04-01",
        sequence_name="pilot-group",
    )  # fmt: skip
    assert response.status_code == 302
    made = session.scalar(select(PilotGroup))
    assert (made.name, made.sequence_name, made.organisation_id) == (
        "Miljö och bygg", "pilot-group", network.alpha.id,
    )  # fmt: skip
    again = post(
        client, new, name="Miljö och bygg", kind="volunteers", starts_on="2014-04-01",
        sequence_name="",
    )  # fmt: skip
    assert "Ni har redan en provgrupp med det namnet" in again.get_data(as_text=True)
    bad = post(client, new, name="X", kind="nonsense", starts_on="never", sequence_name="no-such")
    assert bad.status_code == 200 and session.scalar(select(func.count(PilotGroup.id))) == 1

    edit = staff(f"/organisations/alpha/groups/{made.id}")
    post(
        client,
        edit,
        name="Chefer",
        kind="selected_managers",
        starts_on="2014-05-01",
        sequence_name="",
    )
    session.expire_all()
    assert (made.name, made.sequence_name) == ("Chefer", None)
    assert "Chefer" in client.get(staff("/organisations/alpha/groups")).get_data(as_text=True)

    with app.app_context():
        person = participant(session, network, "kvar@alpha.se")
        person.pilot_group_id = made.id
        session.commit()
    refused = post(client, f"{edit}/delete", edit)
    assert refused.status_code == 302 and session.get(PilotGroup, made.id) is not None
    with app.app_context():
        session.delete(person)
        session.commit()
    post(client, f"{edit}/delete", edit)
    session.expire_all()
    assert session.scalar(select(func.count(PilotGroup.id))) == 0


def test_a_new_group_starts_on_the_campaigns_today_not_utcs(app: Flask, network: Network) -> None:
    # 23:30 UTC on 3 March is half past midnight on 4 March in Stockholm, the campaign's zone.
    app.extensions["campaign.clock"] = FixedClock(datetime(2014, 3, 3, 23, 30, tzinfo=UTC))
    form = rep(app).get(staff("/organisations/alpha/groups/new")).get_data(as_text=True)
    assert 'value="2014-03-04"' in form and "2014-03-03" not in form


def test_import_in_the_browser_preview_then_all_or_nothing(
    app: Flask, session: Session, network: Network
) -> None:
    with app.app_context():
        target = group(session, network)
        session.commit()
    client = rep(app)
    upload = staff("/organisations/alpha/imports/new")
    content = "E-post;Namn\nanna@alpha.se;Anna Ahl\nfel-adress;Bo\nanna@alpha.se;Igen\n"
    response = client.post(
        upload,
        data={
            "csrf_token": csrf_token(client, upload),
            "pilot_group": str(target.id),
            "file": (io.BytesIO(content.encode("cp1252")), "lista.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    page = response.headers["Location"]
    importing.wait_for_readers()
    preview = client.get(page).get_data(as_text=True)
    assert "Inte en giltig e-postadress" in preview
    assert "Samma adress finns på en tidigare rad i filen" in preview and "rad 2" in preview
    assert "Importera 1 nya och uppdatera 0" in preview
    rejected_only = client.get(page + "?show=reject").get_data(as_text=True)
    assert "fel-adress" in rejected_only and "Anna Ahl" not in rejected_only

    # Without the confirmation of consent nothing is written.
    import_id = page.rsplit("/", 1)[1]
    apply = staff(f"/organisations/alpha/imports/{import_id}/apply")
    post(client, apply, page)
    assert session.scalar(select(func.count(Participant.id))) == 0
    done = post(client, apply, page, agreed="y")
    assert done.headers["Location"] == staff("/organisations/alpha/participants")
    session.expire_all()
    (anna,) = session.scalars(select(Participant)).all()
    assert (anna.email, anna.name, anna.pilot_group_id) == ("anna@alpha.se", "Anna Ahl", target.id)
    assert "1 deltagare lades till" in client.get(page).get_data(as_text=True)
    # A second confirmation (a double click) writes nothing more.
    post(client, apply, page, agreed="y")
    assert session.scalar(select(func.count(Participant.id))) == 1


def test_import_progress_page_updates_while_reading(
    app: Flask, session: Session, network: Network
) -> None:
    with app.app_context():
        target = group(session, network)
        job = ParticipantImport(
            campaign_id=network.campaign.id,
            organisation_id=network.alpha.id,
            pilot_group_id=target.id,
            filename="stor.csv",
            content=b"",
            rows_total=100_000,
            rows_read=40_000,
            state=ImportState.READING,
            created_at=START,
        )
        session.add(job)
        session.commit()
    client = rep(app)
    page = client.get(staff(f"/organisations/alpha/imports/{job.id}")).get_data(as_text=True)
    assert '<progress max="100000" value="40000"' in page
    assert "40\xa0000 av ungefär 100\xa0000 rader" in page  # Swedish digit groups
    assert "/static/progress.js" in page  # no inline script: the CSP forbids it
    progress = client.get(staff(f"/organisations/alpha/imports/{job.id}/progress.json")).get_json()
    assert progress == {
        "state": "reading",
        "done": 40_000,
        "total": 100_000,
        "text": "40\xa0000 av ungefär 100\xa0000 rader inlästa. Sidan uppdateras av sig själv.",
        "finished": False,
    }
    assert (
        rep(app, "rep@beta.se")
        .get(staff(f"/organisations/beta/imports/{job.id}/progress.json"))
        .status_code
        == 404
    )


def test_another_members_group_cannot_be_imported_into(
    app: Flask, session: Session, network: Network
) -> None:
    with app.app_context():
        alpha_group = group(session, network)
        group(session, network, "Beta-gruppen", org="beta")
        session.commit()
    client = rep(app, "rep@beta.se")
    upload = staff("/organisations/beta/imports/new")
    response = client.post(
        upload,
        data={
            "csrf_token": csrf_token(client, upload),
            "pilot_group": str(alpha_group.id),
            "file": (io.BytesIO(b"E-post\nx@beta.se\n"), "lista.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200  # "not a valid choice": the form is shown again
    assert session.scalar(select(func.count(ParticipantImport.id))) == 0
    assert client.get(staff("/organisations/alpha/imports/new")).status_code == 404


def _people(app: Flask, session: Session, network: Network) -> PilotGroup:
    with app.app_context():
        target = group(session, network)
        other = group(session, network, "Alpha-chefer")
        for n, (email, name, title) in enumerate(
            [
                ("anna@alpha.se", "Anna Ahl", "Miljöstrateg"),
                ("bo@alpha.se", '=HYPERLINK("http://evil")', "+46 31"),
                ("cilla@alpha.se", "Cilla Chef", "@chef"),
            ]
        ):
            person = participant(session, network, email, name=name)
            person.title = title
            person.pilot_group_id = other.id if n == 2 else target.id
        session.commit()
    return target


def test_participant_list_searches_filters_and_pages(
    app: Flask, session: Session, network: Network
) -> None:
    target = _people(app, session, network)
    client = rep(app)
    listing = client.get(staff("/organisations/alpha/participants")).get_data(as_text=True)
    assert "3 deltagare i Alpha kommun matchar" in listing
    found = client.get(staff("/organisations/alpha/participants?q=MILJÖ")).get_data(as_text=True)
    assert "anna@alpha.se" in found and "bo@alpha.se" not in found
    in_group = client.get(staff(f"/organisations/alpha/participants?group={target.id}")).get_data(
        as_text=True
    )
    assert "cilla@alpha.se" not in in_group and "bo@alpha.se" in in_group
    paused = client.get(staff("/organisations/alpha/participants?status=paused")).get_data(
        as_text=True
    )
    assert "Ingen deltagare matchar" in paused
    with app.app_context():
        for n in range(60):
            participant(session, network, f"p{n:02}@alpha.se", name=f"Zz {n:02}")
        session.commit()
    second = client.get(staff("/organisations/alpha/participants?page=2")).get_data(as_text=True)
    assert "Sida 2 av 2" in second and "p59@alpha.se" in second and "anna@alpha.se" not in second
    assert "anna@alpha.se" not in rep(app, "rep@beta.se").get(
        staff("/organisations/beta/participants")
    ).get_data(as_text=True)


def test_exports_neutralise_formulas_and_round_trip_through_the_import(
    app: Flask, session: Session, network: Network
) -> None:
    target = _people(app, session, network)
    client = rep(app)
    response = client.get(staff(f"/organisations/alpha/participants/export.csv?group={target.id}"))
    assert response.headers["Content-Disposition"].endswith('.csv"')
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 with a byte-order mark
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["E-post", "Namn", "Titel"]
    by_email = {r[0]: r for r in rows[1:]}
    assert by_email["bo@alpha.se"][1] == '\'=HYPERLINK("http://evil")'
    assert by_email["bo@alpha.se"][2] == "'+46 31"
    assert by_email["anna@alpha.se"][1] == "Anna Ahl"

    workbook = load_workbook(
        io.BytesIO(client.get(staff("/organisations/alpha/participants/export.xlsx")).get_data())
    )
    sheet = workbook.active
    cells = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    assert cells["bo@alpha.se"][1].value == '\'=HYPERLINK("http://evil")'
    assert cells["bo@alpha.se"][1].data_type == "s"  # text, never a formula
    assert cells["cilla@alpha.se"][2].value == "'@chef"
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)

    # The export of a group, imported into the same group, changes nothing but the
    # neutralised names (their apostrophe is now part of the text typed into Excel).
    with app.app_context():
        from tests.enrolment_helpers import read

        job = read(session, target, raw)
    assert job.counts["unchanged"] == 1 and job.counts["update"] == 1
    assert (
        rep(app, "rep@beta.se")
        .get(staff("/organisations/alpha/participants/export.csv"))
        .status_code
        == 404
    )


def test_pause_resume_unsubscribe_move_and_edit(
    app: Flask, session: Session, network: Network
) -> None:
    _people(app, session, network)
    anna = session.scalar(select(Participant).where(Participant.email == "anna@alpha.se"))
    other = session.scalar(select(PilotGroup).where(PilotGroup.name == "Alpha-chefer"))
    client = rep(app)
    page = staff(f"/organisations/alpha/participants/{anna.id}")
    assert "Miljöstrateg" in client.get(page).get_data(as_text=True)
    post(client, f"{page}/status", page, action="pause")
    session.expire_all()
    assert anna.status is ParticipantStatus.PAUSED
    post(client, f"{page}/status", page, action="resume")
    session.expire_all()
    assert anna.status is ParticipantStatus.ACTIVE
    post(client, f"{page}/move", page, pilot_group=str(other.id))
    session.expire_all()
    assert anna.pilot_group_id == other.id

    edit = f"{page}/edit"
    taken = post(client, edit, email="bo@alpha.se", name="Anna", title="", language="sv")
    assert "En annan av era deltagare har den adressen" in taken.get_data(as_text=True)
    with app.app_context():
        queued = queue_welcome(session, anna, START + timedelta(hours=1), step="05")
        session.commit()
    post(client, edit, email="Anna.Ny@Alpha.se", name="Anna  Ny", title="Chef", language="en")
    assert session.get(Message, queued).recipient == "anna.ny@alpha.se"
    session.expire_all()
    assert (anna.email, anna.name, anna.title, anna.language) == (
        "anna.ny@alpha.se", "Anna Ny", "Chef", "en",
    )  # fmt: skip

    with app.app_context():
        queue_welcome(session, anna, START + timedelta(days=1))
        session.commit()
    post(client, f"{page}/status", page, action="unsubscribe")
    session.expire_all()
    assert anna.status is ParticipantStatus.UNSUBSCRIBED
    assert session.scalar(select(Suppression.email)) == "anna.ny@alpha.se"
    assert set(session.scalars(select(Message.state))) == {MessageState.CANCELLED}
    actors = {
        e.actor_label
        for e in session.scalars(select(AuditEvent))
        if e.target == f"participant:{anna.id}"
    }
    assert actors == {"rep@alpha.se"}


def test_add_one_participant_needs_consent_and_a_free_address(
    app: Flask, session: Session, network: Network
) -> None:
    target = _people(app, session, network)
    client = rep(app)
    new = staff("/organisations/alpha/participants/new")
    data = {"email": "ny@alpha.se", "name": "Ny", "language": "sv", "pilot_group": str(target.id)}
    refused = post(client, new, **data)
    assert "Bekräfta att personen har gått med på det" in refused.get_data(as_text=True)
    taken = post(client, new, **{**data, "email": "ANNA@alpha.se", "agreed": "y"})
    assert "Redan inskriven" in taken.get_data(as_text=True)
    assert post(client, new, **data, agreed="y").status_code == 302
    person = session.scalar(select(Participant).where(Participant.email == "ny@alpha.se"))
    assert person.status is ParticipantStatus.ACTIVE
    (consent,) = session.scalars(select(Consent).where(Consent.participant_id == person.id))
    assert "rep@alpha.se" in consent.text


def test_gdpr_export_then_erasure_keeps_counts_and_nothing_personal(
    app: Flask, session: Session, network: Network
) -> None:
    _people(app, session, network)
    anna = session.scalar(select(Participant).where(Participant.email == "anna@alpha.se"))
    with app.app_context():
        queue_welcome(session, anna, START)
        queue_welcome(session, anna, START + timedelta(days=3), step="02")
        sent = session.scalar(select(Message).where(Message.source_key.like("%/01")))
        sent.state, sent.sent_at = MessageState.SENT, START
        # What else a mail row can say about the person: an invitation's calendar part names
        # its attendee, and a server's answer may quote the address.
        sent.calendar = "ATTENDEE;CN=Anna Ahl;RSVP=TRUE:mailto:anna@alpha.se"
        sent.last_answer = "250 2.0.0 Ok: queued for <anna@alpha.se>"
        session.add(Consent(participant_id=anna.id, method=ConsentMethod.IMPORT,
                            given_at=START, source="import from 10.0.0.1", text="ok"))  # fmt: skip
        session.commit()
        unsubscribe_token = token_for(anna)
    client = rep(app)
    page = staff(f"/organisations/alpha/participants/{anna.id}")
    data = json.loads(client.get(f"{page}/data.json").get_data(as_text=True))
    assert data["participant"]["email"] == "anna@alpha.se"
    assert data["participant"]["pilot_group"] == "Alpha-gruppen"
    assert len(data["messages"]) == 2 and "Hej Anna Ahl" in data["messages"][0]["text"]
    assert data["consents"][0]["source"] == "import from 10.0.0.1"

    refused = post(client, f"{page}/erase")
    assert refused.status_code == 200 and session.get(Participant, anna.id).name == "Anna Ahl"
    done = post(client, f"{page}/erase", understood="y")
    assert done.status_code == 302
    session.expire_all()
    erased = session.get(Participant, anna.id)
    assert erased.status is ParticipantStatus.ERASED
    assert (erased.name, erased.title) == ("", "")
    assert erased.email == f"erased-{anna.id}@erased.invalid"
    assert (
        session.scalar(select(func.count(Consent.id)).where(Consent.participant_id == anna.id)) == 0
    )
    messages = session.scalars(select(Message).where(Message.participant_id == anna.id)).all()
    assert {m.state for m in messages} == {MessageState.SENT, MessageState.CANCELLED}
    for message in messages:
        assert "anna" not in (
            message.recipient + message.subject + message.text_body + message.html_body
        )
        assert "anna" not in (message.calendar or "") + (message.last_answer or "")
    # Counts stay: the organisation still has three participants, one of them erased.
    assert (
        session.scalar(
            select(func.count(Participant.id)).where(
                Participant.organisation_id == network.alpha.id
            )
        )
        == 3
    )
    (audit,) = session.scalars(select(AuditEvent).where(AuditEvent.action == "participant.erased"))
    assert audit.actor_label == "rep@alpha.se" and "anna" not in json.dumps(audit.details)
    assert client.get(page).status_code == 404
    assert "anna@alpha.se" not in client.get(staff("/organisations/alpha/participants")).get_data(
        as_text=True
    )
    assert app.test_client().get(f"/u/{unsubscribe_token}").status_code == 410
