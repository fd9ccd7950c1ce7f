"""The XML parts of an .xlsx file, parsed as they stream in (see `xlsx` for the zip around them).

Every part is parsed by defusedxml's parser with one of the targets here: they share guards
against XML made to exhaust memory (deep nesting, thousands of distinct names, too many
elements), keep the table of shared texts compactly, and of the sheet only the row being read.
"""

from __future__ import annotations

import re
from array import array

from campaign.enrolment.importing.limits import (
    MAX_CELL,
    MAX_CELLS,
    MAX_COLUMNS,
    MAX_SHARED_TEXT,
    ImportFileError,
)

MAX_DEPTH = 64  # elements open at once; the parts of a workbook need about ten
MAX_NAMES = 1_000  # distinct element, attribute and namespace names in one part
MAX_ELEMENTS = 4 * MAX_CELLS  # in one part; a cell takes two or three (<c><v>, <c><is><t>)
_REFERENCE = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")


class Target:
    """What the parser targets of every part share: the guards against hostile XML."""

    def __init__(self) -> None:
        self.local: dict[str, str] = {}  # names seen -> their local part, '{ns}c' -> 'c'
        self.depth = self.elements = self.events = 0
        self.ready: list[tuple[int, list[str]]] = []  # rows read, for the sheet

    def _enter(self, tag: str, attrib: dict[str, str]) -> str:
        """Count an element's start against the guards; return its local name."""
        self._count_element()
        for key in attrib:
            if key not in self.local:
                self._name(key)
        return self.local.get(tag) or self._name(tag)

    def _count_element(self) -> None:
        """Count one more element, one level deeper; refuse too many of either."""
        self.events += 1
        self.elements += 1
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ImportFileError("damaged")
        if self.elements > MAX_ELEMENTS:
            raise ImportFileError("unpacked")

    def _leave(self, tag: str) -> str:
        """Count an element's end; return its local name."""
        self.events += 1
        self.depth -= 1
        return self.local[tag]

    def _name(self, name: str) -> str:
        """Remember a new name with its local part; refuse one name too many."""
        if len(self.local) >= MAX_NAMES:
            raise ImportFileError("damaged")
        self.local[name] = name.rpartition("}")[2]
        return self.local[name]

    def start_ns(self, prefix: str, uri: str) -> None:
        """Count a namespace declaration's prefix and URI as names."""
        self.events += 1
        self._name(f"xmlns:{prefix}")
        self._name(uri)

    def close(self) -> None:
        """Nothing is left to do at the end of a part."""


class SharedStrings:
    """The workbook's table of texts, kept compactly: UTF-8 in one buffer, and where each ends."""

    TOO_LONG = b"\xff"  # stands for a text longer than MAX_CELL; never UTF-8 on its own

    def __init__(self) -> None:
        self.data = bytearray()
        self.ends = array("I")

    def add(self, text: str | None) -> None:
        """Append a text (None: one too long for a cell); refuse a table too large."""
        self.data += self.TOO_LONG if text is None else text.encode()
        self.ends.append(len(self.data))
        if len(self.data) > MAX_SHARED_TEXT or len(self.ends) > MAX_CELLS:
            raise ImportFileError("unpacked")

    def get(self, index: int) -> str | None:
        """Return the text at the index, or None if it is longer than a cell may be."""
        if not 0 <= index < len(self.ends):
            raise ImportFileError("damaged")
        piece = self.data[self.ends[index - 1] if index else 0 : self.ends[index]]
        return None if piece == self.TOO_LONG else piece.decode()


class StringsTarget(Target):
    """Target for the shared strings part: <si> items of <t> texts, or of runs <r><t>."""

    def __init__(self, strings: SharedStrings) -> None:
        super().__init__()
        self.strings = strings
        self.parts: list[str] = []
        self.length = 0
        self.collecting = self.phonetic = False

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        """Begin an item, a text, or a phonetic reading (Japanese), which is not part of it."""
        name = self._enter(tag, attrib)
        if name == "si":
            self.parts, self.length = [], 0
        elif name == "t":
            self.collecting = not self.phonetic
        elif name == "rPh":
            self.phonetic = True

    def end(self, tag: str) -> None:
        """End a text, a phonetic reading, or an item (which is added to the table)."""
        name = self._leave(tag)
        if name == "t":
            self.collecting = False
        elif name == "rPh":
            self.phonetic = False
        elif name == "si":
            self.strings.add("".join(self.parts) if self.length <= MAX_CELL else None)

    def data(self, text: str) -> None:
        """Keep the text of an item, up to the length of a cell."""
        self.events += 1
        if self.collecting:
            self.length += len(text)
            if self.length <= MAX_CELL:
                self.parts.append(text)


class SheetTarget(Target):
    """Target for a worksheet part: rows of cells, each checked against the limits as it comes."""

    def __init__(self, strings: SharedStrings) -> None:
        super().__init__()
        self.strings = strings
        self.estimated_rows = 0
        self.row = self.column = self.count = self.length = 0
        self.cells: list[str] = []
        self.text: list[str] = []
        self.kind = ""
        self.collecting = self.in_cell = self.phonetic = False

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        """Begin a cell, its value or text, a row, a phonetic reading, or the dimension."""
        name = self._enter(tag, attrib)
        if name == "c":
            self._start_cell(attrib)
        elif name == "v" or (name == "t" and self.in_cell and not self.phonetic):
            self.collecting = True
        elif name == "row":
            self._start_row(attrib)
        elif name == "rPh":
            self.phonetic = True
        elif name == "dimension":  # e.g. ref="A1:D100001": for the progress bar only
            self.estimated_rows = _last_row(attrib.get("ref", ""))

    def _start_cell(self, attrib: dict[str, str]) -> None:
        """Begin a cell: its column (its reference's, else the next) and type; count it."""
        self.count += 1
        reference = attrib.get("r")
        self.column = _column(reference) if reference else self.column + 1
        if self.count > MAX_CELLS:
            raise ImportFileError("cells", self.row, self.column)
        self.kind, self.text, self.length, self.in_cell = attrib.get("t", "n"), [], 0, True

    def _start_row(self, attrib: dict[str, str]) -> None:
        """Begin a row: its number (its r attribute's, else the next), with no cells yet."""
        number = attrib.get("r")
        self.row = _number(number) if number else self.row + 1
        self.cells, self.column = [], 0

    def end(self, tag: str) -> None:
        """End a cell, its value or text, a row (which is then ready), or a phonetic reading."""
        name = self._leave(tag)
        if name == "c":
            self._cell()
        elif name in ("v", "t"):
            self.collecting = False
        elif name == "row":
            self.ready.append((self.row, self.cells))
        elif name == "rPh":
            self.phonetic = False

    def data(self, text: str) -> None:
        """Keep the text of a cell's value; refuse a cell longer than a cell may be."""
        self.events += 1
        if self.collecting:
            self.length += len(text)
            if self.length > MAX_CELL:
                raise ImportFileError("cell", self.row, self.column)
            self.text.append(text)

    def _cell(self) -> None:
        """End a cell: put its value, if it has one, in its column of the row."""
        self.in_cell = False
        value = self._value("".join(self.text))
        if not value.strip():
            return
        if self.column > MAX_COLUMNS:
            raise ImportFileError("columns", self.row, self.column)
        self._place(value)

    def _place(self, value: str) -> None:
        """Put a value in the cell's column of the row, the columns before it blank if new."""
        missing = self.column - len(self.cells)
        if missing > 0:
            self.cells.extend([""] * (missing - 1))
            self.cells.append(value)
        else:
            self.cells[self.column - 1] = value

    def _value(self, text: str) -> str:
        """Return a cell's value as text, as the spreadsheet shows it (numbers without '.0')."""
        if self.kind == "s":
            return self._shared(text)
        if self.kind == "b":
            return {"1": "True", "0": "False"}.get(text.strip(), text)
        if self.kind not in ("n", ""):  # inlineStr, str (a formula's text), e (an error), d
            return text
        return _number_text(text)

    def _shared(self, text: str) -> str:
        """Return the shared text a cell points to; refuse one longer than a cell may be."""
        value = self.strings.get(_number(text, allow_zero=True))
        if value is None:
            raise ImportFileError("cell", self.row, self.column)
        return value


def _last_row(ref: str) -> int:
    """Return the last row of a dimension such as A1:D100001 (0 if it names none)."""
    last = _REFERENCE.fullmatch(ref.rpartition(":")[2])
    return int(last[2]) if last else 0


def _number_text(text: str) -> str:
    """Return a number as a spreadsheet shows it (3.0 as 3); anything else as it is."""
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else str(number)


_COLUMNS: dict[str, int] = {}  # 'AY' -> 51, filled as letters are met (18,278 at most)


def _column(reference: str) -> int:
    """Return the column of a cell reference such as 'AY12'; raise ImportFileError if bad."""
    letters = reference.rstrip("0123456789")
    if letters not in _COLUMNS:
        _COLUMNS[letters] = _column_number(letters)
    return _COLUMNS[letters]


def _column_number(letters: str) -> int:
    """Return the number of a column's letters, 'AY' -> 51; raise ImportFileError if bad."""
    if not (
        0 < len(letters) <= 3 and letters.isascii() and letters.isalpha() and letters.isupper()
    ):
        raise ImportFileError("damaged")
    column = 0
    for letter in letters:
        column = column * 26 + ord(letter) - ord("A") + 1
    return column


def _number(text: str, allow_zero: bool = False) -> int:
    """Return a row number or a shared string's index; raise ImportFileError if it is not one."""
    if (
        not (text.isascii() and text.isdigit())
        or len(text) > 9
        or (int(text) == 0 and not allow_zero)
    ):
        raise ImportFileError("damaged")
    return int(text)
