"""Spreadsheets for the import tests and benchmarks: hostile ones, and normal big ones.

Built in memory in a second or less each, however large they unpack to: a workbook is laid out
as Excel lays it out, and a piece of XML repeated a million times is compressed only once.
"""

from __future__ import annotations

import csv
import io
import struct
import zlib
from collections.abc import Iterable, Iterator

MB = 1_000_000
CHUNK = 1 << 20

_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_PACKAGE = "http://schemas.openxmlformats.org/package/2006"
_RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_CONTENT_TYPES = (
    f'{_XML}<Types xmlns="{_PACKAGE}/content-types">'
    '<Default Extension="rels"'
    ' ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_TYPE}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_TYPE}.worksheet+xml"/>'
    f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_TYPE}.sharedStrings+xml"/>'
    "</Types>"
)  # fmt: skip
_ROOT_RELS = (
    f'{_XML}<Relationships xmlns="{_PACKAGE}/relationships">'
    f'<Relationship Id="rId1" Type="{_RELATIONSHIPS}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_RELATIONSHIPS}">'
    '<sheets><sheet name="Blad1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    f'{_XML}<Relationships xmlns="{_PACKAGE}/relationships">'
    f'<Relationship Id="rId1" Type="{_RELATIONSHIPS}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_RELATIONSHIPS}/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)
SHEET_START = f'{_XML}<worksheet xmlns="{_MAIN}"><sheetData>'
SHEET_END = "</sheetData></worksheet>"
SST_START = f'{_XML}<sst xmlns="{_MAIN}">'


Run = str | tuple[str, int]  # a piece of XML, or a piece repeated so many times


def xlsx(
    sheet: Iterable[Run], shared: Iterable[Run] = ("<si><t>x</t></si>",), workbook: str = WORKBOOK
) -> bytes:
    """Return a workbook laid out as Excel lays it out, its sheet and shared strings given as XML.

    A repeated piece is compressed once, so a part of a gigabyte takes a second to build.
    """
    parts = [
        ("[Content_Types].xml", [_CONTENT_TYPES]),
        ("_rels/.rels", [_ROOT_RELS]),
        ("xl/workbook.xml", [workbook]),
        ("xl/_rels/workbook.xml.rels", [_WORKBOOK_RELS]),
        ("xl/sharedStrings.xml", [SST_START, *shared, "</sst>"]),
        ("xl/worksheets/sheet1.xml", [SHEET_START, *sheet, SHEET_END]),
    ]
    return _zip([(name, *_deflate(runs)) for name, runs in parts])


def _deflate(runs: Iterable[Run]) -> tuple[bytes, int, int]:
    """Return the raw deflate stream of the runs, its CRC-32 and its unpacked size.

    Each run ends with a full flush, which makes the stream of a block the same wherever it
    stands: a block repeated a thousand times is compressed once and its stream repeated.
    """
    out, crc, size = [], 0, 0
    for run in runs:
        text, times = (run, 1) if isinstance(run, str) else run
        if not text:
            continue
        per_block = max(CHUNK // len(text), 1)
        for block, count in (
            (text * per_block, times // per_block),
            (text * (times % per_block), 1),
        ):
            data = block.encode()
            if not data or not count:
                continue
            compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
            out.append((compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH)) * count)
            for _ in range(count):
                crc = zlib.crc32(data, crc)
            size += len(data) * count
    out.append(zlib.compressobj(9, zlib.DEFLATED, -15).flush())  # the final, empty block
    return b"".join(out), crc, size


def _zip(parts: list[tuple[str, bytes, int, int]]) -> bytes:
    """Return a zip archive of (name, deflate stream, CRC-32, unpacked size) parts."""
    out = io.BytesIO()
    directory = []
    for name, data, crc, size in parts:
        offset, encoded = out.tell(), name.encode()
        fields = (8, 0, 0x21, crc, len(data), size, len(encoded))  # deflated, 1980-01-01
        out.write(struct.pack("<4s3H2H3L2H", b"PK\x03\x04", 20, 0, *fields, 0) + encoded + data)
        directory.append(
            struct.pack("<4s4H2H3L5H2L", b"PK\x01\x02", 20, 20, 0, *fields, 0, 0, 0, 0, 0, offset)
            + encoded
        )
    start, central = out.tell(), b"".join(directory)
    out.write(central)
    count = len(parts)
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(central), start, 0))
    return out.getvalue()


def wide_row(cells: int = 2_000_000) -> bytes:
    """One row of 2,000,000 cells (no cell references: each cell takes the next column)."""
    return xlsx(['<row r="1">', ('<c t="s"><v>0</v></c>', cells), "</row>"])


def huge_cell(size: int = 300 * MB) -> bytes:
    """One inline string cell of 300 MB."""
    return xlsx(['<row r="1"><c r="A1" t="inlineStr"><is><t>', ("A", size), "</t></is></c></row>"])


def huge_shared_string(size: int = 300 * MB) -> bytes:
    """One shared string of 300 MB, used by cell A1."""
    return xlsx(
        ['<row r="1"><c r="A1" t="s"><v>0</v></c></row>'], ["<si><t>", ("A", size), "</t></si>"]
    )


def sheet_bomb(rows: int = 2_000_000) -> bytes:
    """A sheet of 2,000,000 rows of 20 cells: 862 MB of XML in a file of 3 MB."""
    return xlsx([("<row>" + '<c t="s"><v>0</v></c>' * 20 + "</row>", rows)])


def rows_bomb() -> bytes:
    """A sheet of a header and 1,000,000 rows of one address: 33 MB of XML in 100 KB."""
    return xlsx(
        ['<row r="1"><c t="s"><v>0</v></c></row>', ('<row><c t="s"><v>1</v></c></row>', 10**6)],
        ["<si><t>E-post</t></si><si><t>anna@kungalv.se</t></si>"],
    )


def repeated_row_number(rows: int = 450_000) -> bytes:
    """A header and 450,000 people whose rows all say they are row 2 (1.2 MB); Excel never
    writes a row number twice, and reading by the numbers alone never passes row 2."""
    header = '<row r="1"><c t="inlineStr"><is><t>E-post</t></is></c></row>'
    body = "".join(
        f'<row r="2"><c t="inlineStr"><is><t>p{n}@kungalv.se</t></is></c></row>'
        for n in range(rows)
    )
    return xlsx([header, body])


def long_field() -> bytes:
    """A CSV whose second row has a field of 10 MB."""
    return b"E-post;Namn\r\nanna@kungalv.se;" + b"A" * (10 * MB) + b"\r\n"


def million_columns() -> bytes:
    """A CSV of one line of a million columns."""
    return b"E-post" + b";x" * 1_000_000 + b"\r\n"


FIRST = ["Åsa", "Anna", "Björn", "Märta", "Göran", "Lars", "Ingrid", "Örjan", "Karin", "Jönte"]
LAST = ["Öberg", "Åkesson", "Lindström", "Bäckström", "Söderberg", "Karlsson", "Hägglund", "Ek"]
TITLES = ["Handläggare", "Enhetschef", "Förvaltningschef", "Nämndsekreterare", "Miljöinspektör"]
FOLD = str.maketrans("åäöÅÄÖ", "aaoAAO")


def people(rows: int) -> Iterator[list[str]]:
    """Yield a header and `rows` people of a Swedish municipality, each address different."""
    yield ["Förnamn", "Efternamn", "E-post", "Titel"]
    for n in range(rows):
        first, last = FIRST[n % len(FIRST)], LAST[n * 7 % len(LAST)]
        email = f"{first.translate(FOLD).lower()}.{last.translate(FOLD).lower()}.{n}@kungalv.se"
        yield [first, last, email, TITLES[n % len(TITLES)]]


def normal_csv() -> bytes:
    """100,000 people as Excel saves them: semicolons, CRLF, UTF-8 with a byte-order mark."""
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(people(100_000))
    return out.getvalue().encode("utf-8-sig")


def normal_xlsx() -> bytes:
    """100,000 people as Excel saves them: every text in the shared strings table."""
    index: dict[str, int] = {}
    rows = []
    for number, cells in enumerate(people(100_000), start=1):
        refs = "".join(
            f'<c r="{"ABCD"[i]}{number}" t="s"><v>{index.setdefault(text, len(index))}</v></c>'
            for i, text in enumerate(cells)
        )
        rows.append(f'<row r="{number}">{refs}</row>')
    return xlsx(["".join(rows)], ["".join(f"<si><t>{text}</t></si>" for text in index)])
