"""Spreadsheet downloads (CSV and XLSX) that are safe to open in Excel.

A cell that starts with `=`, `+`, `-` or `@` (or a tab, carriage return or line feed) is a
formula to Excel and LibreOffice, and a participant chooses their own name: such cells get a
leading apostrophe, as OWASP recommends against CSV injection. So do cells where such a character
follows leading spaces, or is a full-width form (`＝`), which some spreadsheets trim or fold.
CSV is written the way Swedish Excel reads it without an import dialogue: UTF-8 with a
byte-order mark and semicolons.

Every cell of both goes through `cell`, which first removes what a spreadsheet cannot hold: XML
1.0, and so XLSX, has no place for control characters but tab and line breaks (openpyxl refuses
the whole workbook for one escape character in one name), and a CSV cell with them shows boxes.
Forms refuse such characters now, but older rows and other paths may still hold some.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

from flask import Response

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# What XML 1.0 cannot hold: C0 controls but tab, LF and CR; lone surrogates; U+FFFE and U+FFFF.
UNFIT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# What Excel does not allow in a sheet's name (openpyxl refuses it).
UNFIT_IN_SHEET_NAME = re.compile(r"[\\*?:/\[\]]")


def neutralise(value: Any) -> Any:
    """Return a cell value that no spreadsheet will run as a formula; numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    text = str(value)
    formula = text.startswith(FORMULA_STARTS) or text.lstrip().startswith(FORMULA_STARTS)
    return "'" + text if formula else text


def cell(value: Any) -> Any:
    """Return a value for a CSV or XLSX cell: what a spreadsheet cannot hold removed, then
    neutralised (in that order, so that a removed character cannot uncover a formula)."""
    if value is None or isinstance(value, bool | int | float | datetime | date):
        return neutralise(value)
    return neutralise(UNFIT.sub("", str(value)))


def sheet_name(name: str) -> str:
    """Return a name Excel takes for a sheet: 31 characters at most, none it refuses."""
    return UNFIT_IN_SHEET_NAME.sub("", UNFIT.sub("", name))[:31].strip() or "Sheet1"


def csv_bytes(
    header: Sequence[str], rows: Iterable[Sequence[Any]], locale: str | None = None
) -> bytes:
    """Return a CSV file for Excel: UTF-8 with BOM, semicolons, CRLF, every cell through `cell`,
    decimal numbers as `locale` writes them."""
    return b"".join(csv_chunks(header, rows, locale))


def csv_chunks(
    header: Sequence[str], rows: Iterable[Sequence[Any]], locale: str | None = None
) -> Iterator[bytes]:
    """Yield a CSV file for Excel a row at a time (the BOM first), as `csv_bytes` writes it;
    with a `locale`, decimal numbers are written its way (Swedish Excel reads 0,133, not 0.133)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    yield "\ufeff".encode()
    for row in itertools.chain([header], rows):
        writer.writerow([_decimal(cell(value), locale) for value in row])
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()


def _decimal(value: Any, locale: str | None) -> Any:
    """Return a decimal number as `locale` writes it (without grouping), anything else as is."""
    if locale is None or not isinstance(value, float):
        return value
    from babel.numbers import format_decimal

    return format_decimal(value, format="0.######", locale=locale)


def xlsx_bytes(sheet: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """Return an XLSX workbook of one sheet, every cell through `cell`: text, never a formula."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    worksheet = book.create_sheet(sheet_name(sheet))
    worksheet.append([_title(worksheet, title) for title in header])
    for row in rows:
        worksheet.append([cell(value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _title(worksheet: Any, title: str) -> Any:
    """Return a header cell: the title, through `cell`, in bold."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    written = WriteOnlyCell(worksheet, value=cell(title))
    written.font = Font(bold=True)
    return written


CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(
    fmt: str, filename: str, sheet: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> Response:
    """Answer with the rows as a CSV or XLSX attachment named `filename` plus the extension; a
    CSV writes decimal numbers the way the page's language does (0,133 in Swedish)."""
    from flask_babel import get_locale

    body, mimetype = _file(fmt, sheet, header, rows, str(get_locale() or "sv"))
    response = Response(body, content_type=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _file(
    fmt: str, sheet: str, header: Sequence[str], rows: Iterable[Sequence[Any]], locale: str
) -> tuple[bytes, str]:
    """Return the rows as an XLSX or (any other `fmt`) a CSV file, with its media type."""
    if fmt == "xlsx":
        return xlsx_bytes(sheet, header, rows), XLSX_TYPE
    return csv_bytes(header, rows, locale), CSV_TYPE
