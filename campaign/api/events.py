"""The API's meetings and trainings: listed, shown, planned, changed and cancelled, by the same
rules and the same form as the member's meeting pages (campaign/events/views/meetings.py).

A meeting is the member's that holds it: its operations live under /members/{org}/events, where
the pages have them. Those for the whole campaign or the working group are held by the lead
organisation and changed by the lead administrator only. A new meeting's values are checked by
the page's own form, so the API refuses what the page refuses, in the same words.
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import Enum
from typing import Any, Literal

from flask import current_app, g, url_for
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import BaseModel, Field
from spectree import Response
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from campaign import db
from campaign.accounts.scope import Access, is_lead_admin
from campaign.api.core import Page, PageQuery, bp, check_if_match, operation, page, tagged
from campaign.api.problems import Problem
from campaign.events import calendar, meetings
from campaign.events.forms import EventForm
from campaign.events.models import Audience, EventKind, EventState
from campaign.events.models import Event as Row
from campaign.events.views.base import changeable_or_403, event_or_404, may_change, visible
from campaign.events.views.meetings import event_form, form_values
from campaign.network.models import Organisation
from campaign.timing import current_clock

TIME = "%H:%M"
# The API's field names where the page's form names a field otherwise.
FORM_NAMES = {"pilot_group_id": "pilot_group"}


class Event(BaseModel):
    """A practice meeting, training, working-group meeting or webinar, held by a member (those
    for the whole campaign and the working group by the lead organisation)."""

    id: int
    member: str = Field(description="The slug of the member organisation that holds it.")
    kind: EventKind
    audience: Audience = Field(
        description="Who is invited: a pilot group, the member's participants, the whole "
        "campaign's, or the members' staff (the working group)."
    )
    pilot_group_id: int | None = Field(description="The pilot group invited, if the audience.")
    title: str
    description_md: str = Field(description="What it is for, in Markdown.")
    starts_at: datetime = Field(description="The start, as an instant (UTC).")
    ends_at: datetime = Field(description="The end, as an instant (UTC).")
    day: date = Field(description="The day, in its own time zone.")
    starts: str = Field(description="The start as HH:MM, in its own time zone.")
    ends: str = Field(description="The end as HH:MM, in its own time zone.")
    timezone: str = Field(description="IANA time zone of its day and times.")
    join_url: str = Field(description="The link to the web meeting, if any.")
    room: str
    capacity: int | None = Field(description="Places; null for no limit.")
    reminders: str = Field(description="Reminders before the start, e.g. 24h, 1h or 30m.")
    state: EventState = Field(description="Where it stands now: planned, started, over, cancelled.")
    sequence: int = Field(
        description="Its version in the invitees' calendars (raised by a change)."
    )
    may_change: bool = Field(description="Whether the caller may change, invite to and cancel it.")
    created_at: datetime
    updated_at: datetime


class EventPage(Page):
    items: list[Event]


class EventQuery(PageQuery):
    when: Literal["upcoming", "past"] | None = Field(
        None, description="upcoming: not over yet (cancelled ones too); past: over."
    )
    member: str | None = Field(
        None, max_length=64, description="Only the events held by this member (its slug)."
    )


class NewEvent(BaseModel):
    """A meeting to plan: the fields of the page's form. Nobody is invited yet."""

    kind: EventKind = EventKind.PRACTICE_MEETING
    title: str
    description_md: str = Field("", description="What it is for and how to prepare (Markdown).")
    day: date = Field(description="The day, in `timezone`.")
    starts: time = Field(description="The start (HH:MM), in `timezone`.")
    ends: time = Field(description="The end (HH:MM) on the same day, after the start.")
    timezone: str | None = Field(None, description="IANA name; the campaign's zone if left out.")
    join_url: str = Field("", description="The link to the web meeting (http or https).")
    room: str = ""
    capacity: int | None = Field(None, description="Places; null or left out for no limit.")
    audience: Audience = Field(
        Audience.ORGANISATION,
        description="pilot_group or organisation; campaign and working_group only for the lead "
        "administrator, on the lead organisation's events.",
    )
    pilot_group_id: int | None = Field(
        None, description="The invited pilot group, if the audience."
    )
    reminders: str = Field("24h, 1h", description="Before the start, e.g. 24h, 1h or 30m.")


class EventChange(BaseModel):
    """The fields to change (those left out keep their values). A new time, place or title sends
    each invitee who has not declined an update."""

    kind: EventKind | None = None
    title: str | None = None
    description_md: str | None = None
    day: date | None = None
    starts: time | None = None
    ends: time | None = None
    timezone: str | None = None
    join_url: str | None = None
    room: str | None = None
    capacity: int | None = Field(None, description="Places; null for no limit.")
    audience: Audience | None = None
    pilot_group_id: int | None = None
    reminders: str | None = None


def describe(event: Row, member: str) -> Event:
    """Return the event as the API shows it."""
    zone = calendar.zone_of(event)
    start, end = event.starts_at.astimezone(zone), event.ends_at.astimezone(zone)
    return Event(
        id=event.id, member=member, kind=event.kind, audience=event.audience,
        pilot_group_id=event.pilot_group_id, title=event.title,
        description_md=event.description_md, starts_at=event.starts_at, ends_at=event.ends_at,
        day=start.date(), starts=start.strftime(TIME), ends=end.strftime(TIME),
        timezone=event.timezone, join_url=event.join_url, room=event.room,
        capacity=event.capacity, reminders=event.reminders,
        state=event.state_at(current_clock().now()), sequence=event.sequence,
        may_change=may_change(event), created_at=event.created_at, updated_at=event.updated_at,
    )  # fmt: skip


@bp.get("/events")
@operation(Access.STAFF, "events", query=EventQuery, resp=Response(HTTP_200=EventPage))
def list_events(query: EventQuery) -> EventPage:
    """List the events the caller sees: a representative the member's own and those for the
    whole campaign, the lead administrator all of the campaign's; in the order they were added."""
    if is_lead_admin():
        statement = select(Row).where(Row.campaign_id == g.campaign.id)
    else:
        statement = visible(g.campaign, current_user.organisation_id)
    now = current_clock().now()
    if query.when is not None:
        statement = statement.where(
            Row.ends_at > now if query.when == "upcoming" else Row.ends_at <= now
        )
    if query.member is not None:
        holder = select(Organisation.id).where(Organisation.slug == query.member)
        statement = statement.where(Row.organisation_id == holder.scalar_subquery())
    rows, cursor = page(statement, Row.id, query)
    slugs = slugs_of({event.organisation_id for event in rows})
    items = [describe(event, slugs.get(event.organisation_id or 0, "")) for event in rows]
    return EventPage(items=items, next_cursor=cursor)


def slugs_of(organisation_ids: set[int | None]) -> dict[int, str]:
    """Return the slugs of these organisations, by id."""
    query = select(Organisation.id, Organisation.slug).where(Organisation.id.in_(organisation_ids))
    return {id_: slug for id_, slug in db.session().execute(query)}


@bp.get("/members/<org>/events/<int:event_id>")
@operation(Access.ORGANISATION, "events", resp=Response(HTTP_200=Event))
def show_event(event_id: int) -> tuple[BaseModel, int, dict[str, str]]:
    """Show one of the member's events, with the ETag to send as If-Match when changing it."""
    return tagged(describe(event_or_404(event_id), g.organisation.slug))


@bp.post("/members/<org>/events")
@operation(Access.ORGANISATION, "events", json=NewEvent,
           resp=Response(HTTP_201=Event), idempotent=True)  # fmt: skip
def create_event(json: NewEvent) -> tuple[BaseModel, int, dict[str, str]]:
    """Plan a meeting of the member; nobody is invited until `invite_to_event`."""
    wanted = json.model_dump()
    wanted["timezone"] = wanted["timezone"] or g.campaign.timezone
    event = meetings.plan(
        db.session(), _checked(wanted, None),
        campaign_id=g.campaign.id, organisation_id=g.organisation.id, organiser=current_user,
        now=current_clock().now(), base_url=current_app.config["CAMPAIGN_BASE_URL"],
    )  # fmt: skip
    db.session().commit()
    where = url_for("api.show_event", org=g.organisation.slug, event_id=event.id)
    return tagged(describe(event, g.organisation.slug), 201, Location=where)


@bp.patch("/members/<org>/events/<int:event_id>")
@operation(Access.ORGANISATION, "events", json=EventChange,
           resp=Response(HTTP_200=Event), conditional=True, problems=(409,))  # fmt: skip
def update_event(event_id: int, json: EventChange) -> tuple[BaseModel, int, dict[str, str]]:
    """Change a meeting; a new time, place or title sends each invitee who has not declined
    the new version of the calendar invitation."""
    event = open_or_409(changeable_or_403(event_id))
    check_if_match(describe(event, g.organisation.slug))
    values = _checked({**_current(event), **json.model_dump(exclude_unset=True)}, event)
    meetings.change(db.session(), event, values, current_clock().now(), current_user)
    db.session().commit()
    return tagged(describe(event, g.organisation.slug))


@bp.post("/members/<org>/events/<int:event_id>/cancel")
@operation(Access.ORGANISATION, "events", resp=Response(HTTP_200=Event))
def cancel_event(event_id: int) -> tuple[BaseModel, int, dict[str, str]]:
    """Cancel a meeting: everyone invited who has not declined is sent the cancellation. A
    meeting cancelled already stays as it is."""
    event = changeable_or_403(event_id)
    if not event.is_cancelled:
        meetings.cancel(db.session(), event, current_clock().now(), current_user)
        db.session().commit()
    return tagged(describe(event, g.organisation.slug))


def open_or_409(event: Row) -> Row:
    """Return the event unless it is cancelled: then nothing more can be done to it."""
    if event.is_cancelled:
        raise Problem(
            409,
            _("The event is cancelled: it cannot be changed, and nobody can be invited to it."),
            code="event_cancelled",
        )
    return event


def _current(event: Row) -> dict[str, Any]:
    """The event's values as the page's form shows them."""
    shown = describe(event, "")
    return {
        "kind": event.kind, "title": event.title, "description_md": event.description_md,
        "day": shown.day, "starts": shown.starts, "ends": shown.ends, "timezone": event.timezone,
        "join_url": event.join_url, "room": event.room, "capacity": event.capacity,
        "audience": event.audience, "pilot_group_id": event.pilot_group_id,
        "reminders": event.reminders,
    }  # fmt: skip


def _checked(values: dict[str, Any], event: Row | None) -> dict[str, Any]:
    """Return the event's values as the page's form makes them of `values`; a problem naming
    each field the form refuses, in its words."""
    formdata = MultiDict({FORM_NAMES.get(k, k): _as_sent(k, v) for k, v in values.items()})
    form = event_form(event, g.campaign, formdata=formdata, meta={"csrf": False})
    checked = form_values(form) if form.validate() else None
    if checked is None:
        raise Problem(422, _("Some fields are not valid."), code="invalid_input",
                      errors=_field_errors(form))  # fmt: skip
    return checked


def _as_sent(name: str, value: Any) -> str:
    """Return a value as a browser sends the form's field."""
    if value is None:
        return "0" if name == "pilot_group_id" else ""
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, time):
        return value.strftime(TIME)
    return value.isoformat() if isinstance(value, date) else str(value)


def _field_errors(form: EventForm) -> list[dict[str, str]]:
    """The form's errors, each under the API's name of its field."""
    api_names = {form_name: name for name, form_name in FORM_NAMES.items()}
    return [
        {"field": api_names.get(name, name), "detail": str(message)}
        for name, messages in form.errors.items()
        for message in messages
    ]
