"""Hostile files through the import: each stops at the first limit it crosses, says which and
where in a sentence, costs the server little and leaves nothing behind but that sentence."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.enrolment import importing
from campaign.enrolment.models import (
    ImportRow,
    ImportState,
    Participant,
    ParticipantImport,
    PilotGroup,
)
from tests.conftest import Network, csrf_token, sign_in
from tests.enrolment_helpers import group, read
from tests.import_files import (
    WORKBOOK,
    huge_cell,
    huge_shared_string,
    long_field,
    million_columns,
    repeated_row_number,
    sheet_bomb,
    wide_row,
    xlsx,
)
from tests.urls import staff

ROOT = Path(__file__).resolve().parents[2]
UPLOAD = staff("/organisations/alpha/imports/new")


def _inline(*texts: str) -> str:
    return "".join(f'<c t="inlineStr"><is><t>{text}</t></is></c>' for text in texts)


def row_past_the_limit() -> bytes:
    return xlsx([f'<row r="1">{_inline("E-post")}</row><row r="200001">{_inline("a@b.se")}</row>'])


def row_before_the_one_above() -> bytes:
    rows = [(n, f"p{n}@alpha.se") for n in (1, 2, 4, 3)]
    return xlsx([f'<row r="{n}">{_inline(text)}</row>' for n, text in rows])


def blank_rows_past_the_limit() -> bytes:
    return b"E-post\r\n" + b"\r\n" * 200_000


def cells_past_the_limit() -> bytes:
    return b"E-post" + b";" * 49 + b"\r\n" + (b";" * 49 + b"\r\n") * 40_000


def unclosed_quote() -> bytes:
    return b'E-post;Namn\nanna@alpha.se;"Anna Ahl\nbo@alpha.se;Bo Berg\n'


def quote_running_on() -> bytes:
    return b'E-post;Namn\nanna@alpha.se;"Anna Ahl\n' + b"bo@alpha.se;Bo Berg\n" * 20_000


def billion_laughs() -> bytes:
    entities = '<!ENTITY a0 "lol">' + "".join(
        f'<!ENTITY a{n} "{f"&a{n - 1};" * 10}">' for n in range(1, 10)
    )
    sheet = (
        f'<?xml version="1.0"?><!DOCTYPE worksheet [{entities}]>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<sheetData><row r="1">{_inline("&a9;")}</row></sheetData></worksheet>'
    )
    return _with_part("xl/worksheets/sheet1.xml", sheet)


def external_entity() -> bytes:
    workbook = WORKBOOK.replace(
        "<workbook ", '<!DOCTYPE workbook [<!ENTITY x SYSTEM "file:///etc/passwd">]><workbook '
    ).replace('name="Blad1"', 'name="&x;"')
    return xlsx([f'<row r="1">{_inline("E-post")}</row>'], workbook=workbook)


def _with_part(name: str, text: str) -> bytes:
    """Return a small workbook with one of its parts replaced."""
    source = zipfile.ZipFile(io.BytesIO(xlsx([f'<row r="1">{_inline("E-post")}</row>'])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        for info in source.infolist():
            book.writestr(info.filename, text if info.filename == name else source.read(info))
    return out.getvalue()


def plain_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("lista.txt", "anna@alpha.se\n")
    return out.getvalue()


def truncated() -> bytes:
    content = xlsx([f'<row r="1">{_inline("E-post")}</row>', ("<row/>", 100_000)])
    return content[: len(content) // 2]


def corrupted() -> bytes:
    content = bytearray(xlsx([f'<row r="1">{_inline("E-post")}</row>', ("<row/>", 100_000)]))
    middle = content.index(b"xl/worksheets/sheet1.xml") + 200
    content[middle : middle + 64] = bytes(range(64))
    return bytes(content)


# name, file, builder, reason, where, the sentence a representative reads (Swedish by default)
HOSTILE: list[tuple[str, str, Callable[[], bytes], str, dict[str, int], str]] = [
    ("a row of 2,000,000 cells", "lista.xlsx", wide_row, "columns", {"row": 1, "column": 51},
     "Rad 1, kolumn AY: filen har fler kolumner än vad en import tar emot (högst 50)."),
    ("a 300 MB cell", "lista.xlsx", huge_cell, "cell", {"row": 1, "column": 1},
     "Rad 1, kolumn A: cellen är längre än vad en import tar emot (högst 1\xa0000 tecken)."),
    ("a 300 MB shared string", "lista.xlsx", huge_shared_string, "cell", {"row": 1, "column": 1},
     "Rad 1, kolumn A: cellen är längre än vad en import tar emot (högst 1\xa0000 tecken)."),
    ("a zip bomb of a sheet", "lista.xlsx", sheet_bomb, "unpacked", {},
     "Excel-filen blir för stor när den packas upp."),
    ("a row past the last", "lista.xlsx", row_past_the_limit, "rows", {"row": 200_001},
     "Rad 200\xa0001: filen har fler rader än vad en import tar emot (högst 200\xa0000)."),
    ("rows repeating a number", "lista.xlsx", repeated_row_number, "row_order",
     {"row": 2}, "Rad 2: bladet har samma rad två gånger, eller en rad efter en senare rad"),
    ("a row before the one above", "lista.xlsx", row_before_the_one_above, "row_order",
     {"row": 3}, "Rad 3: bladet har samma rad två gånger, eller en rad efter en senare rad"),
    ("a CSV with a 10 MB field", "lista.csv", long_field, "cell", {"row": 2, "column": 2},
     "Rad 2, kolumn B: cellen är längre än vad en import tar emot (högst 1\xa0000 tecken)."),
    ("a CSV with a million columns", "lista.csv", million_columns, "columns",
     {"row": 1, "column": 51},
     "Rad 1, kolumn AY: filen har fler kolumner än vad en import tar emot (högst 50)."),
    ("a CSV of blank rows past the last", "lista.csv", blank_rows_past_the_limit, "rows",
     {"row": 200_001}, "Rad 200\xa0001: filen har fler rader"),
    ("a CSV of too many cells", "lista.csv", cells_past_the_limit, "cells",
     {"row": 40_001, "column": 1},
     "Rad 40\xa0001, kolumn A: filen har fler celler än vad en import tar emot"),
    ("an unclosed quotation mark", "lista.csv", unclosed_quote, "unclosed_quote",
     {"row": 2, "column": 2},
     "Rad 2, kolumn B: ett citattecken inleder en cell som aldrig avslutas."),
    ("a quotation mark running on", "lista.csv", quote_running_on, "quote_runs_on",
     {"row": 2, "column": 2},
     "Rad 2, kolumn B: ett citattecken inleder en cell som fortsätter över flera rader"),
    ("billion laughs", "lista.xlsx", billion_laughs, "xml_forbidden", {},
     "Excel-filen innehåller XML-deklarationer som kalkylprogram aldrig skriver"),
    ("an external entity", "lista.xlsx", external_entity, "xml_forbidden", {},
     "Excel-filen innehåller XML-deklarationer som kalkylprogram aldrig skriver"),
    ("a zip that is not a workbook", "lista.xlsx", plain_zip, "not_xlsx", {},
     "Det här är ett zip-arkiv, inte en Excel-arbetsbok."),
    ("a truncated workbook", "lista.xlsx", truncated, "damaged", {},
     "Excel-filen gick inte att öppna; är den skadad?"),
    ("a corrupted workbook", "lista.xlsx", corrupted, "damaged", {},
     "Excel-filen gick inte att öppna; är den skadad?"),
]  # fmt: skip


def rep(app: Flask) -> FlaskClient:
    client = app.test_client()
    sign_in(client, "rep@alpha.se")
    return client


def upload(client: FlaskClient, target: PilotGroup, content: bytes, filename: str):  # type: ignore[no-untyped-def]
    return client.post(
        UPLOAD,
        data={
            "csrf_token": csrf_token(client, UPLOAD),
            "pilot_group": str(target.id),
            "file": (io.BytesIO(content), filename),
        },
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize(
    ("filename", "build", "reason", "where", "sentence"),
    [case[1:] for case in HOSTILE],
    ids=[case[0] for case in HOSTILE],
)
def test_a_hostile_upload_is_refused_with_the_limit_and_where_and_nothing_is_kept(
    app: Flask,
    session: Session,
    network: Network,
    caplog: pytest.LogCaptureFixture,
    filename: str,
    build: Callable[[], bytes],
    reason: str,
    where: dict[str, int],
    sentence: str,
) -> None:
    caplog.set_level(logging.INFO)
    with app.app_context():
        target = group(session, network)
        session.commit()
    client = rep(app)
    response = upload(client, target, build(), filename)
    assert response.status_code == 302
    importing.wait_for_readers()
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert sentence in page.get_data(as_text=True)
    session.expire_all()
    job = session.scalar(select(ParticipantImport))
    assert (job.state, job.error, job.counts) == (ImportState.FAILED, reason, where)
    assert job.content is None  # the file is not kept
    assert session.scalar(select(func.count()).select_from(ImportRow)) == 0
    assert session.scalar(select(func.count()).select_from(Participant)) == 0
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_reading_the_worst_hostile_files_costs_less_than_100_mb() -> None:
    """Each file is read in a fresh process, which measures its own peak memory (bench/)."""
    names = ["wide-row", "huge-shared-string", "long-field"]
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench/import_limits.py"), "--json", "--only", *names],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    results = {r["name"]: r for r in map(json.loads, done.stdout.splitlines())}
    assert sorted(results) == sorted(names)
    for result in results.values():
        assert result["state"] == "failed", result
        assert result["rise"] < 100 * 2**20, result
        assert result["rows_stored"] == 0, result


def test_an_upload_over_the_size_of_a_request_gets_a_sentence(
    app: Flask, session: Session, network: Network
) -> None:
    with app.app_context():
        target = group(session, network)
        session.commit()
    client = rep(app)
    too_large = b"E-post\n" + b"a" * (20 * 2**20)
    response = upload(client, target, too_large, "lista.csv")
    assert response.status_code == 413
    sentence = "Filen är större än vad en import tar emot (högst 20 MB)."
    assert sentence in response.get_data(as_text=True)
    # Where requests may be larger, an import still takes no more.
    app.config["MAX_CONTENT_LENGTH"] = 30 * 2**20
    response = upload(client, target, too_large, "lista.csv")
    assert response.status_code == 200 and sentence in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(ParticipantImport)) == 0


def test_excel_files_are_read_as_excel_shows_them(
    app: Flask, session: Session, network: Network
) -> None:
    """Shared and inline texts, rich text, numbers, booleans, missing references, left-out rows,
    and empty cells beyond the 50 columns (a sheet's used range wider than what is used)."""
    shared = [
        "<si><t>E-post</t></si>",
        "<si><r><t>Na</t></r><r><rPr><b/></rPr><t>mn</t></r></si>",
        '<si><t xml:space="preserve">anna@alpha.se </t><rPh><t>yomi</t></rPh></si>',
        "<si><t>Anna Ahl</t></si>",
    ]
    sheet = [
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c t="s"><v>1</v></c>'
        '<c r="C1" t="inlineStr"><is><t>Nummer</t></is></c><c r="ZZ1" s="1"/></row>',
        '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" t="s"><v>3</v></c>'
        '<c r="C2"><v>5678</v></c><c r="BZ2" t="inlineStr"><is><t> </t></is></c></row>',
        '<row r="5"><c r="A5" t="inlineStr"><is><t>bo@alpha.se</t></is></c>'
        '<c r="B5" t="str"><f>CONCAT("Bo", " Berg")</f><v>Bo Berg</v></c>'
        '<c r="C5" t="b"><v>1</v></c></row>',
    ]
    with app.app_context():
        job = read(session, group(session, network), xlsx(sheet, shared), "lista.xlsx")
    assert job.state is ImportState.READY, job.error
    rows = {r.row_number: (r.email, r.name) for r in session.scalars(select(ImportRow))}
    assert rows == {2: ("anna@alpha.se", "Anna Ahl"), 5: ("bo@alpha.se", "Bo Berg")}
    assert job.counts["blank"] == 2  # rows 3 and 4, which the sheet leaves out
    assert job.counts["columns"] == ["E-post", "Namn"]
    assert job.counts["ignored_columns"] == ["Nummer"]
    table = importing.read_table(xlsx(sheet, shared), "lista.xlsx")
    assert next(table.rows) == (2, ["anna@alpha.se ", "Anna Ahl", "5678"])


def test_a_csv_with_empty_columns_beyond_the_limit_is_read(
    app: Flask, session: Session, network: Network
) -> None:
    content = "E-post;Namn" + ";" * 70 + "\nanna@alpha.se;Anna Ahl" + ";" * 70 + "\n"
    with app.app_context():
        job = read(session, group(session, network), content.encode())
    assert job.state is ImportState.READY and job.counts["add"] == 1


def test_the_command_names_the_limit_and_where_and_refuses_a_file_too_large(
    app: Flask, session: Session, network: Network, runner, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        group(session, network)
        session.commit()
    wide = tmp_path / "bred.csv"
    wide.write_bytes(million_columns())
    args = ("--org", "alpha", "--group", "Alpha-gruppen")
    failed = runner.invoke("import-participants", str(wide), *args)
    assert failed.exit_code == 1
    assert (
        "bred.csv: Row 1, column AY: the file has more columns than an import takes (50 at most)."
        in failed.output
    )
    big = tmp_path / "stor.csv"
    big.write_bytes(b"E-post\n" + b"a" * (20 * 2**20))
    refused = runner.invoke("import-participants", str(big), *args)
    assert refused.exit_code == 1
    assert "stor.csv: The file is larger than an import takes (20 MB at most)." in refused.output
    assert session.scalar(select(func.count()).select_from(Participant)) == 0


def test_every_reason_has_a_sentence_in_both_languages(app: Flask) -> None:
    where = {"row": 200_001, "column": 51}
    with app.test_request_context():
        for reason in importing.FILE_ERRORS:
            for language in ("en", "sv"):
                with force_locale(language):
                    assert "%(" not in importing.describe(reason, where)


def test_an_upload_keeps_its_name_without_control_characters_and_within_the_column(
    app: Flask, session: Session, network: Network
) -> None:
    """PostgreSQL cannot store a NUL: a file named a<NUL>b.csv made the upload a 500 there."""
    with app.app_context():
        target = group(session, network)
        session.commit()
    client = rep(app)
    content = b"E-post\nanna@alpha.se\n"
    for name, kept in [
        ("a\x00b.csv", "a b.csv"),  # as in imported cells: a control character is a space
        ("lista\x1b[31m\x07 mars.csv", "lista [31m mars.csv"),
        ("\x00\x01", "file"),
        ("x" * 400 + ".csv", "x" * 251 + ".csv"),
    ]:
        response = upload(client, target, content, name)
        assert response.status_code == 302, name
        importing.wait_for_readers()
        session.expire_all()
        job = session.scalars(
            select(ParticipantImport).order_by(ParticipantImport.id.desc())
        ).first()
        assert (job.filename, job.state) == (kept, ImportState.READY), name
        assert kept in client.get(response.headers["Location"]).get_data(as_text=True)
