"""A campaign's sequence as a ZIP of the same Markdown files the repository ships
(`<name>/<lang>/NN-slug.md`), and such a ZIP read back.

Reading trusts nothing in the archive: at most 1 MB is read from the upload and 1 MB unpacked
(counted while reading, not from the headers), at most MAX_ENTRIES entries; a name with `..`, a
backslash or an absolute path refuses the whole file; only `.md` files under `sv/` and `en/`
(optionally inside a folder named after the sequence) are taken. Nothing is written to disk.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping
from typing import IO

from flask_babel import gettext as _

from campaign.drip.files import LANGUAGES

MAX_BYTES = 2**20
MAX_ENTRIES = 250
CHUNK = 64 * 1024
SHIPPED_TIME = (1980, 1, 1, 0, 0, 0)  # the same files give the same ZIP
UNSAFE = re.compile(r"(^/)|(^[A-Za-z]:)|\\|(^|/)\.\.?(/|$)")


class Refused(Exception):
    """The upload is not a sequence's ZIP; the message says why, in the reader's language."""


def zipped(name: str, files: Mapping[str, str]) -> bytes:
    """Return the files as a ZIP, each at `<name>/<lang>/NN-slug.md`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for key in sorted(files):
            entry = zipfile.ZipInfo(f"{name}/{key}", SHIPPED_TIME)
            archive.writestr(entry, files[key].encode("utf-8"), zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def unzipped(name: str, upload: IO[bytes]) -> dict[str, str]:
    """Return the step files of an uploaded ZIP, keyed `sv/01-welcome.md`; raise Refused."""
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise Refused(_("The file is larger than 1 MB."))
    archive = _archive(data)
    entries = [e for e in archive.infolist() if not _ignored(e)]
    if len(archive.infolist()) > MAX_ENTRIES:
        raise Refused(_("The ZIP holds more than %(count)d files.", count=MAX_ENTRIES))
    files = _read_all(archive, name, entries)
    if not files:
        raise Refused(_("The ZIP holds no step files (sv/01-welcome.md, en/01-welcome.md)."))
    return files


def _archive(data: bytes) -> zipfile.ZipFile:
    """Open the upload as a ZIP archive."""
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise Refused(_("The file is not a ZIP file.")) from error


def _ignored(entry: zipfile.ZipInfo) -> bool:
    """Whether an entry is a folder or what an operating system adds (__MACOSX, .DS_Store)."""
    last = entry.filename.rstrip("/").rpartition("/")[2]
    return entry.is_dir() or entry.filename.startswith("__MACOSX/") or last.startswith(".")


def _read_all(
    archive: zipfile.ZipFile, name: str, entries: list[zipfile.ZipInfo]
) -> dict[str, str]:
    """Read every entry's text, keyed by its place in the sequence, within the size limit."""
    files: dict[str, str] = {}
    budget = MAX_BYTES
    for entry in entries:
        key = _key(name, entry.filename)
        if key in files:
            raise Refused(_("The ZIP holds %(name)s twice.", name=entry.filename))
        data = _read(archive, entry, budget)
        budget -= len(data)
        files[key] = _text(entry.filename, data)
    return files


def _key(name: str, path: str) -> str:
    """Return an entry's key (`sv/01-welcome.md`), refusing a name outside the sequence."""
    if UNSAFE.search(path):
        raise Refused(_("The ZIP holds a file outside its folder: %(name)s", name=path))
    parts = path.split("/")
    if len(parts) == 3 and parts[0] == name:
        parts = parts[1:]
    if len(parts) != 2 or parts[0] not in LANGUAGES or not parts[1].endswith(".md"):
        raise Refused(_("Only .md files under sv/ and en/ can be read: %(name)s", name=path))
    return "/".join(parts)


def _read(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, budget: int) -> bytes:
    """Read one entry unpacked, a chunk at a time, refusing it once it passes the budget."""
    chunks, size = [], 0
    try:
        with archive.open(entry) as stream:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > budget:
                    raise Refused(_("The files in the ZIP are larger than 1 MB unpacked."))
                chunks.append(chunk)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError) as error:
        raise Refused(_("%(name)s cannot be unpacked.", name=entry.filename)) from error
    return b"".join(chunks)


def _text(path: str, data: bytes) -> str:
    """Return a file's text with Unix line ends; refuse what is not UTF-8."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise Refused(_("%(name)s is not UTF-8 text.", name=path)) from error
    return text.replace("\r\n", "\n").replace("\r", "\n")
