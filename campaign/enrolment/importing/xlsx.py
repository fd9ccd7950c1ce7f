"""The first sheet of an Excel workbook (.xlsx), read as a stream within the import's limits.

An .xlsx file is a zip of XML parts. The zip's directory is measured before zipfile reads it,
each part's unpacked size is checked in that directory before anything is unpacked, and a part
is then unpacked and parsed in chunks by defusedxml's parser (no document type declarations, so
no entity expansion and no external references), with guards against XML made to exhaust
memory: deep nesting, thousands of distinct names, one token that never ends. The table of
shared texts is kept compactly; of the sheet only the row being read is kept.
"""

from __future__ import annotations

import io
import lzma
import posixpath
import re
import struct
import zlib
from array import array
from collections.abc import Iterator
from xml.etree.ElementTree import Element, ParseError
from zipfile import BadZipFile, ZipFile

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, fromstring

from campaign.enrolment.importing.limits import (
    MAX_CELL,
    MAX_CELLS,
    MAX_COLUMNS,
    MAX_SHARED_TEXT,
    MAX_UNPACKED,
    ImportFileError,
)

CHUNK = 64 * 1024  # unpacked bytes fed to the parser at a time
MAX_DIRECTORY = 2**20  # the zip's central directory: a workbook has a few dozen parts
MAX_SMALL_PART = 2**20  # the workbook and relationship parts, parsed whole
MAX_DEPTH = 64  # elements open at once; the parts of a workbook need about ten
MAX_NAMES = 1_000  # distinct element, attribute and namespace names in one part
MAX_QUIET = 2**20  # bytes fed without the parser reporting anything: a token that never ends
MAX_ELEMENTS = 4 * MAX_CELLS  # in one part; a cell takes two or three (<c><v>, <c><is><t>)
# What a broken zip or XML raises, from zipfile and the decompressors it uses.
_DAMAGED = (
    BadZipFile, EOFError, KeyError, NotImplementedError, OSError, ParseError, RuntimeError,
    ValueError, lzma.LZMAError, struct.error, zlib.error,
)  # fmt: skip
_REFERENCE = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")


class XlsxRows:
    """The rows of the workbook's first sheet: (row number, cells), empty rows included."""

    def __init__(self, content: bytes) -> None:
        self.content = content
        self.estimated_rows = 0  # from the sheet's dimension, known once the first row is read

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        try:
            yield from self._rows()
        except DefusedXmlException:
            raise ImportFileError("xml_forbidden") from None
        except _DAMAGED:
            raise ImportFileError("damaged") from None

    def _rows(self) -> Iterator[tuple[int, list[str]]]:
        book = ZipFile(io.BytesIO(_checked_directory(self.content)))
        sheet_part, strings_part = _parts(book)
        strings = SharedStrings()
        if strings_part:
            for _ in _parse(book, strings_part, _Strings(strings)):
                pass
        sheet = _Sheet(strings)
        previous = 0
        for number, cells in _parse(book, sheet_part, sheet):
            self.estimated_rows = sheet.estimated_rows
            for gap in range(previous + 1, number):  # rows the sheet leaves out are empty
                yield gap, []
            previous = max(previous, number)
            yield number, cells


def _checked_directory(content: bytes) -> bytes:
    """Return the content if its zip directory is of a workbook's size; zipfile reads it whole."""
    end = content.rfind(b"PK\x05\x06", max(0, len(content) - 22 - 65_535))
    if end < 0 or len(content) < end + 22:
        raise ImportFileError("damaged")
    size = int.from_bytes(content[end + 12 : end + 16], "little")
    locator = end - 20
    if locator >= 56 and content[locator : locator + 4] == b"PK\x06\x07":  # ZIP64
        record = locator - 56
        if content[record : record + 4] != b"PK\x06\x06":
            raise ImportFileError("damaged")
        size = int.from_bytes(content[record + 40 : record + 48], "little")
    if size > MAX_DIRECTORY:
        raise ImportFileError("damaged")
    return content


def _small(book: ZipFile, name: str) -> Element | None:
    """Return a small part (the workbook, relationships) parsed whole, or None if it is missing."""
    try:
        info = book.getinfo(name)
    except KeyError:
        return None
    if info.file_size > MAX_SMALL_PART:
        raise ImportFileError("unpacked")
    with book.open(info) as part:
        return fromstring(part.read(MAX_SMALL_PART + 1), forbid_dtd=True)


def _relationships(book: ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Return a part's relationships: id -> (type, e.g. 'worksheet'; the target part's name)."""
    folder, _, name = part.rpartition("/")
    rels = _small(book, posixpath.join(folder, "_rels", f"{name}.rels"))
    found = {}
    for rel in rels if rels is not None else ():
        target = rel.get("Target", "")
        path = target[1:] if target.startswith("/") else posixpath.join(folder, target)
        kind = rel.get("Type", "").rpartition("/")[2]
        found[rel.get("Id", "")] = (kind, posixpath.normpath(path))
    return found


def _parts(book: ZipFile) -> tuple[str, str]:
    """Return the names of the first worksheet's part and of the shared strings' part (or '')."""
    workbook = next((t for k, t in _relationships(book, "").values() if k == "officeDocument"), "")
    if not workbook or not _is_workbook(book, workbook):
        raise ImportFileError("not_xlsx")  # a zip, or a Word or PowerPoint file
    root = _small(book, workbook)
    if root is None:
        raise ImportFileError("damaged")
    rels = _relationships(book, workbook)
    strings = next((target for kind, target in rels.values() if kind == "sharedStrings"), "")
    for sheet in root.iter():
        if sheet.tag.rpartition("}")[2] != "sheet":
            continue
        rel_id = next((v for k, v in sheet.attrib.items() if k.endswith("}id")), "")
        kind, target = rels.get(rel_id, ("", ""))
        if kind == "worksheet":
            return target, strings
    raise ImportFileError("no_rows")


def _is_workbook(book: ZipFile, part: str) -> bool:
    """Whether the package's content types say the part is a workbook (with macros or not)."""
    types = _small(book, "[Content_Types].xml")
    kinds = [
        o.get("ContentType", "")
        for o in (types.iter() if types is not None else ())
        if o.get("PartName", "").lower() == f"/{part}".lower()
    ]
    return any("spreadsheetml" in kind or "ms-excel" in kind for kind in kinds)


class _Target:
    """What the parser targets of every part share: the guards against hostile XML."""

    def __init__(self) -> None:
        self.local: dict[str, str] = {}  # names seen -> their local part, '{ns}c' -> 'c'
        self.depth = self.elements = self.events = 0
        self.ready: list[tuple[int, list[str]]] = []  # rows read, for the sheet

    def _enter(self, tag: str, attrib: dict[str, str]) -> str:
        self.events += 1
        self.elements += 1
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ImportFileError("damaged")
        if self.elements > MAX_ELEMENTS:
            raise ImportFileError("unpacked")
        for key in attrib:
            if key not in self.local:
                self._name(key)
        return self.local.get(tag) or self._name(tag)

    def _leave(self, tag: str) -> str:
        self.events += 1
        self.depth -= 1
        return self.local[tag]

    def _name(self, name: str) -> str:
        if len(self.local) >= MAX_NAMES:
            raise ImportFileError("damaged")
        self.local[name] = name.rpartition("}")[2]
        return self.local[name]

    def start_ns(self, prefix: str, uri: str) -> None:
        self.events += 1
        self._name(f"xmlns:{prefix}")
        self._name(uri)

    def close(self) -> None:
        pass


def _parse(book: ZipFile, name: str, target: _Target) -> Iterator[tuple[int, list[str]]]:
    """Feed a part to the parser in chunks; yield the rows the target has read after each."""
    try:
        info = book.getinfo(name)
    except KeyError:
        raise ImportFileError("damaged") from None
    if info.file_size > MAX_UNPACKED:  # checked before anything is unpacked
        raise ImportFileError("unpacked")
    parser = DefusedXMLParser(target=target, forbid_dtd=True)
    parser.parser.buffer_size = CHUNK
    fed = quiet = 0
    with book.open(info) as part:
        while chunk := part.read(CHUNK):
            fed += len(chunk)
            if fed > MAX_UNPACKED:
                raise ImportFileError("unpacked")
            events = target.events
            parser.feed(chunk)
            quiet = quiet + len(chunk) if target.events == events else 0
            if quiet > MAX_QUIET:
                raise ImportFileError("damaged")
            if target.ready:
                yield from target.ready
                target.ready.clear()
    parser.close()
    yield from target.ready


class SharedStrings:
    """The workbook's table of texts, kept compactly: UTF-8 in one buffer, and where each ends."""

    TOO_LONG = b"\xff"  # stands for a text longer than MAX_CELL; never UTF-8 on its own

    def __init__(self) -> None:
        self.data = bytearray()
        self.ends = array("I")

    def add(self, text: str | None) -> None:
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


class _Strings(_Target):
    """Target for the shared strings part: <si> items of <t> texts, or of runs <r><t>."""

    def __init__(self, strings: SharedStrings) -> None:
        super().__init__()
        self.strings = strings
        self.parts: list[str] = []
        self.length = 0
        self.collecting = self.phonetic = False

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        name = self._enter(tag, attrib)
        if name == "si":
            self.parts, self.length = [], 0
        elif name == "t":
            self.collecting = not self.phonetic
        elif name == "rPh":  # a phonetic reading (Japanese), not part of the text
            self.phonetic = True

    def end(self, tag: str) -> None:
        name = self._leave(tag)
        if name == "t":
            self.collecting = False
        elif name == "rPh":
            self.phonetic = False
        elif name == "si":
            self.strings.add("".join(self.parts) if self.length <= MAX_CELL else None)

    def data(self, text: str) -> None:
        self.events += 1
        if self.collecting:
            self.length += len(text)
            if self.length <= MAX_CELL:
                self.parts.append(text)


class _Sheet(_Target):
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
        name = self._enter(tag, attrib)
        if name == "c":
            self.count += 1
            reference = attrib.get("r")
            self.column = _column(reference) if reference else self.column + 1
            if self.count > MAX_CELLS:
                raise ImportFileError("cells", self.row, self.column)
            self.kind, self.text, self.length, self.in_cell = attrib.get("t", "n"), [], 0, True
        elif name == "v" or (name == "t" and self.in_cell and not self.phonetic):
            self.collecting = True
        elif name == "row":
            number = attrib.get("r")
            self.row = _number(number) if number else self.row + 1
            self.cells, self.column = [], 0
        elif name == "rPh":
            self.phonetic = True
        elif name == "dimension":  # e.g. ref="A1:D100001": for the progress bar only
            last = _REFERENCE.fullmatch(attrib.get("ref", "").rpartition(":")[2])
            self.estimated_rows = int(last[2]) if last else 0

    def end(self, tag: str) -> None:
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
        self.events += 1
        if self.collecting:
            self.length += len(text)
            if self.length > MAX_CELL:
                raise ImportFileError("cell", self.row, self.column)
            self.text.append(text)

    def _cell(self) -> None:
        self.in_cell = False
        value = self._value("".join(self.text))
        if not value.strip():
            return
        if self.column > MAX_COLUMNS:
            raise ImportFileError("columns", self.row, self.column)
        missing = self.column - len(self.cells)
        if missing > 0:
            self.cells.extend([""] * (missing - 1))
            self.cells.append(value)
        else:
            self.cells[self.column - 1] = value

    def _value(self, text: str) -> str:
        """Return a cell's value as text, as the spreadsheet shows it (numbers without '.0')."""
        if self.kind == "s":
            value = self.strings.get(_number(text, allow_zero=True))
            if value is None:
                raise ImportFileError("cell", self.row, self.column)
            return value
        if self.kind == "b":
            return {"1": "True", "0": "False"}.get(text.strip(), text)
        if self.kind not in ("n", ""):  # inlineStr, str (a formula's text), e (an error), d
            return text
        try:
            number = float(text)
        except ValueError:
            return text
        return str(int(number)) if number.is_integer() else str(number)


_COLUMNS: dict[str, int] = {}  # 'AY' -> 51, filled as letters are met (18,278 at most)


def _column(reference: str) -> int:
    """Return the column of a cell reference such as 'AY12'; raise ImportFileError if bad."""
    letters = reference.rstrip("0123456789")
    column = _COLUMNS.get(letters)
    if column is None:
        if not (
            0 < len(letters) <= 3 and letters.isascii() and letters.isalpha() and letters.isupper()
        ):
            raise ImportFileError("damaged")
        column = 0
        for letter in letters:
            column = column * 26 + ord(letter) - ord("A") + 1
        _COLUMNS[letters] = column
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
