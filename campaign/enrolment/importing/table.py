"""A file as a table: which kind it is, which of its columns say what, and its rows.

Excel's CSV with semicolons or commas, UTF-8 with or without a byte-order mark, Windows-1252,
UTF-16 "Unicode text", and XLSX; header names in Swedish or English are recognised, and a file
without a header row is read by the column whose first cell holds an @.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zipfile import BadZipFile

from flask_babel import lazy_gettext as _l

log = logging.getLogger(__name__)

# Header names as people write them, lower-cased with everything but letters removed.
COLUMNS = {
    "email": {
        "epost", "epostadress", "email", "emailaddress", "emailadress", "mail", "mailadress",
        "mejl", "mejladress", "eadress", "emejl",
    },
    "name": {"namn", "name", "fullname", "fulltnamn", "fullstandigtnamn", "forochefternamn"},
    "first_name": {"fornamn", "firstname", "givenname", "tilltalsnamn"},
    "last_name": {"efternamn", "lastname", "surname", "familyname"},
    "title": {"titel", "title", "befattning", "yrkestitel", "jobtitle", "roll", "role"},
    "language": {"sprak", "language", "lang"},
}  # fmt: skip
_FOLD = str.maketrans("åäöéüÅÄÖÉÜ", "aaoeuaaoeu")

# Why a whole file could not be read: stored as the key, shown in the reader's language.
FILE_ERRORS = {
    "empty": _l("The file is empty."),
    "xls": _l("This is an old Excel file (.xls). Save it as .xlsx or as CSV and try again."),
    "binary": _l("This does not look like a CSV or Excel file."),
    "no_rows": _l("The file has no rows."),
    "damaged": _l("The Excel file could not be opened; is it damaged?"),
    "no_email_column": _l(
        "No column of e-mail addresses was found. The first row must name the columns,"
        " for example E-post and Namn."
    ),
    "interrupted": _l("The reading was interrupted. Please upload the file again."),
    "broken": _l("The file could not be read because of an error in the service."),
}


class ImportFileError(Exception):
    """The file as a whole cannot be read; `reason` is a key of FILE_ERRORS."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Table:
    """The rows of a file: its header, and (row number, cells) for each row after it."""

    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    estimated_rows: int
    columns: dict[str, int] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    used: list[str] = field(default_factory=list)  # the used columns' names, as written


def header_key(cell: str) -> str:
    """Return a header cell folded for matching: 'E-post ' -> 'epost', 'Förnamn' -> 'fornamn'."""
    return re.sub(r"[^a-z]", "", cell.strip().lower().translate(_FOLD))


def decode(content: bytes) -> str:
    """Return the text of a CSV file in whichever encoding Excel or a mail system wrote it."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16")):
        if content.startswith(bom):
            return content.decode(encoding)
    if content.startswith(codecs.BOM_UTF16_BE):
        return content.decode("utf-16")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        # Excel on Swedish Windows saves "CSV (semikolonavgränsad)" in Windows-1252.
        return content.decode("cp1252", errors="replace")


def delimiter_of(text: str) -> str:
    """Return the separator of the first non-blank line: semicolon, comma or tab."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    unquoted = re.sub(r'"[^"]*"', "", first)
    counts = {d: unquoted.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_table(content: bytes, filename: str) -> Table:
    """Open a CSV or XLSX file; raise ImportFileError if it is neither or has no address column."""
    if not content.strip():
        raise ImportFileError("empty")
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError("xls")
    if content.startswith(b"PK\x03\x04"):
        records, estimated = _xlsx_records(content)
    else:
        text = decode(content)
        if "\x00" in text:
            raise ImportFileError("binary")
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter_of(text))
        records, estimated = (list(r) for r in reader), text.count("\n") + 1
    numbered = enumerate(records, start=1)
    for number, cells in numbered:
        if any(c.strip() for c in cells):
            table = _with_columns(number, cells, numbered, estimated)
            return table
    raise ImportFileError("no_rows")


def _xlsx_records(content: bytes) -> tuple[Iterator[list[str]], int]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError) as error:
        log.info("unreadable xlsx: %s", error)
        raise ImportFileError("damaged") from None
    sheet = book.worksheets[0]

    def cells() -> Iterator[list[str]]:
        for row in sheet.iter_rows(values_only=True):
            yield [_cell_text(value) for value in row]
        book.close()

    return cells(), sheet.max_row or 0


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _with_columns(
    number: int, first: list[str], rest: Iterator[tuple[int, list[str]]], estimated: int
) -> Table:
    columns: dict[str, int] = {}
    ignored = []
    for index, cell in enumerate(first):
        key = header_key(cell)
        column = next((name for name, names in COLUMNS.items() if key in names), None)
        if column and column not in columns:
            columns[column] = index
        elif cell.strip():
            ignored.append(cell.strip())
    if "email" in columns:
        table = Table(first, rest, max(estimated - number, 0), columns, ignored)
        table.used = [first[i].strip() for i in sorted(columns.values())]
        return table
    # No header row: a file of addresses, perhaps with names beside them.
    at = [i for i, cell in enumerate(first) if "@" in cell]
    if not at:
        raise ImportFileError("no_email_column")
    columns = {"email": at[0]}
    others = [i for i, cell in enumerate(first) if i != at[0] and cell.strip()]
    if len(others) == 1:
        columns["name"] = others[0]

    def again() -> Iterator[tuple[int, list[str]]]:
        yield number, first
        yield from rest

    return Table([], again(), max(estimated - number + 1, 0), columns, [])
