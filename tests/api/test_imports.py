"""The API's imports: a CSV or XLSX file uploaded as multipart, read in the background as the
page reads it, its preview paged by cursor, applied all at once; the page's limits and
sentences; never another member's."""

from __future__ import annotations

import io
import json

import pytest
from flask import Flask
from flask.testing import FlaskClient
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
    PilotGroup,
)
from tests.api_helpers import call, token_for
from tests.conftest import Network
from tests.enrolment_helpers import group as make_group
from tests.import_files import people, xlsx
from tests.outbox_helpers import participant

IMPORTS = "/api/v1/campaigns/test/members/alpha/imports"
EN = {"Accept-Language": "en"}
CSV = (
    "E-post;Namn\nanna@alpha.se;Anna Ahl\nfel-adress;Bo\nanna@alpha.se;Igen\nbo@alpha.se;Bo Berg\n"
)


@pytest.fixture
def target(session: Session, network: Network) -> PilotGroup:
    made = make_group(session, network)
    session.commit()
    return made


@pytest.fixture
def rep(session: Session, network: Network) -> str:
    return token_for(session, network.rep_alpha)


def _upload(
    client: FlaskClient,
    token: str,
    group_id: int,
    content: bytes,
    name: str = "lista.csv",
    **kwargs,
):  # type: ignore[no-untyped-def]
    data = {"pilot_group_id": str(group_id), "file": (io.BytesIO(content), name)}
    response = call(client, "POST", IMPORTS, token, data=data, **kwargs)
    importing.wait_for_readers()
    return response


def _problem(response, status: int, code: str = "") -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.get_json(force=True)
    assert not code or body["code"] == code, body
    return body


def _small_xlsx(rows: list[list[str]]) -> bytes:
    """A workbook of these rows, every text in the shared strings table, as Excel saves it."""
    index: dict[str, int] = {}
    sheet = []
    for number, cells in enumerate(rows, start=1):
        refs = "".join(
            f'<c r="{"ABCD"[i]}{number}" t="s"><v>{index.setdefault(text, len(index))}</v></c>'
            for i, text in enumerate(cells)
        )
        sheet.append(f'<row r="{number}">{refs}</row>')
    return xlsx(["".join(sheet)], ["".join(f"<si><t>{text}</t></si>" for text in index)])


def test_an_upload_is_read_previewed_by_cursor_and_applied_once(
    client: FlaskClient, session: Session, network: Network, target: PilotGroup, rep: str
) -> None:
    response = _upload(client, rep, target.id, CSV.encode("cp1252"))
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["state"] == "reading"
    location = response.headers["Location"]
    shown = call(client, "GET", location, rep).get_json()
    assert (shown["state"], shown["rows_read"], shown["rows_total"]) == ("ready", 4, 4)
    assert {k: shown["counts"][k] for k in ("add", "reject")} == {"add": 2, "reject": 2}
    seen, cursor = [], None
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = call(client, "GET", f"{location}/rows", rep, query_string=query, headers=EN)
        body = page.get_json()
        seen += body["items"]
        if (cursor := body["next_cursor"]) is None:
            break
    assert [row["row_number"] for row in seen] == [2, 3, 4, 5]
    assert [row["outcome"] for row in seen] == ["add", "reject", "reject", "add"]
    assert seen[1]["reason"] == "invalid_email"
    assert seen[1]["reason_text"] == "Not a valid e-mail address"
    rejected = call(client, "GET", f"{location}/rows", rep, query_string={"outcome": "reject"})
    assert [r["email"] for r in rejected.get_json()["items"]] == ["fel-adress", "anna@alpha.se"]

    apply = f"{location}/apply"
    unconfirmed = call(client, "POST", apply, rep, json={"people_have_agreed": False}, headers=EN)
    body = _problem(unconfirmed, 422, "invalid_input")
    assert body["errors"] == [
        {"field": "people_have_agreed", "detail": "Please confirm that the people have agreed."}
    ]
    assert session.scalar(select(func.count(Participant.id))) == 0
    applied = call(client, "POST", apply, rep, json={"people_have_agreed": True})
    assert applied.status_code == 200, applied.get_data(as_text=True)
    assert applied.get_json()["state"] == "applied"
    assert applied.get_json()["counts"]["added"] == 2
    emails = set(session.scalars(select(Participant.email)))
    assert emails == {"anna@alpha.se", "bo@alpha.se"}
    consents = session.scalars(select(Consent)).all()
    assert {c.method for c in consents} == {ConsentMethod.IMPORT}
    assert json.loads(consents[0].source)["by"] == "rep@alpha.se"
    again = call(client, "POST", apply, rep, json={"people_have_agreed": True}, headers=EN)
    assert (
        _problem(again, 409, "not_ready")["detail"] == "This import cannot be confirmed any more."
    )
    assert call(client, "GET", f"{location}/rows", rep).get_json()["items"] == []
    assert session.scalar(select(func.count(Participant.id))) == 2
    audited = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "participants.imported")
    )
    assert audited.one().details["added"] == 2


def test_an_xlsx_file_is_read_like_the_page_reads_it(
    client: FlaskClient, session: Session, target: PilotGroup, rep: str
) -> None:
    rows = list(people(30))
    response = _upload(client, rep, target.id, _small_xlsx(rows), "lista.xlsx")
    assert response.status_code == 201, response.get_data(as_text=True)
    shown = call(client, "GET", response.headers["Location"], rep).get_json()
    assert (shown["state"], shown["rows_read"], shown["counts"]["add"]) == ("ready", 30, 30)
    assert shown["filename"] == "lista.xlsx"


def test_the_same_idempotency_key_uploads_once(
    client: FlaskClient, session: Session, target: PilotGroup, rep: str
) -> None:
    body = {"pilot_group_id": str(target.id)}
    content = CSV.encode()
    key = {"Idempotency-Key": "upload-1", "Content-Type": "multipart/form-data; boundary=XyZ"}
    raw = (
        (
            '--XyZ\r\nContent-Disposition: form-data; name="pilot_group_id"\r\n\r\n'
            f'{body["pilot_group_id"]}\r\n--XyZ\r\nContent-Disposition: form-data; name="file";'
            ' filename="lista.csv"\r\nContent-Type: text/csv\r\n\r\n'
        ).encode()
        + content
        + b"\r\n--XyZ--\r\n"
    )
    first = call(client, "POST", IMPORTS, rep, data=raw, headers=key)
    importing.wait_for_readers()
    again = call(client, "POST", IMPORTS, rep, data=raw, headers=key)
    assert (first.status_code, again.status_code) == (201, 201), first.get_data(as_text=True)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert session.scalar(select(func.count(ParticipantImport.id))) == 1


def test_files_the_page_refuses_are_refused_with_its_sentences(
    app: Flask,
    client: FlaskClient,
    session: Session,
    network: Network,
    target: PilotGroup,
    rep: str,
) -> None:
    not_a_file = call(client, "POST", IMPORTS, rep, json={"pilot_group_id": target.id}, headers=EN)
    body = _problem(not_a_file, 422, "invalid_input")
    assert {"field": "file", "detail": "Choose a file."} in body["errors"]
    app.config["MAX_CONTENT_LENGTH"] = 4096  # the request's limit, as the page has it
    large = _upload(client, rep, target.id, b"E-post\n" + b"a@alpha.se\n" * 1000, headers=EN)
    body = _problem(large, 413, "too_large")
    assert body["detail"] == "The file is larger than an import takes (20 MB at most)."
    app.config["MAX_CONTENT_LENGTH"] = 20 * 2**20
    old_excel = _upload(client, rep, target.id, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600),
                        "lista.xls", headers=EN)  # fmt: skip
    shown = call(client, "GET", old_excel.headers["Location"], rep, headers=EN).get_json()
    assert shown["state"] == "failed"
    assert shown["error"].startswith("This is an old Excel file (.xls).")
    assert session.scalar(select(func.count(ParticipantImport.id))) == 1
    other = make_group(session, network, "Beta-gruppen", org="beta")
    session.commit()
    wrong_group = _upload(client, rep, other.id, CSV.encode())
    assert {e["field"] for e in _problem(wrong_group, 422)["errors"]} == {"pilot_group_id"}


def test_a_changed_enrolment_makes_a_fresh_preview_and_writes_nothing(
    client: FlaskClient, session: Session, network: Network, target: PilotGroup, rep: str
) -> None:
    location = _upload(client, rep, target.id, CSV.encode()).headers["Location"]
    participant(session, network, "bo@alpha.se")  # enrolled meanwhile, by hand
    session.commit()
    stale = call(client, "POST", f"{location}/apply", rep, json={"people_have_agreed": True},
                 headers=EN)  # fmt: skip
    assert _problem(stale, 409, "preview_changed")["detail"].startswith("Enrolments changed")
    assert set(session.scalars(select(Participant.email))) == {"bo@alpha.se"}
    fresh = call(client, "GET", f"{location}/rows", rep, query_string={"outcome": "reject"})
    assert "bo@alpha.se" in {row["email"] for row in fresh.get_json()["items"]}


def test_another_members_representative_reaches_no_import(
    client: FlaskClient, session: Session, network: Network, target: PilotGroup, rep: str
) -> None:
    location = _upload(client, rep, target.id, CSV.encode()).headers["Location"]
    beta = token_for(session, network.rep_beta)
    job_id = location.rsplit("/", 1)[1]
    for url in (location, f"/api/v1/campaigns/test/members/beta/imports/{job_id}"):
        for method, suffix, body in (("GET", "", None), ("GET", "/rows", None),
                                     ("POST", "/apply", {"people_have_agreed": True})):  # fmt: skip
            response = call(client, method, url + suffix, beta, json=body)
            assert response.status_code == 404, f"{method} {url}{suffix}"
            assert "anna@alpha.se" not in response.get_data(as_text=True)
    refused = _upload(client, beta, target.id, CSV.encode())
    assert refused.status_code == 404
    job = session.scalars(select(ParticipantImport)).one()
    session.refresh(job)
    assert job.state is ImportState.READY
    assert session.scalar(select(func.count(Participant.id))) == 0
