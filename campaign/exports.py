"""Spreadsheet downloads (CSV and XLSX) that are safe to open in Excel.

A cell that starts with `=`, `+`, `-` or `@` (or a tab, carriage return or line feed) is a
formula to Excel and LibreOffice, and a participant chooses their own name: such cells get a
leading apostrophe, as OWASP recommends against CSV injection. So do cells where such a character
follows leading spaces, or is a full-width form (`＝`), which some spreadsheets trim or fold.
CSV is written the way Swedish Excel reads it without an import dialogue: UTF-8 with a
byte-order mark and semicolons.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from flask import Response

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


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


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """Return a CSV file for Excel: UTF-8 with BOM, semicolons, CRLF, every cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(sheet: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """Return an XLSX workbook of one sheet, every text cell stored as text, not formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    worksheet = book.create_sheet(sheet[:31])
    bold = Font(bold=True)
    cells = []
    for title in header:
        cell = WriteOnlyCell(worksheet, value=neutralise(title))
        cell.font = bold
        cells.append(cell)
    worksheet.append(cells)
    for row in rows:
        worksheet.append([neutralise(value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(
    fmt: str, filename: str, sheet: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> Response:
    """Answer with the rows as a CSV or XLSX attachment named `filename` plus the extension."""
    if fmt == "xlsx":
        body, mimetype = xlsx_bytes(sheet, header, rows), XLSX_TYPE
    else:
        body, mimetype = csv_bytes(header, rows), CSV_TYPE
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    response.headers["Cache-Control"] = "no-store"
    return response
