"""Text that goes into calendars and mail headers: what a form accepts, and how stored text is
made safe when a calendar or a header is built from it.

A control character (a line break in a title, an escape, a NUL) can end a header or a calendar
line early, or make icalendar refuse the whole object. Forms refuse them; builders clean
whatever is already stored, because older versions and other paths did not refuse them.
"""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import Field, ValidationError
from wtforms.form import BaseForm

# C0 and C1 controls and DEL, and the two Unicode separators that some programs take as line
# breaks. Tab, CR and LF are among them; only a text of several lines may keep those.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
# What the WHATWG URL parser drops from a link before reading it (a link pasted over two lines).
URL_DROPPED = re.compile(r"[\t\r\n]")
WEB_LINK = re.compile(r"https?://[^\s/]\S*", re.IGNORECASE)


def one_line(text: str) -> str:
    """Return `text` on one line: control characters become spaces, runs of space one space."""
    if text.isprintable() and "  " not in text and text[:1] != " " != text[-1:]:
        return text  # nearly every cell of an import: no control character, no other space
    return " ".join(CONTROL.sub(" ", text).split())


def lines(text: str) -> str:
    """Return `text` with LF line breaks and tabs kept, every other control character removed."""
    return CONTROL_BUT_LINES.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def compact(text: str) -> str:
    """Return `text` without any control character or space (an address)."""
    return "".join(CONTROL.sub("", text).split())


def link(text: str) -> str | None:
    """Return a web link fit for a calendar's URL, or None if it is not one even once cleaned."""
    cleaned = URL_DROPPED.sub("", text).strip()
    if WEB_LINK.fullmatch(cleaned) and not CONTROL.search(cleaned):
        return cleaned
    return None


def unix_lines(text: str | None) -> str | None:
    """Return a text of several lines with LF line ends: a form filter, as browsers send a
    textarea's lines with CRLF and a save that changed nothing must store the same text."""
    return text.replace("\r\n", "\n") if isinstance(text, str) else text


class NoControlCharacters:
    """A form validator: refuse control characters (a text of several lines keeps its breaks)."""

    def __init__(self, *, multiline: bool = False) -> None:
        self.pattern = CONTROL_BUT_LINES if multiline else CONTROL
        self.message = (
            _l("Remove the control characters from this text; line breaks are allowed.")
            if multiline
            else _l(
                "Remove the line breaks, tabs and other control characters: this field takes"
                " one line of plain text."
            )
        )

    def __call__(self, form: BaseForm, field: Field) -> None:
        if isinstance(field.data, str) and self.pattern.search(field.data):
            raise ValidationError(self.message)


class WebLink:
    """A form validator: a web link without spaces or control characters (checked after URL)."""

    def __call__(self, form: BaseForm, field: Field) -> None:
        value = (field.data or "").strip()
        if CONTROL.search(value) or re.search(r"\s", value):
            raise ValidationError(
                _l("A link cannot contain spaces, line breaks or other control characters.")
            )
