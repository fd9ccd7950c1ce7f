"""A received message as a person reads it on the Inbox page: the headers that matter and its
text, as plain text, whatever its shape.

Only the beginning of the raw bytes is read (`READ_BYTES`), and of its text only the first
`SHOWN_CHARS` characters are shown, so that a message of 50 MB makes a page of a normal size.
HTML is never rendered: a message with no plain text shows the words of its HTML part, tags,
scripts and styles taken out.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from email.message import Message

import nh3

from campaign.inbound.parsed import header_text, parse, text_of, walk_parts

READ_BYTES = 1_000_000  # the beginning of the raw message that is parsed for the page
SHOWN_CHARS = 100_000  # the characters of its text shown
HEADERS = (
    "From",
    "To",
    "Cc",
    "Reply-To",
    "Date",
    "Subject",
    "Message-ID",
    "In-Reply-To",
    "Auto-Submitted",
    "Precedence",
    "Content-Type",
)


@dataclass(frozen=True)
class Part:
    """One part of the message, as the page lists it."""

    content_type: str
    filename: str


@dataclass(frozen=True)
class Reading:
    """What the page shows of a message."""

    headers: list[tuple[str, str]]
    text: str
    is_cut: bool  # only the beginning of the message is shown
    parts: list[Part]
    defects: int  # how many faults the parser found in its MIME structure


def reading_of(raw: bytes, size: int) -> Reading:
    """Return what the page shows of the message whose first bytes are `raw` (of `size`)."""
    message = parse(raw[:READ_BYTES])
    text = first_text(message)
    cut = len(text) > SHOWN_CHARS or size > min(len(raw), READ_BYTES)
    return Reading(
        headers=shown_headers(message),
        text=text[:SHOWN_CHARS],
        is_cut=cut,
        parts=[_part(each) for each in walk_parts(message) if not each.is_multipart()],
        defects=sum(len(each.defects) for each in walk_parts(message)),
    )


def shown_headers(message: Message) -> list[tuple[str, str]]:
    """Return the headers that matter, decoded, in a fixed order (those the message has)."""
    found = ((name, header_text(message, name)) for name in HEADERS)
    return [(name, value[:2000]) for name, value in found if value]


def first_text(message: Message) -> str:
    """Return the message's first plain-text part, else the words of its first HTML part."""
    leaves = [p for p in walk_parts(message) if not p.is_multipart() and not _attached(p)]
    for wanted, read in (("text/plain", text_of), ("text/html", _html_words)):
        for part in leaves:
            if part.get_content_type() == wanted:
                return read(part)
    return ""


def _attached(part: Message) -> bool:
    """Whether the part is an attachment (not the message's own text)."""
    return str(part.get("Content-Disposition", "")).strip().lower().startswith("attachment")


def _html_words(part: Message) -> str:
    """Return the text of an HTML part: no tags, scripts or styles, entities decoded."""
    cleaned = nh3.clean(text_of(part), tags=set(), clean_content_tags={"script", "style"})
    return html.unescape(cleaned)


def _part(part: Message) -> Part:
    """Return how the page lists a leaf part."""
    filename = part.get_filename() or ""
    return Part(part.get_content_type(), str(filename)[:200])
