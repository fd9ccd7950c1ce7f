"""How much an import reads at most, and the sentence a person reads when a file cannot be read.

The limits keep a hostile upload cheap: every file is read as a stream, row by row, and reading
stops at the first limit crossed, saying which limit and where. Ordinary files, even of many
thousands of people, stay far below them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import format_number
from flask_babel import lazy_gettext as _l

MAX_FILE_BYTES = 20 * 2**20  # the upload itself, as the web's MAX_CONTENT_LENGTH
MAX_ROWS = 200_000
MAX_COLUMNS = 50
MAX_CELL = 1_000  # characters in one cell
MAX_CELLS = 2_000_000  # cells in the file, empty ones included
# An XLSX file is a zip of XML parts: the sheet and its table of shared texts may each unpack to
# this much, and the texts kept from that table (each at most MAX_CELL long) to MAX_SHARED_TEXT.
MAX_UNPACKED = 512 * 2**20
MAX_SHARED_TEXT = 64 * 2**20

# Why a whole file could not be read: stored as the key (with where, if anywhere, in the
# import's counts), shown in the reader's language.
FILE_ERRORS = {
    "empty": _l("The file is empty."),
    "xls": _l("This is an old Excel file (.xls). Save it as .xlsx or as CSV and try again."),
    "binary": _l("This does not look like a CSV or Excel file."),
    "no_rows": _l("The file has no rows."),
    "damaged": _l("The Excel file could not be opened; is it damaged?"),
    "not_xlsx": _l(
        "This is a zip archive, not an Excel workbook. Save the list as .xlsx or as CSV and try"
        " again."
    ),
    "xml_forbidden": _l(
        "The Excel file contains XML declarations that spreadsheets never write, so it was not"
        " read. Save the list again from Excel and try again."
    ),
    "no_email_column": _l(
        "No column of e-mail addresses was found. The first row must name the columns,"
        " for example E-post and Namn."
    ),
    "interrupted": _l("The reading was interrupted. Please upload the file again."),
    "broken": _l("The file could not be read because of an error in the service."),
    # The limits, and the file's own mistakes that can be pointed at.
    "too_large": _l("The file is larger than an import takes (%(limit)s MB at most)."),
    "unpacked": _l(
        "The Excel file is too big once unpacked. Copy the list of people into a new workbook"
        " and try again."
    ),
    "rows": _l(
        "Row %(row)s: the file has more rows than an import takes (%(limit)s at most). Split it"
        " into smaller files."
    ),
    "row_order": _l(
        "Row %(row)s: the sheet has the same row twice, or a row after a later row, which"
        " spreadsheets never write. Save the list again from Excel and try again."
    ),
    "columns": _l(
        "Row %(row)s, column %(column)s: the file has more columns than an import takes"
        " (%(limit)s at most). Remove the columns that are not needed."
    ),
    "cell": _l(
        "Row %(row)s, column %(column)s: the cell is longer than an import takes"
        " (%(limit)s characters at most)."
    ),
    "cells": _l(
        "Row %(row)s, column %(column)s: the file has more cells than an import takes"
        " (%(limit)s at most). Remove the columns that are not needed or split the file."
    ),
    "unclosed_quote": _l(
        "Row %(row)s, column %(column)s: a quotation mark opens a cell that is never closed."
        " Check the quotation marks on that row."
    ),
    "quote_runs_on": _l(
        "Row %(row)s, column %(column)s: a quotation mark opens a cell that runs on over"
        " several lines for more than %(limit)s characters. Check the quotation marks on that"
        " row."
    ),
}
LIMITS = {
    "too_large": MAX_FILE_BYTES // 2**20,
    "rows": MAX_ROWS,
    "columns": MAX_COLUMNS,
    "cell": MAX_CELL,
    "cells": MAX_CELLS,
    "quote_runs_on": MAX_CELL,
}


class ImportFileError(Exception):
    """The file as a whole cannot be read; `reason` is a key of FILE_ERRORS.

    `row` and `column` (both counted from 1) say where, when the reason is about a place.
    """

    def __init__(self, reason: str, row: int | None = None, column: int | None = None) -> None:
        super().__init__(reason, row, column)
        self.reason, self.row, self.column = reason, row, column

    @property
    def where(self) -> dict[str, int]:
        """Return the place as it is stored with the failed import: {"row": 12, "column": 3}."""
        found = {"row": self.row, "column": self.column}
        return {key: value for key, value in found.items() if value is not None}


def column_letters(number: int) -> str:
    """Return a column's name as a spreadsheet shows it: 1 -> A, 27 -> AA, 51 -> AY."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def describe(reason: str, where: Mapping[str, Any] | None = None) -> str:
    """Return the sentence for a file that could not be read, in the current language."""
    where = where or {}
    text = str(FILE_ERRORS.get(reason, FILE_ERRORS["broken"]))
    return text % {
        "row": format_number(int(where.get("row") or 0)),
        "column": column_letters(int(where.get("column") or 0)),
        "limit": format_number(LIMITS.get(reason, 0)),
    }
