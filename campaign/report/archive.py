"""A ZIP archive written straight to a file, each member hashed (SHA-256) as it goes in, and
closed with a README that lists every file with its size, its hash and a sentence about it,
and a SHA256SUMS file that `sha256sum -c` checks.

Nothing is held twice: each member is written to the file as it is made (a CSV a row at a
time), so the archive's size is bounded by the disk, not by memory.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

CHUNK = 1 << 16


@dataclass(frozen=True)
class Entry:
    """A file in the archive: its path inside the folder, what it is, its size and hash."""

    path: str
    about: str
    size: int
    sha256: str


class Archive:
    """A ZIP being written to `out`, its files in one folder named `folder`."""

    def __init__(self, out: IO[bytes], folder: str, stamp: datetime) -> None:
        self.folder = folder
        self.entries: list[Entry] = []
        self._stamp = stamp.timetuple()[:6]  # a ZIP's times are local and without a zone
        self._zip = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED)

    def add_chunks(self, path: str, about: str, chunks: Iterable[bytes]) -> Entry:
        """Write a file made of `chunks` as they come, hashing it on the way."""
        digest, size = hashlib.sha256(), 0
        with self._zip.open(self._info(path), "w", force_zip64=True) as member:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                member.write(chunk)
        entry = Entry(path, about, size, digest.hexdigest())
        self.entries.append(entry)
        return entry

    def _info(self, path: str) -> zipfile.ZipInfo:
        """Return the header of a file in the folder, dated the bundle's moment, compressed."""
        info = zipfile.ZipInfo(f"{self.folder}/{path}", date_time=self._stamp)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16  # -rw-r--r-- when unpacked
        return info

    def add(self, path: str, about: str, data: bytes | str) -> Entry:
        """Write a file held whole (a PDF, a workbook); text is written as UTF-8."""
        return self.add_chunks(path, about, [data.encode() if isinstance(data, str) else data])

    def add_file(self, path: str, about: str, source: Path) -> Entry:
        """Copy a file of the service (a sequence step, a questionnaire) into the archive."""
        with source.open("rb") as opened:
            return self.add_chunks(path, about, iter(lambda: opened.read(CHUNK), b""))

    def close(self, readme: str) -> None:
        """Write the README (its text given) and the SHA256SUMS of every file, and finish."""
        self.add("README.txt", "", readme)
        self.add("SHA256SUMS", "", sums(self.entries))
        self._zip.close()


def sums(entries: Iterable[Entry]) -> str:
    """Return the lines `sha256sum -c` reads: each file's hash and path."""
    return "".join(f"{entry.sha256}  {entry.path}\n" for entry in entries)
