"""The first sheet of an Excel workbook (.xlsx), read as a stream within the import's limits.

An .xlsx file is a zip of XML parts. The zip's directory is measured before zipfile reads it,
each part's unpacked size is checked in that directory before anything is unpacked, and a part
is then unpacked and parsed in chunks by defusedxml's parser (no document type declarations, so
no entity expansion and no external references), with guards against XML made to exhaust
memory: deep nesting, thousands of distinct names, one token that never ends (the parser
targets, in `xlsx_xml`). The table of shared texts is kept compactly; of the sheet only the row
being read is kept.
"""

from __future__ import annotations

import io
import lzma
import posixpath
import struct
import zlib
from collections.abc import Iterator
from typing import IO
from xml.etree.ElementTree import Element, ParseError
from zipfile import BadZipFile, ZipFile, ZipInfo

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, fromstring

from campaign.enrolment.importing.limits import MAX_UNPACKED, ImportFileError
from campaign.enrolment.importing.xlsx_xml import (
    SharedStrings,
    SheetTarget,
    StringsTarget,
    Target,
)

CHUNK = 64 * 1024  # unpacked bytes fed to the parser at a time
MAX_DIRECTORY = 2**20  # the zip's central directory: a workbook has a few dozen parts
MAX_SMALL_PART = 2**20  # the workbook and relationship parts, parsed whole
MAX_QUIET = 2**20  # bytes fed without the parser reporting anything: a token that never ends
# What a broken zip or XML raises, from zipfile and the decompressors it uses.
_DAMAGED = (
    BadZipFile, EOFError, KeyError, NotImplementedError, OSError, ParseError, RuntimeError,
    ValueError, lzma.LZMAError, struct.error, zlib.error,
)  # fmt: skip


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
        """Yield the sheet's rows, the ones it leaves out as empty rows."""
        book = ZipFile(io.BytesIO(_checked_directory(self.content)))
        sheet_part, strings_part = _parts(book)
        sheet = SheetTarget(_shared_strings(book, strings_part))
        previous = 0
        for number, cells in _parse(book, sheet_part, sheet):
            self.estimated_rows = sheet.estimated_rows
            for gap in range(previous + 1, number):  # rows the sheet leaves out are empty
                yield gap, []
            previous = max(previous, number)
            yield number, cells


def _shared_strings(book: ZipFile, part: str) -> SharedStrings:
    """Read the workbook's table of texts (empty when it has none)."""
    strings = SharedStrings()
    if part:
        for _ in _parse(book, part, StringsTarget(strings)):
            pass
    return strings


def _checked_directory(content: bytes) -> bytes:
    """Return the content if its zip directory is of a workbook's size; zipfile reads it whole."""
    end = content.rfind(b"PK\x05\x06", max(0, len(content) - 22 - 65_535))
    if end < 0 or len(content) < end + 22:
        raise ImportFileError("damaged")
    if _directory_size(content, end) > MAX_DIRECTORY:
        raise ImportFileError("damaged")
    return content


def _directory_size(content: bytes, end: int) -> int:
    """Return the size of the zip's directory, from its end record at `end` (or the ZIP64 one)."""
    size = int.from_bytes(content[end + 12 : end + 16], "little")
    locator = end - 20
    if locator >= 56 and content[locator : locator + 4] == b"PK\x06\x07":  # ZIP64
        record = locator - 56
        if content[record : record + 4] != b"PK\x06\x06":
            raise ImportFileError("damaged")
        size = int.from_bytes(content[record + 40 : record + 48], "little")
    return size


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
    workbook = _workbook_part(book)
    root = _small(book, workbook)
    if root is None:
        raise ImportFileError("damaged")
    rels = _relationships(book, workbook)
    strings = next((target for kind, target in rels.values() if kind == "sharedStrings"), "")
    return _first_sheet(root, rels), strings


def _workbook_part(book: ZipFile) -> str:
    """Return the name of the workbook's part; refuse a zip that holds none (a Word file, say)."""
    workbook = next((t for k, t in _relationships(book, "").values() if k == "officeDocument"), "")
    if not workbook or not _is_workbook(book, workbook):
        raise ImportFileError("not_xlsx")  # a zip, or a Word or PowerPoint file
    return workbook


def _first_sheet(root: Element, rels: dict[str, tuple[str, str]]) -> str:
    """Return the part of the workbook's first worksheet; refuse a workbook without one."""
    for sheet in root.iter():
        if sheet.tag.rpartition("}")[2] != "sheet":
            continue
        rel_id = next((v for k, v in sheet.attrib.items() if k.endswith("}id")), "")
        kind, target = rels.get(rel_id, ("", ""))
        if kind == "worksheet":
            return target
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


def _parse(book: ZipFile, name: str, target: Target) -> Iterator[tuple[int, list[str]]]:
    """Feed a part to the parser in chunks; yield the rows the target has read after each."""
    parser = DefusedXMLParser(target=target, forbid_dtd=True)
    parser.parser.buffer_size = CHUNK
    with book.open(_part_info(book, name)) as part:
        for _ in _fed(parser, part, target):
            if target.ready:
                yield from target.ready
                target.ready.clear()
    parser.close()
    yield from target.ready


def _part_info(book: ZipFile, name: str) -> ZipInfo:
    """Return a part's entry in the zip's directory; refuse a missing part, and one that would
    unpack too large (checked before anything is unpacked)."""
    try:
        info = book.getinfo(name)
    except KeyError:
        raise ImportFileError("damaged") from None
    if info.file_size > MAX_UNPACKED:
        raise ImportFileError("unpacked")
    return info


def _fed(parser: DefusedXMLParser, part: IO[bytes], target: Target) -> Iterator[None]:
    """Feed the part to the parser a chunk at a time, pausing after each; refuse a part that
    unpacks larger than it said, or a token that never ends."""
    fed = quiet = 0
    while chunk := part.read(CHUNK):
        fed += len(chunk)
        if fed > MAX_UNPACKED:
            raise ImportFileError("unpacked")
        events = target.events
        parser.feed(chunk)
        quiet = quiet + len(chunk) if target.events == events else 0
        if quiet > MAX_QUIET:
            raise ImportFileError("damaged")
        yield
