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

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Alarm, Calendar, vCalAddress, vText
from icalendar import Event as VEvent

from campaign import plaintext
from campaign.events.models import Event

log = logging.getLogger(__name__)
PRODID = "-//campaign//Resfria möten//SV"
ALARM_BEFORE = timedelta(minutes=15)
PARTSTAT = {
    "pending": "NEEDS-ACTION",
    "accepted": "ACCEPTED",
    "tentative": "TENTATIVE",
    "declined": "DECLINED",
    "waitlisted": "NEEDS-ACTION",
}


@dataclass(frozen=True)
class Person:
    name: str
    email: str

    def address(self, **params: str) -> vCalAddress:
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
    zone = zone_of(event)
    item = VEvent()
    item.add("uid", event.uid)
    item.add("dtstamp", stamp)
    item.add("sequence", event.sequence)
    item.add("dtstart", event.starts_at.astimezone(zone))
    item.add("dtend", event.ends_at.astimezone(zone))
    item.add("summary", plaintext.one_line(event.title))
    if description:
        item.add("description", plaintext.lines(description))
    location = location_of(event)
    if location:
        item.add("location", location)
    if link := plaintext.link(event.join_url):
        item.add("url", link)
    item.add("status", "CANCELLED" if event.is_cancelled else "CONFIRMED")
    item.add("transp", "OPAQUE")
    item.add("organizer", organiser.address())
    if attendee is not None:
        item.add(
            "attendee",
            attendee.address(
                CUTYPE="INDIVIDUAL",
                ROLE="REQ-PARTICIPANT",
                PARTSTAT=partstat,
                RSVP="TRUE",
            ),
        )
    if not event.is_cancelled:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", plaintext.one_line(event.title))
        alarm.add("trigger", -ALARM_BEFORE)
        item.add_component(alarm)
    return item


def calendar_of(method: str | None, events: Iterable[VEvent], name: str = "") -> str:
    """Return an iCalendar object of the events, with a VTIMEZONE for every zone they use."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
    for item in events:
        calendar.add_component(item)
    calendar.add_missing_timezones()
    return calendar.to_ical().decode("utf-8")


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
