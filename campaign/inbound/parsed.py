"""A received message, parsed once, and the ways to read its parts whatever their shape.

Inbound mail is written by every kind of server and client, some of them broken: parsing never
raises (the standard library's compat32 parser records defects instead), and text in a charset
Python does not know is read as Latin-1 rather than refused.
"""

from __future__ import annotations

import email
import email.header
import email.utils
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from email.policy import compat32

from campaign.outbox.inbound import InboundMessage

# Parts that carry the headers of the message a report is about.
HEADER_PARTS = ("message/rfc822", "text/rfc822-headers", "message/global-headers")


@dataclass(frozen=True)
class Incoming:
    """A received message: its stored row, the parsed message, and the moment it came."""

    row: InboundMessage
    message: Message
    now: datetime


def parse(raw: bytes) -> Message:
    """Return the parsed message; never raises, whatever the bytes."""
    return email.message_from_bytes(raw, policy=compat32)


def header_text(message: Message, name: str) -> str:
    """Return a header decoded to one line of text ("" when it is missing or unreadable)."""
    value = message.get(name)
    if value is None:
        return ""
    try:
        parts = email.header.decode_header(str(value))
    except (ValueError, LookupError):
        return " ".join(str(value).split())
    text = "".join(_decoded(chunk, charset) for chunk, charset in parts)
    return " ".join(text.split())


def _decoded(chunk: bytes | str, charset: str | None) -> str:
    """Return one decoded piece of an encoded header."""
    if isinstance(chunk, str):
        return chunk
    return _bytes_text(chunk, charset)


def _bytes_text(data: bytes, charset: str | None) -> str:
    """Decode bytes in a charset, an unknown or missing one as UTF-8, then Latin-1."""
    for candidate in (charset or "utf-8", "utf-8"):
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("latin-1")


def address_of(message: Message, name: str) -> str:
    """Return the bare, lowercase address of an address header ("" when none)."""
    return email.utils.parseaddr(header_text(message, name))[1].strip().lower()


def walk_parts(message: Message) -> Iterator[Message]:
    """Yield every part of a message, the message itself first."""
    yield from message.walk()


def payload_bytes(part: Message) -> bytes:
    """Return a leaf part's content with its transfer encoding undone (b"" for a container)."""
    if part.is_multipart():
        return b""
    try:
        data = part.get_payload(decode=True)
    except (ValueError, TypeError, AssertionError):
        data = None
    return data if isinstance(data, bytes) else b""


def text_of(part: Message) -> str:
    """Return a leaf part's content as text, decoded from its charset."""
    charset = part.get_content_charset()
    return _bytes_text(payload_bytes(part), charset)


def embedded_headers(message: Message) -> Iterator[Message]:
    """Yield the headers of each original message a report carries (attached or as headers)."""
    for part in walk_parts(message):
        content_type = part.get_content_type()
        if content_type not in HEADER_PARTS:
            continue
        inner = part.get_payload()
        if isinstance(inner, list):
            yield from (each for each in inner if isinstance(each, Message))
        elif inner:
            yield parse(payload_bytes(part) or str(inner).encode("utf-8", "replace"))
