"""Meetings and trainings: the member's list, the form to plan or change one, its page, and
cancelling it."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from campaign import db, labels
from campaign.accounts.models import User
from campaign.accounts.scope import Access, access, is_lead_admin, of_member, scoped
from campaign.enrolment.models import Participant, PilotGroup
from campaign.events import calendar, fanout, feeds, invitations, meetings, proposals
from campaign.events.forms import EventForm
from campaign.events.letters import mail_goes, span_text
from campaign.events.models import STILL_INVITED, Audience, Event, EventKind, Invitation, Rsvp
from campaign.events.views.base import (
    NETWORK_AUDIENCES,
    bp,
    changeable_or_403,
    event_or_404,
    may_change,
    visible,
)
from campaign.events.views.mailing import mailing_text
from campaign.network.members import campaign_or_404
from campaign.network.models import Campaign
from campaign.outbox.inbound import InboundMessage
from campaign.timing import current_clock


@bp.get("/organisations/<org>/events")
@access(Access.ORGANISATION)
def index() -> ResponseReturnValue:
    organisation = g.organisation
    events = _visible_events(campaign_or_404(), organisation.id)
    return render_template(
        "events/index.html",
        organisation=organisation,
        events=events,
        counts=_answer_counts(events),
        now=current_clock().now(),
        feed=url_for("events.feed", token=feeds.token(organisation), _external=True),
    )


def _visible_events(campaign: Campaign, organisation_id: int) -> list[Event]:
    """Return the events the member sees, by start."""
    query = visible(campaign, organisation_id).order_by(Event.starts_at)
    return list(db.session().scalars(query))


def _answer_counts(events: list[Event]) -> dict[tuple[int, Rsvp], int]:
    """Return how many invitees of each event have given each answer."""
    query = (
        select(Invitation.event_id, Invitation.rsvp, func.count())
        .where(Invitation.event_id.in_([e.id for e in events]))
        .group_by(Invitation.event_id, Invitation.rsvp)
    )
    return {(event_id, rsvp): n for event_id, rsvp, n in db.session().execute(query)}


def event_form(event: Event | None, campaign: Campaign, **options: Any) -> EventForm:
    """The form, with the audiences and pilot groups the user may choose; filled in on GET.
    `options` go to the form (the API gives its own formdata, and no CSRF token)."""
    form = EventForm(obj=event, **options)
    form.audience.choices = labels.choices(_audiences(campaign))
    form.pilot_group.choices = [(0, "–")] + [(gr.id, gr.name) for gr in _member_groups()]
    if request.method == "GET" and event is None:
        form.timezone.data = campaign.timezone
        form.reminders.data = "24h, 1h"
        form.audience.data = Audience.ORGANISATION.value
    elif request.method == "GET" and event is not None:
        _fill(form, event)
    return form


def _audiences(campaign: Campaign) -> list[Audience]:
    """Return whom the user may invite: a pilot group or the member's people; the whole
    network too for the lead administrator, on the lead organisation's pages."""
    audiences = [Audience.PILOT_GROUP, Audience.ORGANISATION]
    if is_lead_admin() and g.organisation.id == campaign.lead_organisation_id:
        audiences += list(NETWORK_AUDIENCES)
    return audiences


def _member_groups() -> list[PilotGroup]:
    """Return the member's pilot groups in the campaign by name."""
    query = select(PilotGroup).where(of_member(PilotGroup)).order_by(PilotGroup.name)
    return list(db.session().scalars(query))


def _fill(form: EventForm, event: Event) -> None:
    """Show the event's day and times in its own zone, and its choices."""
    zone = calendar.zone_of(event)
    start, end = event.starts_at.astimezone(zone), event.ends_at.astimezone(zone)
    form.day.data, form.starts.data, form.ends.data = start.date(), start.time(), end.time()
    form.audience.data = event.audience.value
    form.pilot_group.data = event.pilot_group_id or 0
    form.kind.data = event.kind.value


def form_values(form: EventForm) -> dict[str, Any] | None:
    """Return the event's new values from a valid form, or None (with errors added)."""
    audience = Audience(form.audience.data)
    if not _group_chosen(form, audience):
        return None
    instants = form.instants()
    if instants is None:
        return None
    group_id = (form.pilot_group.data or None) if audience is Audience.PILOT_GROUP else None
    return {
        "kind": EventKind(form.kind.data),
        "title": " ".join((form.title.data or "").split()),
        "description_md": (form.description_md.data or "").strip(),
        "starts_at": instants[0],
        "ends_at": instants[1],
        "timezone": str(ZoneInfo((form.timezone.data or "").strip())),
        "join_url": (form.join_url.data or "").strip(),
        "room": (form.room.data or "").strip(),
        "capacity": form.capacity.data,
        "audience": audience,
        "pilot_group_id": group_id,
        "reminders": (form.reminders.data or "").strip(),
    }


def _group_chosen(form: EventForm, audience: Audience) -> bool:
    """Whether a meeting for a pilot group names one of the member's; if not, say so."""
    if audience is not Audience.PILOT_GROUP:
        return True
    if form.pilot_group.data in {group.id for group in _member_groups()}:
        return True
    form.pilot_group.errors = [_("Choose the pilot group that is invited.")]
    return False


@bp.route("/organisations/<org>/events/new", methods=["GET", "POST"])
@access(Access.ORGANISATION)
def new() -> ResponseReturnValue:
    campaign = campaign_or_404()
    form = event_form(None, campaign)
    if form.validate_on_submit() and (values := form_values(form)) is not None:
        event = _plan(campaign, values)
        db.session().commit()
        flash(_("The event is saved. Send the invitations when you are ready."), "success")
        return redirect(url_for("events.show", org=g.organisation.slug, event_id=event.id))
    return render_template("events/form.html", organisation=g.organisation, form=form, event=None)


def _plan(campaign: Campaign, values: dict[str, Any]) -> Event:
    """Add the member's meeting with the form's values, organised by the user."""
    return meetings.plan(
        db.session(),
        values,
        campaign_id=campaign.id,
        organisation_id=g.organisation.id,
        organiser=current_user,
        now=current_clock().now(),
        base_url=current_app.config["CAMPAIGN_BASE_URL"],
    )


@bp.route("/organisations/<org>/events/<int:event_id>/edit", methods=["GET", "POST"])
@access(Access.ORGANISATION)
def edit(event_id: int) -> ResponseReturnValue:
    campaign = campaign_or_404()
    event = changeable_or_403(event_id)
    if event.is_cancelled:
        abort(403)
    form = event_form(event, campaign)
    if form.validate_on_submit() and (values := form_values(form)) is not None:
        return _changed(event, values)
    return render_template("events/form.html", organisation=g.organisation, form=form, event=event)


def _changed(event: Event, values: dict[str, Any]) -> ResponseReturnValue:
    """Change the meeting, say how many are sent the new time and place, and show it."""
    updates = meetings.change(db.session(), event, values, current_clock().now(), current_user)
    db.session().commit()
    flash(_changed_text(updates), "success")
    return redirect(url_for("events.show", org=g.organisation.slug, event_id=event.id))


def _changed_text(updates: int) -> str:
    """Say that the event is saved, and how many get the new time and place."""
    if updates:
        return _("The event is changed; %(n)d invitees get the new time and place.", n=updates)
    return _("The event is saved.")


@bp.get("/organisations/<org>/events/<int:event_id>")
@access(Access.ORGANISATION)
def show(event_id: int) -> ResponseReturnValue:
    event = event_or_404(event_id)
    rows = _invitees(event)
    mailing = fanout.latest(db.session(), event) if may_change(event) else None
    return render_template(
        "events/show.html",
        organisation=g.organisation,
        event=event,
        rows=rows,
        not_yet=invitations.uninvited_count(db.session(), event),
        tally=_tally(rows),
        mailing=mailing,
        mailing_text=mailing_text(mailing) if mailing else "",
        may_change=may_change(event),
        group=_group_of(event),
        when=invitations.when_text(event, "sv"),
        now=current_clock().now(),
        mail_waits=not mail_goes(db.session(), event, current_clock().now()),
        proposals=_proposals(event),
    )


def _proposals(event: Event) -> list[tuple[proposals.Proposal, str]]:
    """Other times the invitees the user sees have proposed, each with the time as text."""
    query = scoped(proposals.statement(event), InboundMessage.organisation_id)
    return [(found, _span(event, found)) for found in proposals.listed(db.session(), query)]


def _span(event: Event, found: proposals.Proposal) -> str:
    """The proposed time in the meeting's zone, in the page's language ("" if none is read)."""
    if found.starts_at is None or found.ends_at is None:
        return ""
    language = str(get_locale() or "sv")
    return span_text(found.starts_at, found.ends_at, calendar.zone_of(event), language)


def _tally(rows: list[Any]) -> dict[Rsvp, int]:
    """Return how many of the invitees listed have given each answer."""
    return {r: sum(1 for i, _p, _u in rows if i.rsvp is r) for r in Rsvp}


def _group_of(event: Event) -> PilotGroup | None:
    """Return the pilot group the event is for, if it is for one."""
    return db.session().get(PilotGroup, event.pilot_group_id) if event.pilot_group_id else None


def _invitees(event: Event) -> list[Any]:
    """The event's invitations with their people, in order of answer. A meeting for the whole
    network belongs to the lead organisation, whose representatives see it; of its invitees
    they see only their own organisation's people."""
    invitees = (
        select(Invitation, Participant, User)
        .outerjoin(Participant, Participant.id == Invitation.participant_id)
        .outerjoin(User, User.id == Invitation.user_id)
        .where(Invitation.event_id == event.id)
    )
    organisation = func.coalesce(Participant.organisation_id, User.organisation_id)
    statement = scoped(invitees, organisation).order_by(
        Invitation.rsvp, Invitation.responded_at, Invitation.id
    )
    return list(db.session().execute(statement).all())


@bp.route("/organisations/<org>/events/<int:event_id>/cancel", methods=["GET", "POST"])
@access(Access.ORGANISATION)
def cancel(event_id: int) -> ResponseReturnValue:
    """GET asks whether to cancel, naming how many are told; the POST cancels."""
    event = changeable_or_403(event_id)
    if request.method == "GET" or event.is_cancelled:
        told = _still_invited(event)
        return render_template(
            "events/cancel.html", organisation=g.organisation, event=event, told=told
        )
    return _cancelled(event)


def _cancelled(event: Event) -> ResponseReturnValue:
    """Cancel the meeting, say how many are told, and show it."""
    count = meetings.cancel(db.session(), event, current_clock().now(), current_user)
    db.session().commit()
    flash(_("The event is cancelled; %(n)d invitees are told.", n=count), "success")
    return redirect(url_for("events.show", org=g.organisation.slug, event_id=event.id))


def _still_invited(event: Event) -> int:
    """Return how many invitees have not declined: those a cancellation is sent to."""
    query = (
        select(func.count())
        .select_from(Invitation)
        .where(Invitation.event_id == event.id, Invitation.rsvp.in_(STILL_INVITED))
    )
    return db.session().scalar(query) or 0
