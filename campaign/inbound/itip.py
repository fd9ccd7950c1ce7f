"""The iTIP object (RFC 5546) in a calendar client's answer, found and read; nothing stored.

Clients put it in different places: Outlook and Exchange send a text/calendar part with
method=REPLY (often base64, sometimes the only part, sometimes inside multipart/alternative or
multipart/mixed) and mark the mail `Content-class: urn:content-classes:calendarmessage`; Google
Calendar sends it in multipart/alternative beside the text and HTML, and again as an invite.ics
attachment; Thunderbird sends it inline, quoted-printable or 8bit; some send only an
application/ics attachment. A text/calendar part comes first, then attachments.

An Exchange that keeps Microsoft's own format sends the answer as MAPI properties inside
winmail.dat (application/ms-tnef), with no iCalendar object at all. That is not read: no
well-kept Python library turns those properties into an answer, so the mail is kept for a
person, and `tnef_class` only names what kind of Outlook item it holds for their note.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from email.message import Message
from typing import Any

from icalendar import Calendar, Component

from campaign.inbound.parsed import payload_bytes, text_of

CALENDAR_TYPES = ("text/calendar", "application/ics", "text/x-vcalendar")
CALENDAR_CLASS = "urn:content-classes:calendarmessage"
TNEF_SIGNATURE = 0x223E9F78
TNEF_MESSAGE_CLASS = 0x00078008  # attMessageClass: its type (string) and id
MEETING_CLASS = "IPM.Schedule.Meeting."


class Unreadable(ValueError):
    """A calendar part that is there but cannot be read as an iTIP object; says why."""


@dataclass(frozen=True)
class Attendee:
    """One ATTENDEE of the answer: the address (lower case, without mailto:) and PARTSTAT."""

    address: str
    partstat: str


@dataclass(frozen=True)
class Itip:
    """What an iTIP object says about one event."""

    method: str
    uid: str
    sequence: int
    attendees: tuple[Attendee, ...]
    starts: datetime | date | None  # DTSTART: for a COUNTER, the time proposed
    ends: datetime | date | None


def calendar_parts(message: Message) -> Iterator[Message]:
    """Yield the parts that may hold a calendar: text/calendar first, then attachments."""
    parts = list(_own_leaves(message))
    yield from (part for part in parts if part.get_content_type() == "text/calendar")
    yield from (part for part in parts if _is_attached_calendar(part))


def _own_leaves(part: Message) -> Iterator[Message]:
    """Yield the leaf parts of the mail itself, not of a message it carries (a bounce carries
    our invitation, with its calendar)."""
    if part.get_content_type().startswith("message/"):
        return
    if not part.is_multipart():
        yield part
        return
    for inner in part.get_payload():
        if isinstance(inner, Message):
            yield from _own_leaves(inner)


def _is_attached_calendar(part: Message) -> bool:
    """Whether the part is a calendar file other than text/calendar (application/ics, *.ics)."""
    kind = part.get_content_type()
    if kind in CALENDAR_TYPES:
        return kind != "text/calendar"
    name = part.get_filename() or ""
    return kind == "application/octet-stream" and name.lower().endswith(".ics")


def looks_like_calendar(message: Message) -> bool:
    """Whether the mail says it is a calendar message (Exchange's Content-class)."""
    return str(message.get("Content-class", "")).strip().lower() == CALENDAR_CLASS


def method_param(part: Message) -> str:
    """Return the METHOD the part's Content-Type names (REPLY, COUNTER...), upper case."""
    method = part.get_param("method")
    return method.strip().upper() if isinstance(method, str) else ""


def read(text: str, method: str = "") -> Itip:
    """Read an iTIP object; `method` from the Content-Type when the object names none.
    Raise Unreadable when it is no calendar, has no event, or the event's UID cannot be read."""
    calendar = _parsed(text)
    item = _main_event(calendar)
    method = str(calendar.get("METHOD", "") or method).strip().upper()
    uid = str(item.get("UID", "")).strip()
    if not uid:
        raise Unreadable("the event has no UID")
    starts, ends = _moment(item, "DTSTART"), _moment(item, "DTEND")
    return Itip(method, uid, _sequence(item), tuple(_attendees(item)), starts, ends)


def _parsed(text: str) -> Calendar:
    """Parse the text as an iCalendar object; raise Unreadable if it is none."""
    try:
        calendar = Calendar.from_ical(text)
    except (ValueError, IndexError, KeyError, TypeError) as error:
        raise Unreadable(f"not an iCalendar object: {error}") from None
    if not isinstance(calendar, Calendar):
        raise Unreadable("not a VCALENDAR")
    return calendar


def _main_event(calendar: Calendar) -> Component:
    """Return the VEVENT the answer is about: the one without RECURRENCE-ID, else the first."""
    events = calendar.walk("VEVENT")
    if not events:
        raise Unreadable("the calendar has no VEVENT")
    whole = [item for item in events if "RECURRENCE-ID" not in item]
    return (whole or events)[0]


def _sequence(item: Component) -> int:
    """Return the event's SEQUENCE (0 when it has none); raise Unreadable if it is no number."""
    try:
        return int(str(item.get("SEQUENCE", 0)).strip() or 0)
    except ValueError:
        raise Unreadable(f"SEQUENCE is no number: {item.get('SEQUENCE')}") from None


def _attendees(item: Component) -> Iterator[Attendee]:
    """Yield the event's attendees with their answers."""
    found = item.get("ATTENDEE", [])
    for address in found if isinstance(found, list) else [found]:
        partstat = str(getattr(address, "params", {}).get("PARTSTAT", "")).strip().upper()
        yield Attendee(address_of(str(address)), partstat)


def address_of(calendar_address: str) -> str:
    """Return the mail address of a calendar address: without mailto:, lower case."""
    text = calendar_address.strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :]
    return text.strip().lower()


def _moment(item: Component, name: str) -> datetime | date | None:
    """Return a DTSTART or DTEND, None when missing or unreadable (it is only shown)."""
    try:
        value: Any = item.decoded(name)
    except (KeyError, ValueError, TypeError, AttributeError):
        return None
    return value if isinstance(value, (datetime, date)) else None


def find(message: Message) -> Itip | None:
    """Return the first readable iTIP object in the mail, None when it holds no calendar.
    Raise Unreadable (the first part's reason) when calendars are there but none can be read."""
    problem: Unreadable | None = None
    for part in calendar_parts(message):
        try:
            return read(text_of(part), method_param(part))
        except Unreadable as error:
            problem = problem or error
    if problem is not None:
        raise problem
    return None


def tnef_class(message: Message) -> str | None:
    """Return the Outlook message class in a winmail.dat (e.g. IPM.Schedule.Meeting.Resp.Neg),
    "" for a TNEF part that names none, None when the mail has no TNEF part."""
    for part in _own_leaves(message):
        if _is_tnef(part):
            return _message_class(payload_bytes(part))
    return None


def _is_tnef(part: Message) -> bool:
    """Whether the part is Microsoft's TNEF (application/ms-tnef, or a winmail.dat)."""
    if part.get_content_type() in ("application/ms-tnef", "application/vnd.ms-tnef"):
        return True
    return (part.get_filename() or "").lower() == "winmail.dat"


def _message_class(data: bytes) -> str:
    """Read the attMessageClass attribute of a TNEF stream; "" when it has none.

    A TNEF stream is a signature, a key, then attributes: a level byte, a 32-bit id, a 32-bit
    length, the data and a 16-bit checksum. Only this one attribute is read.
    """
    if len(data) < 6 or struct.unpack_from("<I", data)[0] != TNEF_SIGNATURE:
        return ""
    offset = 6
    while offset + 9 <= len(data):
        _level, ident, length = struct.unpack_from("<BII", data, offset)
        value = data[offset + 9 : offset + 9 + length]
        if ident == TNEF_MESSAGE_CLASS:
            return value.split(b"\0")[0].decode("latin-1")
        offset += 9 + length + 2
    return ""


def is_meeting_class(message_class: str | None) -> bool:
    """Whether an Outlook message class is a meeting item (request, answer, cancellation)."""
    return bool(message_class) and str(message_class).startswith(MEETING_CLASS)
