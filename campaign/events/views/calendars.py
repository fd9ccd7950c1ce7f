"""Calendars: a meeting as an .ics file, and each member's feed to subscribe to, whose signed
address the member can replace when it has leaked."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from flask import Response, current_app, flash, g, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from icalendar import Event as VEvent
from sqlalchemy import select

from campaign import db, plaintext
from campaign.accounts.scope import Access, access
from campaign.events import calendar, feeds, invitations, meetings
from campaign.events.models import Event
from campaign.events.views.base import bp, event_or_404, in_feed
from campaign.network.models import Campaign, Membership, Organisation
from campaign.security import TokenError
from campaign.timing import current_clock


def _published(event: Event, now: datetime) -> VEvent:
    """The event as it appears in a downloaded file or a feed: no attendee, no method."""
    return calendar.vevent(
        event,
        stamp=now,
        organiser=invitations.organiser_of(db.session(), event),
        description=event.description_md,
    )


def _published_all(events: Iterable[Event], now: datetime) -> list[VEvent]:
    """The events of a feed; one that cannot be built is left out with a warning, the rest
    still reach the calendar apps."""
    items = []
    for event in events:
        try:
            items.append(_published(event, now))
        except Exception:  # one bad row must never take every member's calendar down
            current_app.logger.warning("calendar feed: event %s left out", event.id, exc_info=True)
    return items


def ics(event: Event) -> Response:
    """The event as a calendar file to download."""
    body = calendar.calendar_of("PUBLISH", [_published(event, current_clock().now())])
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="event-{event.id}.ics"'
    return response


@bp.get("/organisations/<org>/events/<int:event_id>/event.ics")
@access(Access.ORGANISATION)
def download(event_id: int) -> ResponseReturnValue:
    """The event as a calendar file."""
    return ics(event_or_404(event_id))


@bp.get("/calendar/<token>.ics")
@access(Access.PUBLIC)
def feed(token: str) -> ResponseReturnValue:
    """A member's events as a calendar to subscribe to; the signed address is the key."""
    try:
        organisation = feeds.organisation_for(db.session(), token)
    except (TokenError, feeds.FeedReplaced) as error:
        return _feed_refused(error)
    return _feed(organisation)


def _feed_refused(error: TokenError | feeds.FeedReplaced) -> Response:
    """Say why a feed address does not work: expired, forged, or replaced."""
    if isinstance(error, feeds.FeedReplaced):
        text = _(
            "This calendar address has been replaced and no longer works. Ask your"
            " organisation's representative for the new one."
        )
        return _feed_gone(text, 410)
    if error.expired:
        return _feed_gone(_("This calendar address has expired."), 410)
    return _feed_gone(_("This calendar address is not valid."), 404)


def _feed(organisation: Organisation) -> Response:
    """Return the member's events of each of its campaigns as a calendar, named after the
    campaigns and the member."""
    events = db.session().scalars(in_feed(organisation.id).order_by(Event.starts_at))
    items = _published_all(events, current_clock().now())
    campaigns = ", ".join(c.name for c in _campaigns_of(organisation))
    name = plaintext.one_line(f"{campaigns} – {organisation.short_name}")
    response = Response(calendar.calendar_of(None, items, name=name), mimetype="text/calendar")
    response.headers["Cache-Control"] = "private, max-age=900"
    return response


def _campaigns_of(organisation: Organisation) -> list[Campaign]:
    """Return the campaigns the organisation is a member of, the earliest first."""
    query = (
        select(Campaign)
        .join(Membership, Membership.campaign_id == Campaign.id)
        .where(Membership.organisation_id == organisation.id)
        .order_by(Campaign.starts_on, Campaign.id)
    )
    return list(db.session().scalars(query))


def _feed_gone(text: str, status: int) -> Response:
    """A plain sentence for calendar apps, which show an answer's status and text, not HTML."""
    response = Response(text + "\n", status=status, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/organisations/<org>/events/calendar-address")
@access(Access.ORGANISATION)
def replace_feed() -> ResponseReturnValue:
    """Give the member a new calendar address; the old one stops working at once."""
    meetings.replace_feed(db.session(), g.organisation, current_user, g.campaign.id)
    db.session().commit()
    flash(_new_address_text(), "success")
    return redirect(url_for("events.index", org=g.organisation.slug) + "#feed-heading")


def _new_address_text() -> str:
    """Say that the calendar's address is new, and what to do with it."""
    return _(
        "The calendar has a new address. The old address no longer works: give the new one"
        " to everyone who subscribed."
    )
