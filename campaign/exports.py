"""Spreadsheet downloads (CSV and XLSX) that are safe to open in Excel.

A cell that starts with `=`, `+`, `-` or `@` (or a tab, carriage return or line feed) is a
formula to Excel and LibreOffice, and a participant chooses their own name: such cells get a
leading apostrophe, as OWASP recommends against CSV injection. So do cells where such a character
follows leading spaces, or is a full-width form (`＝`), which some spreadsheets trim or fold.
CSV is written the way Excel in the reader's language opens it without an import dialogue:
UTF-8 with a byte-order mark; in Swedish semicolons and decimal commas (0,133), in English
commas and decimal points. Times are written in the campaign's zone to the second
(2026-12-03 08:58:48), yes and no as words; enum values are labelled by the caller.

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
from datetime import date, datetime, tzinfo
from decimal import Decimal
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
    if isinstance(value, bool | int | float | Decimal):
        return value
    if isinstance(value, datetime | date):
        return (
            value.isoformat(sep=" ", timespec="seconds")
            if isinstance(value, datetime)
            else value.isoformat()
        )
    text = str(value)
    formula = text.startswith(FORMULA_STARTS) or text.lstrip().startswith(FORMULA_STARTS)
    return "'" + text if formula else text


def cell(value: Any) -> Any:
    """Return a value for a CSV or XLSX cell: what a spreadsheet cannot hold removed, then
    neutralised (in that order, so that a removed character cannot uncover a formula)."""
    if value is None or isinstance(value, bool | int | float | Decimal | datetime | date):
        return neutralise(value)
    return neutralise(UNFIT.sub("", str(value)))


def sheet_name(name: str) -> str:
    """Return a name Excel takes for a sheet: 31 characters at most, none it refuses."""
    return UNFIT_IN_SHEET_NAME.sub("", UNFIT.sub("", name))[:31].strip() or "Sheet1"


def csv_bytes(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    locale: str | None = None,
    zone: tzinfo | None = None,
) -> bytes:
    """Return a CSV file for Excel: UTF-8 with BOM, CRLF, every cell through `cell`; with a
    `locale`, its separators (Swedish: semicolons and decimal commas), times in `zone`."""
    return b"".join(csv_chunks(header, rows, locale, zone))


def csv_chunks(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    locale: str | None = None,
    zone: tzinfo | None = None,
) -> Iterator[bytes]:
    """Yield a CSV file for Excel a row at a time (the BOM first), as `csv_bytes` writes it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter(locale), lineterminator="\r\n")
    yield "\ufeff".encode()
    for row in itertools.chain([header], rows):
        writer.writerow([_decimal(cell(shown(value, zone)), locale) for value in row])
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()


def delimiter(locale: str | None) -> str:
    """Return the list separator Excel expects in `locale`: a semicolon where the decimal
    separator is a comma (Swedish), else a comma (English); a semicolon without a locale."""
    if locale is None:
        return ";"
    from babel.numbers import get_decimal_symbol

    return ";" if get_decimal_symbol(locale) == "," else ","


def shown(value: Any, zone: tzinfo | None) -> Any:
    """Return a value as a reader of the file sees it: a moment in `zone` to the second without
    its offset (as Excel reads it), yes or no in the page's language; anything else as is."""
    if isinstance(value, bool):
        from flask_babel import gettext as _

        return _("Yes") if value else _("No")
    if isinstance(value, datetime) and zone is not None:
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
    return value


def _decimal(value: Any, locale: str | None) -> Any:
    """Return a decimal number as `locale` writes it (without grouping), anything else as is."""
    if locale is None or not isinstance(value, float | Decimal):
        return value
    from babel.numbers import format_decimal

    return format_decimal(value, format="0.######", locale=locale)


def xlsx_bytes(
    sheet: str, header: Sequence[str], rows: Iterable[Sequence[Any]], zone: tzinfo | None = None
) -> bytes:
    """Return an XLSX workbook of one sheet, every cell through `cell`: text, never a formula;
    times in `zone`."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    worksheet = book.create_sheet(sheet_name(sheet))
    worksheet.append([_title(worksheet, title) for title in header])
    for row in rows:
        worksheet.append([cell(shown(value, zone)) for value in row])
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
    fmt: str,
    filename: str,
    sheet: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    language: str | None = None,
) -> Response:
    """Answer with the rows as a CSV or XLSX attachment named `filename` plus the extension; a
    CSV in the way of its `language` (else the page's: 0,133 and semicolons in Swedish), times
    in the campaign's zone (the one the page shows)."""
    from flask import has_request_context
    from flask_babel import get_locale

    from campaign.timing import shown_zone

    locale = language or str(get_locale() or "sv")
    zone = shown_zone() if has_request_context() else None
    body, mimetype = _file(fmt, sheet, header, rows, locale, zone)
    response = Response(body, content_type=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _file(
    fmt: str,
    sheet: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    locale: str,
    zone: tzinfo | None,
) -> tuple[bytes, str]:
    """Return the rows as an XLSX or (any other `fmt`) a CSV file, with its media type."""
    if fmt == "xlsx":
        return xlsx_bytes(sheet, header, rows, zone), XLSX_TYPE
    return csv_bytes(header, rows, locale, zone), CSV_TYPE
