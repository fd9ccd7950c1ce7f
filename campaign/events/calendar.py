"""Calendar objects built with the icalendar library: iTIP invitations and cancellations for
mail (RFC 5546), a single event to download, and a subscribable feed.

An event keeps one UID for life; every change of time or place raises its SEQUENCE, so a
calendar that already holds the event replaces it instead of adding a second one. Times carry
the event's time zone (TZID) with a VTIMEZONE built from the tz database, so a meeting at 09:00
in Stockholm stays at 09:00 across a change to or from summer time.

Every stored text passes through `campaign.plaintext` on its way in: a row written before the
forms refused control characters must not make icalendar refuse the whole calendar.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Alarm, Calendar, vCalAddress, vText
from icalendar import Event as VEvent
from icalendar.parser import Contentline, Parameters

from campaign import plaintext
from campaign.events.models import Event

log = logging.getLogger(__name__)
PRODID = "-//campaign//Resfria möten//SV"
ALARM_BEFORE = timedelta(minutes=15)
LINE_OCTETS = 74  # RFC 5545: 75 octets a line; a folded line's leading space is the 75th
PARTSTAT = {
    "pending": "NEEDS-ACTION",
    "accepted": "ACCEPTED",
    "tentative": "TENTATIVE",
    "declined": "DECLINED",
    "waitlisted": "NEEDS-ACTION",
}


@dataclass(frozen=True)
class Person:
    """An organiser or attendee as a calendar names them."""

    name: str
    email: str

    def address(self, **params: str) -> vCalAddress:
        """Return the person's calendar address, with their name and `params`."""
        address = vCalAddress(f"mailto:{plaintext.compact(self.email)}")
        name = plaintext.one_line(self.name)
        if name:
            address.params["CN"] = vText(name)
        address.params.update(params)
        return address


def location_of(event: Event) -> str:
    """The web-meeting link first (calendar apps make it clickable), then the room."""
    link = plaintext.link(event.join_url) or plaintext.one_line(event.join_url)
    return " – ".join(part for part in (link, plaintext.one_line(event.room)) if part)


def zone_of(event: Event) -> ZoneInfo:
    """The event's time zone; UTC if the tz database does not know the stored name (the instants
    are stored in UTC, so the meeting keeps its moment)."""
    try:
        return ZoneInfo(event.timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        log.warning("event %s: unknown time zone %r, shown in UTC", event.id, event.timezone)
        return ZoneInfo("UTC")


def vevent(
    event: Event,
    *,
    stamp: datetime,
    organiser: Person,
    attendee: Person | None = None,
    partstat: str = "NEEDS-ACTION",
    description: str = "",
) -> VEvent:
    """Return the VEVENT of `event` (for one attendee, or none for downloads and feeds)."""
    item = VEvent()
    _add_version(item, event, stamp)
    _add_time_and_place(item, event)
    item.add("organizer", organiser.address())
    _add_personal(item, attendee, partstat, description)
    if not event.is_cancelled:
        item.add_component(_alarm(event))
    return item


def _add_version(item: VEvent, event: Event, stamp: datetime) -> None:
    """Add which event this is and which version of it: UID, stamp, SEQUENCE and status."""
    item.add("uid", event.uid)
    item.add("dtstamp", stamp)
    item.add("sequence", event.sequence)
    item.add("status", "CANCELLED" if event.is_cancelled else "CONFIRMED")


def _add_time_and_place(item: VEvent, event: Event) -> None:
    """Add the event's times in its own zone, its title, and where to join it."""
    zone = zone_of(event)
    item.add("dtstart", event.starts_at.astimezone(zone))
    item.add("dtend", event.ends_at.astimezone(zone))
    item.add("summary", plaintext.one_line(event.title))
    if location := location_of(event):
        item.add("location", location)
    if link := plaintext.link(event.join_url):
        item.add("url", link)
    item.add("transp", "OPAQUE")


def _alarm(event: Event) -> Alarm:
    """Return a reminder shown a quarter of an hour before the event."""
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", plaintext.one_line(event.title))
    alarm.add("trigger", -ALARM_BEFORE)
    return alarm


def _add_personal(item: VEvent, attendee: Person | None, partstat: str, description: str) -> None:
    """Add what differs from one invitee to the next: their ATTENDEE, and the DESCRIPTION
    (which carries their own answer link)."""
    if description:
        item.add("description", plaintext.lines(description))
    if attendee is not None:
        item.add("attendee", _attendee(attendee, partstat))


def _attendee(attendee: Person, partstat: str) -> vCalAddress:
    """Return an invitee's ATTENDEE address, with their answer so far."""
    return attendee.address(
        CUTYPE="INDIVIDUAL", ROLE="REQ-PARTICIPANT", PARTSTAT=partstat, RSVP="TRUE"
    )


def calendar_of(method: str | None, events: Iterable[VEvent], name: str = "") -> str:
    """Return an iCalendar object of the events, with a VTIMEZONE for every zone they use."""
    calendar = _calendar(method, name)
    for item in events:
        calendar.add_component(item)
    calendar.add_missing_timezones()
    return calendar.to_ical().decode("utf-8")


def _calendar(method: str | None, name: str) -> Calendar:
    """Return an empty calendar, with its iTIP method and its name if it has them."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
    return calendar


@dataclass(frozen=True)
class InvitationParts:
    """The iTIP object of one event version, built once, for every invitee's mail.

    Building a VTIMEZONE from the tz database costs milliseconds; a fan-out to thousands of
    people builds it once. Only ATTENDEE and DESCRIPTION differ from one invitee to the next:
    each invitee's object is the shared lines with theirs put in, the same bytes as a whole
    build (icalendar orders properties by name, so their place is fixed).
    """

    before: str
    after: str

    def for_person(self, attendee: Person, partstat: str, description: str) -> str:
        """Return the iTIP object of one invitee."""
        lines = [_attendee_line(attendee, partstat)]
        if description:
            lines.append(_description(description))
        return self.before + "".join(_fold(line) + "\r\n" for line in lines) + self.after


def _attendee_line(attendee: Person, partstat: str) -> str:
    """Return an invitee's ATTENDEE line, not folded: a plain name and address (which nothing
    quotes or escapes) put in the line made once per answer, any other built in full."""
    name, email = attendee.name, attendee.email
    shape = _attendee_shape(partstat, "words" if " " in name else "word" if name else "")
    plain = PLAIN_NAME.fullmatch(name or "x") and PLAIN_ADDRESS.fullmatch(email)
    if shape and plain:
        return shape[0] + name + shape[1] + email + shape[2]
    address = _attendee(attendee, partstat)
    return str(Contentline.from_parts("ATTENDEE", address.params, address))


PLAIN_NAME = re.compile(r"[^\W_]+(?:[ .-][^\W_]+)*")
PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9._+-]+@[A-Za-z0-9.-]+")


NAMES = {"words": ("Qna meq", "Åsa-Lo Ö.Berg 1"), "word": ("Qnameq", "Åsa-Lo.Ö1"), "": ("", "")}


@functools.lru_cache(maxsize=32)
def _attendee_shape(partstat: str, name: str) -> tuple[str, str, str] | None:
    """Return the ATTENDEE line of an answer and a kind of `name` (none, a word, words: a name
    with a space is quoted) cut around the name and the address; None if a probe shows that
    putting them in would not give the line built in full."""
    named = bool(name)
    marks = Person(NAMES[name][0], "qaddressq@example.org")
    address = _attendee(marks, partstat)
    line = str(Contentline.from_parts("ATTENDEE", address.params, address))
    before, _name, rest = line.partition(marks.name) if named else ("", "", line)
    middle, _email, after = rest.partition(marks.email)
    shape = (before + middle, "", after) if not named else (before, middle, after)
    probe = Person(NAMES[name][1], "a.b+c@d-e.example.se")
    whole = _attendee(probe, partstat)
    built = str(Contentline.from_parts("ATTENDEE", whole.params, whole))
    return shape if shape[0] + probe.name + shape[1] + probe.email + shape[2] == built else None


def _description(description: str) -> str:
    """Return the DESCRIPTION line of a text: the event's, then after a blank line an invitee's
    own link. The escaping goes character by character, so the shared text is escaped once and
    a link with nothing to escape is put after it as it is."""
    shared, blank, own = description.rpartition("\n\n")
    if blank and LINK.fullmatch(own):
        return _description_line(shared + blank) + own
    return _description_line(description)


LINK = re.compile(r"[A-Za-z0-9:/._~?=%-]+")  # characters iCalendar text leaves as they are


@functools.lru_cache(maxsize=64)
def _description_line(text: str) -> str:
    """Return the DESCRIPTION line of a text, escaped and not folded."""
    return str(Contentline.from_parts("DESCRIPTION", Parameters(), vText(plaintext.lines(text))))


def _fold(line: str) -> str:
    """Fold a content line as icalendar does: at most 75 octets a line, never inside a
    character, and never right after a backslash or caret (some clients misread that).

    icalendar folds character by character; this is the same cut, found on the UTF-8 bytes.
    """
    data = line.encode("utf-8")
    pieces, start = [], 0
    while len(data) - start > LINE_OCTETS:
        end = _cut(data, start)
        pieces.append(data[start:end])
        start = end
    pieces.append(data[start:])
    return "\r\n ".join(piece.decode("utf-8") for piece in pieces)


def _cut(data: bytes, start: int) -> int:
    """Return where the folded line that begins at `start` ends."""
    end = start + LINE_OCTETS
    while data[end] & 0xC0 == 0x80:  # a continuation byte: cut before its character
        end -= 1
    if data[end - 1] in b"\\^":
        end -= 1
    return end


PLACEHOLDER = Person("", "personal@invalid")


def invitation_parts(event: Event, *, stamp: datetime, organiser: Person) -> InvitationParts:
    """Build the shared part of every invitee's iTIP object: REQUEST, or CANCEL once the event
    is cancelled."""
    whole = invitation(
        event,
        stamp=stamp,
        organiser=organiser,
        attendee=PLACEHOLDER,
        partstat="NEEDS-ACTION",
        description="personal",
    )
    return _around_personal(whole)


def _around_personal(whole: str) -> InvitationParts:
    """Split an invitee's iTIP object into what comes before and after their own lines."""
    # Content lines, each with its folded continuation lines (which start with a space).
    lines = re.split(r"\r\n(?! )", whole)
    first = next(n for n, line in enumerate(lines) if line.startswith("ATTENDEE;"))
    if lines[first + 1] != "DESCRIPTION:personal":  # icalendar sorts them side by side
        raise RuntimeError("the calendar's personal lines are not where they were expected")
    return InvitationParts("\r\n".join(lines[:first]) + "\r\n", "\r\n".join(lines[first + 2 :]))


def invitation(
    event: Event,
    *,
    stamp: datetime,
    organiser: Person,
    attendee: Person,
    partstat: str,
    description: str,
) -> str:
    """The iTIP object of one invitation mail: REQUEST, or CANCEL once the event is cancelled."""
    item = vevent(
        event,
        stamp=stamp,
        organiser=organiser,
        attendee=attendee,
        partstat=partstat,
        description=description,
    )
    return calendar_of("CANCEL" if event.is_cancelled else "REQUEST", [item])
