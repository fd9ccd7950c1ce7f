"""Spreadsheet cells, one by one: no cell runs as a formula, numbers stay numbers, and what a
spreadsheet cannot hold is removed first. No app and no database: the functions alone."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import openpyxl
import pytest

from campaign.exports import CSV_TYPE, XLSX_TYPE, cell, csv_bytes, download, sheet_name, xlsx_bytes


@pytest.mark.parametrize(
    "text",
    [
        "=1+1",
        "+46 31 123 45",
        "-5",
        "@SUM(A1)",
        "\tx",
        "\rx",
        "\nx",
        "  =cmd|' /C calc'!A0",
        "\u3000=1",  # an ideographic space first
        "\uff1d1+1",  # full-width equals
        "\uff0b1",
        "\uff0d1",
        "\uff20x",
    ],
)
def test_text_that_a_spreadsheet_could_run_gets_an_apostrophe(text: str) -> None:
    assert cell(text) == "'" + text


@pytest.mark.parametrize("text", ["Åsa Öberg", "a=b", "1+1", "e-post", "", "'=already"])
def test_other_text_is_left_as_it_is(text: str) -> None:
    assert cell(text) == text


@pytest.mark.parametrize("number", [0, -5, 3.25, -0.5, 10**12, True, False])
def test_numbers_and_booleans_stay_what_they_are(number: object) -> None:
    assert cell(number) is number


def test_nothing_is_an_empty_cell() -> None:
    assert cell(None) == ""


def test_days_and_moments_are_written_in_iso_8601() -> None:
    assert cell(date(2014, 3, 3)) == "2014-03-03"
    assert cell(datetime(2014, 3, 3, 9, 5, tzinfo=UTC)) == "2014-03-03 09:05:00+00:00"


@pytest.mark.parametrize(
    ("stored", "written"),
    [
        ("Åsa\x1b Öberg", "Åsa Öberg"),
        ("a\x00b\x07c\x0bd\x0ce", "abcde"),
        ("lone \ud800 surrogate", "lone  surrogate"),
        ("not a character \ufffe\uffff", "not a character "),
        ("rad ett\r\nrad två\tmed tab", "rad ett\r\nrad två\tmed tab"),
    ],
)
def test_what_xml_cannot_hold_is_removed(stored: str, written: str) -> None:
    assert cell(stored) == written


@pytest.mark.parametrize("hidden", ["\x1b=cmd", "\x00+1", "\x07\x08@x", "\x01 -1"])
def test_a_removed_character_cannot_uncover_a_formula(hidden: str) -> None:
    written = cell(hidden)
    assert written.startswith("'") and "\x00" not in written and "\x1b" not in written


def test_other_values_are_written_as_their_text() -> None:
    assert cell(type("Org", (), {"__str__": lambda self: "=Org"})()) == "'=Org"


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        ("kampanj", "kampanj"),
        ("a/b\\c*d?e:f[g]h", "abcdefgh"),
        ("x" * 40, "x" * 31),
        ("Västra\x1b Götaland", "Västra Götaland"),
        ("[]:*?/\\", "Sheet1"),
        ("", "Sheet1"),
        ("   ", "Sheet1"),
    ],
)
def test_a_sheet_name_is_one_excel_takes(name: str, kept: str) -> None:
    assert sheet_name(name) == kept


def test_csv_is_utf8_with_bom_semicolons_and_crlf() -> None:
    body = csv_bytes(["Namn", "Antal"], [["Åsa; Öberg", 3], ["=evil", None]])
    assert body.startswith(b"\xef\xbb\xbf")
    assert body.decode("utf-8-sig") == 'Namn;Antal\r\n"Åsa; Öberg";3\r\n\'=evil;\r\n'


def test_csv_headers_are_cells_too() -> None:
    body = csv_bytes(["=Namn"], [])
    assert list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";")) == [["'=Namn"]]


def read_back(body: bytes) -> openpyxl.worksheet.worksheet.Worksheet:
    return openpyxl.load_workbook(io.BytesIO(body)).active


def test_xlsx_keeps_text_as_text_and_numbers_as_numbers() -> None:
    sheet = read_back(xlsx_bytes("Medlemmar", ["Namn", "Antal"], [["=1+1", 3], ["Åsa\x1b", 2.5]]))
    assert sheet.title == "Medlemmar"
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["Namn", "Antal"],
        ["'=1+1", 3],
        ["Åsa", 2.5],
    ]
    assert sheet.cell(2, 1).data_type == "s" and sheet.cell(2, 2).data_type == "n"


def test_xlsx_headers_are_bold_and_the_sheet_name_is_cleaned() -> None:
    sheet = read_back(xlsx_bytes("a/b:" + "c" * 40, ["Namn"], [["x"]]))
    assert sheet.cell(1, 1).font.b is True and sheet.cell(2, 1).font.b is not True
    assert sheet.title == "ab" + "c" * 29


def test_a_download_is_an_attachment_never_cached() -> None:
    answer = download("csv", "kampanj-sv", "kampanj", ["Namn"], [["Åsa"]])
    assert answer.mimetype == "text/csv"
    assert answer.headers["Content-Disposition"] == 'attachment; filename="kampanj-sv.csv"'
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.get_data().decode("utf-8-sig") == "Namn\r\nÅsa\r\n"


def test_a_csv_download_names_its_charset_once() -> None:
    answer = download("csv", "kampanj-sv", "kampanj", ["Namn"], [["Åsa"]])
    assert answer.headers["Content-Type"] == CSV_TYPE


def test_an_xlsx_download_is_a_workbook() -> None:
    answer = download("xlsx", "kampanj-en", "kampanj", ["Namn"], [["Åsa"]])
    assert answer.mimetype == XLSX_TYPE
    assert answer.headers["Content-Disposition"] == 'attachment; filename="kampanj-en.xlsx"'
    assert read_back(answer.get_data()).cell(2, 1).value == "Åsa"
