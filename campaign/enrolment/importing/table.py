"""A file as a table: which kind it is, which of its columns say what, and its rows as a stream.

Header names in Swedish or English are recognised; a file without a header row is read by the
column whose first cell holds an @.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from campaign.enrolment.importing.csvfile import CsvRows
from campaign.enrolment.importing.limits import MAX_FILE_BYTES, MAX_ROWS, ImportFileError
from campaign.enrolment.importing.xlsx import XlsxRows

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
_BLANK = re.compile(rb"\s*\Z")


class Rows(Protocol):
    """The rows of a file as read: (row number, cells), raising ImportFileError at a limit."""

    estimated_rows: int

    def __iter__(self) -> Iterator[tuple[int, list[str]]]: ...


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


def read_table(content: bytes, filename: str) -> Table:
    """Open a CSV or XLSX file; raise ImportFileError if it is neither or has no address column.

    The rows are read as the table is iterated; a limit crossed on the way raises
    ImportFileError then.
    """
    _refuse_unreadable(content)
    source: Rows = XlsxRows(content) if content.startswith(b"PK\x03\x04") else CsvRows(content)
    rows = counted(source)
    for number, cells in rows:
        if any(c.strip() for c in cells):
            return _with_columns(number, cells, rows, source.estimated_rows)
    raise ImportFileError("no_rows")


def _refuse_unreadable(content: bytes) -> None:
    """Refuse a file too large, an empty one, and an old Excel file (.xls), before reading."""
    if len(content) > MAX_FILE_BYTES:
        raise ImportFileError("too_large")
    if _BLANK.match(content):
        raise ImportFileError("empty")
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError("xls")


def counted(rows: Iterable[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str]]]:
    """Yield the rows of a file of either kind, counting them: the one place of the row limit.

    A row whose number is not after the one before (an XLSX row that says it is row 2 again)
    is refused: spreadsheets never write one, and each row's number must say which row it is.
    """
    previous = 0
    for read, (number, cells) in enumerate(rows, start=1):
        if number <= previous:
            raise ImportFileError("row_order", number)
        if read > MAX_ROWS:
            raise ImportFileError("rows", number)
        previous = number
        yield number, cells


def _with_columns(
    number: int, first: list[str], rest: Iterator[tuple[int, list[str]]], estimated: int
) -> Table:
    """Return the table whose first non-blank row is `first`: its header, if it names an
    address column."""
    columns, ignored = _named_columns(first)
    if "email" not in columns:
        return _without_header(number, first, rest, estimated)
    table = Table(first, rest, max(estimated - number, 0), columns, ignored)
    table.used = [first[i].strip() for i in sorted(columns.values())]
    return table


def _named_columns(header: list[str]) -> tuple[dict[str, int], list[str]]:
    """Return the columns the header names (the first of each), and the names not known."""
    columns: dict[str, int] = {}
    ignored = []
    for index, cell in enumerate(header):
        column = _column_named(cell)
        if column and column not in columns:
            columns[column] = index
        elif cell.strip():
            ignored.append(cell.strip())
    return columns, ignored


def _column_named(cell: str) -> str | None:
    """Return which column a header cell names ('E-post' -> 'email'), or None."""
    key = header_key(cell)
    return next((name for name, names in COLUMNS.items() if key in names), None)


def _without_header(
    number: int, first: list[str], rest: Iterator[tuple[int, list[str]]], estimated: int
) -> Table:
    """Return a file of addresses with no header row, perhaps with names beside them: the
    first cell with an @ is the address, a single other filled cell the name."""
    at = [i for i, cell in enumerate(first) if "@" in cell]
    if not at:
        raise ImportFileError("no_email_column")
    columns = {"email": at[0]}
    others = [i for i, cell in enumerate(first) if i != at[0] and cell.strip()]
    if len(others) == 1:
        columns["name"] = others[0]
    return Table([], _again(number, first, rest), max(estimated - number + 1, 0), columns, [])


def _again(
    number: int, first: list[str], rest: Iterable[tuple[int, list[str]]]
) -> Iterator[tuple[int, list[str]]]:
    """Yield the first row again, then the rest."""
    yield number, first
    yield from rest
