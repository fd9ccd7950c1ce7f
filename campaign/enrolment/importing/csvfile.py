"""CSV as Excel and mail systems write it, read as a stream within the import's limits.

Excel's "CSV (semikolonavgränsad)" on Swedish Windows, UTF-8 with or without a byte-order mark,
Windows-1252, UTF-16 "Unicode text" with tabs, quoted fields. The text is decoded in chunks and
handed to the csv module line by line, never more than one row's worth at a time: a row longer
than any row within the limits can be is cut off and searched for the limit it crosses.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator

from campaign.enrolment.importing.limits import (
    MAX_CELL,
    MAX_CELLS,
    MAX_COLUMNS,
    ImportFileError,
)

# The longest row within the limits: every cell full, quoted, and made of doubled quotes.
MAX_ROW_TEXT = MAX_COLUMNS * (2 * MAX_CELL + 3) + 2
SAMPLE = 64 * 1024  # bytes looked at to find the separator
CHUNK = 2**20


def encoding_of(content: bytes) -> str:
    """Return the encoding Excel or a mail system wrote the file in."""
    for bom, encoding in _BYTE_ORDER_MARKS:
        if content.startswith(bom):
            return encoding
    # Excel on Swedish Windows saves "CSV (semikolonavgränsad)" in Windows-1252.
    return "utf-8" if _is_utf8(content) else "cp1252"


_BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _is_utf8(content: bytes) -> bool:
    """Whether the content decodes as UTF-8, checked in chunks: no copy of the whole."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for start in range(0, len(content), CHUNK):
            decoder.decode(content[start : start + CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def delimiter_of(text: str) -> str:
    """Return the separator of the first non-blank line: semicolon, comma or tab."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    unquoted = re.sub(r'"[^"]*"', "", first)
    counts = {d: unquoted.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


class CsvRows:
    """The rows of a CSV file: (row number, cells), blank rows included."""

    def __init__(self, content: bytes) -> None:
        self.encoding = encoding_of(content)
        sample = content[:SAMPLE].decode(self.encoding, errors="replace")
        if "\x00" in sample:
            raise ImportFileError("binary")
        self.delimiter = delimiter_of(sample)
        self.content = content
        self.estimated_rows = content.count(b"\n") + 1

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        stream = io.TextIOWrapper(
            io.BytesIO(self.content), encoding=self.encoding, errors="replace", newline=""
        )
        lines = _Lines(stream)
        reader = csv.reader(lines, delimiter=self.delimiter)
        number = read = 0
        while (cells := self._next_row(reader, lines, number + 1, read)) is not None:
            number += 1
            if lines.ended_inside:
                raise ImportFileError("unclosed_quote", number, len(cells))
            yield number, _within_limits(number, cells, read)
            read += len(cells)

    def _next_row(
        self, reader: Iterator[list[str]], lines: _Lines, number: int, read: int
    ) -> list[str] | None:
        """Return the cells of row `number`, None after the last; raise ImportFileError for a
        row too long to be within the limits, or one the csv module refuses."""
        lines.start_row()
        try:
            return next(reader)
        except StopIteration:
            return None
        except _TooLong:
            raise _limit_in("".join(lines.row), self.delimiter, number, read) from None
        except csv.Error:  # whatever else the csv module refuses
            raise ImportFileError("binary") from None


class _TooLong(Exception):
    """A row is longer than any row within the limits can be."""


class _Lines:
    """The lines of a text stream for csv.reader, each read only as far as a row may reach."""

    def __init__(self, stream: io.TextIOWrapper) -> None:
        self.readline = stream.readline
        self.row: list[str] = []  # the lines of the row being read
        self.left = MAX_ROW_TEXT  # characters the row may still take
        self.ended_inside = False  # the text ended inside a row: a quotation mark left open

    def start_row(self) -> None:
        """Begin a new row: forget the lines of the last one, and give it the whole length."""
        self.row.clear()
        self.left = MAX_ROW_TEXT

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self.readline(self.left + 1)
        if not line:
            self.ended_inside = bool(self.row)
            raise StopIteration
        if "\x00" in line:
            raise ImportFileError("binary")
        self.row.append(line)
        self.left -= len(line)
        if self.left < 0:
            raise _TooLong
        return line


def _within_limits(number: int, cells: list[str], read: int) -> list[str]:
    """Return the row's cells; raise ImportFileError at the first limit the row crosses."""
    if (
        len(cells) <= MAX_COLUMNS
        and read + len(cells) <= MAX_CELLS
        and (not cells or max(map(len, cells)) <= MAX_CELL)
    ):
        return cells  # nearly every row: the checks below, done at C speed
    _refuse_crossed_limit(number, cells, read)
    return cells[:MAX_COLUMNS]  # the rest is empty: a spreadsheet's used range, wider than used


def _refuse_crossed_limit(number: int, cells: list[str], read: int) -> None:
    """Raise ImportFileError at the first cell of the row that crosses a limit, if one does."""
    for column, cell in enumerate(cells, start=1):
        if read + column > MAX_CELLS:
            raise ImportFileError("cells", number, column)
        if len(cell) > MAX_CELL:
            raise ImportFileError("cell", number, column)
        if column > MAX_COLUMNS and cell.strip():
            raise ImportFileError("columns", number, column)


def _limit_in(text: str, delimiter: str, number: int, read: int) -> ImportFileError:
    """Return the first limit crossed by the start of a row too long to be within them."""
    column, length, quoted, broken = 1, 0, False, False
    for char in text:
        if char == '"':
            quoted = not quoted
            continue
        if char == delimiter and not quoted:
            column, length, broken = column + 1, 0, False
            if read + column > MAX_CELLS:
                return ImportFileError("cells", number, column)
            continue
        broken |= quoted and char in "\r\n"
        length += 1
        if length > MAX_CELL:
            return ImportFileError("quote_runs_on" if broken else "cell", number, column)
        if column > MAX_COLUMNS and not char.isspace():
            return ImportFileError("columns", number, column)
    return ImportFileError("columns", number, MAX_COLUMNS + 1)  # thousands of empty cells
