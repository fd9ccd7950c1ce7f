"""Events in the web UI: plan, invite, change, cancel, mark attendance; answers and calendars.

Staff pages live under the organisation that holds the event, so `accounts.scope` has already
turned away other members' representatives. Events for the whole campaign and the working group
are held by the lead organisation and changed by the lead administrator only.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale, format_number, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from icalendar import Event as VEvent
from sqlalchemy import func, or_, select

from campaign import db, labels, plaintext
from campaign.accounts.models import User
from campaign.accounts.scope import Access, access, scoped
from campaign.audit import record
from campaign.drip.materialize import offers_next_date
from campaign.enrolment.models import Participant, PilotGroup
from campaign.events import calendar, fanout, feeds, invitations
from campaign.events.forms import EventForm
from campaign.events.models import (
    STILL_INVITED,
    Audience,
    Event,
    EventKind,
    Fanout,
    FanoutKind,
    FanoutState,
    Invitation,
    Rsvp,
)
from campaign.network.members import campaign_or_404
from campaign.network.models import Campaign
from campaign.outbox import unsubscribe
from campaign.security import TokenError
from campaign.timing import current_clock

bp = Blueprint("events", __name__)
NETWORK_AUDIENCES = (Audience.CAMPAIGN, Audience.WORKING_GROUP)


def init_app(app: Flask) -> None:
    """Register the views."""
    app.register_blueprint(bp)
    app.jinja_env.globals["Rsvp"] = Rsvp


def _event(event_id: int) -> Event:
    event = db.session().scalar(
        select(Event).where(Event.id == event_id, Event.organisation_id == g.organisation.id)
    )
    if event is None:
        abort(404)
    return event


def _may_change(event: Event) -> bool:
    return event.audience not in NETWORK_AUDIENCES or current_user.is_lead_admin


def _visible(campaign: Campaign, organisation_id: int):  # type: ignore[no-untyped-def]
    """Events a member sees: its own, and those for the whole campaign."""
    return select(Event).where(
        Event.campaign_id == campaign.id,
        or_(Event.organisation_id == organisation_id, Event.audience.in_(NETWORK_AUDIENCES)),
    )


@bp.get("/organisations/<org>/events")
@access(Access.ORGANISATION)
def index():  # type: ignore[no-untyped-def]
    campaign = campaign_or_404()
    organisation = g.organisation
    events = list(
        db.session().scalars(_visible(campaign, organisation.id).order_by(Event.starts_at))
    )
    counts = {
        (event_id, rsvp): n
        for event_id, rsvp, n in db.session().execute(
            select(Invitation.event_id, Invitation.rsvp, func.count())
            .where(Invitation.event_id.in_([e.id for e in events]))
            .group_by(Invitation.event_id, Invitation.rsvp)
        )
    }
    return render_template(
        "events/index.html",
        organisation=organisation,
        events=events,
        counts=counts,
        now=current_clock().now(),
        feed=url_for("events.feed", token=feeds.token(organisation), _external=True),
    )


def _form(event: Event | None, campaign: Campaign) -> EventForm:
    organisation = g.organisation
    form = EventForm(obj=event)
    audiences = [Audience.PILOT_GROUP, Audience.ORGANISATION]
    if current_user.is_lead_admin and organisation.id == campaign.lead_organisation_id:
        audiences += list(NETWORK_AUDIENCES)
    form.audience.choices = labels.choices(audiences)
    groups = db.session().scalars(
        select(PilotGroup)
        .where(PilotGroup.organisation_id == organisation.id)
        .order_by(PilotGroup.name)
    )
    form.pilot_group.choices = [(0, "–")] + [(gr.id, gr.name) for gr in groups]
    if request.method == "GET":
        if event is None:
            form.timezone.data = campaign.timezone
            form.reminders.data = "24h, 1h"
            form.audience.data = Audience.ORGANISATION.value
        else:
            zone = calendar.zone_of(event)
            start, end = event.starts_at.astimezone(zone), event.ends_at.astimezone(zone)
            form.day.data, form.starts.data, form.ends.data = start.date(), start.time(), end.time()
            form.audience.data = event.audience.value
            form.pilot_group.data = event.pilot_group_id or 0
            form.kind.data = event.kind.value
    return form


def _values(form: EventForm) -> dict[str, object] | None:
    """Return the event's new values from a valid form, or None (with errors added)."""
    zone = ZoneInfo((form.timezone.data or "").strip())
    audience = Audience(form.audience.data)
    group_id = form.pilot_group.data or None
    if audience is Audience.PILOT_GROUP:
        valid = {choice[0] for choice in form.pilot_group.choices if choice[0]}  # type: ignore[union-attr]
        if group_id not in valid:
            form.pilot_group.errors = [_("Choose the pilot group that is invited.")]
            return None
    else:
        group_id = None
    instants = form.instants()
    if instants is None:
        return None
    return {
        "kind": EventKind(form.kind.data),
        "title": " ".join((form.title.data or "").split()),
        "description_md": (form.description_md.data or "").strip(),
        "starts_at": instants[0],
        "ends_at": instants[1],
        "timezone": str(zone),
        "join_url": (form.join_url.data or "").strip(),
        "room": (form.room.data or "").strip(),
        "capacity": form.capacity.data,
        "audience": audience,
        "pilot_group_id": group_id,
        "reminders": (form.reminders.data or "").strip(),
    }


@bp.route("/organisations/<org>/events/new", methods=["GET", "POST"])
@access(Access.ORGANISATION)
def new():  # type: ignore[no-untyped-def]
    campaign = campaign_or_404()
    form = _form(None, campaign)
    if form.validate_on_submit() and (values := _values(form)) is not None:
        now = current_clock().now()
        event = Event(
            campaign_id=campaign.id,
            organisation_id=g.organisation.id,
            organiser_id=current_user.id,
            uid=invitations.new_uid(current_app.config["CAMPAIGN_BASE_URL"]),
            sequence=0,
            created_at=now,
            updated_at=now,
            **values,
        )
        db.session().add(event)
        db.session().flush()
        record(
            db.session(),
            current_user,
            "event.created",
            organisation_id=g.organisation.id,
            target=f"event:{event.id}",
            title=event.title,
        )
        db.session().commit()
        flash(_("The event is saved. Send the invitations when you are ready."), "success")
        return redirect(url_for("events.show", org=g.organisation.slug, event_id=event.id))
    return render_template("events/form.html", organisation=g.organisation, form=form, event=None)


@bp.route("/organisations/<org>/events/<int:event_id>/edit", methods=["GET", "POST"])
@access(Access.ORGANISATION)
def edit(event_id: int):  # type: ignore[no-untyped-def]
    campaign = campaign_or_404()
    event = _event(event_id)
    if not _may_change(event) or event.is_cancelled:
        abort(403)
    form = _form(event, campaign)
    if form.validate_on_submit() and (values := _values(form)) is not None:
        updates = invitations.change(db.session(), event, values, current_clock().now())
        record(
            db.session(),
            current_user,
            "event.changed",
            organisation_id=event.organisation_id,
            target=f"event:{event.id}",
            sequence=event.sequence,
        )
        db.session().commit()
        if updates:
            flash(
                _("The event is changed; %(n)d invitees get the new time and place.", n=updates),
                "success",
            )
        else:
            flash(_("The event is saved."), "success")
        return redirect(url_for("events.show", org=g.organisation.slug, event_id=event.id))
    return render_template("events/form.html", organisation=g.organisation, form=form, event=event)


@bp.get("/organisations/<org>/events/<int:event_id>")
@access(Access.ORGANISATION)
def show(event_id: int):  # type: ignore[no-untyped-def]
    event = _event(event_id)
    # A meeting for the whole network belongs to the lead organisation, whose representatives
    # see it; of its invitees they see only their own organisation's people.
    invitees = select(Invitation, Participant, User).outerjoin(
        Participant, Participant.id == Invitation.participant_id
    )
    invitees = invitees.outerjoin(User, User.id == Invitation.user_id).where(
        Invitation.event_id == event.id
    )
    rows = (
        db.session()
        .execute(
            scoped(
                invitees, func.coalesce(Participant.organisation_id, User.organisation_id)
            ).order_by(Invitation.rsvp, Invitation.responded_at, Invitation.id)
        )
        .all()
    )
    tally = {r: sum(1 for i, _p, _u in rows if i.rsvp is r) for r in Rsvp}
    mailing = fanout.latest(db.session(), event) if _may_change(event) else None
    return render_template(
        "events/show.html",
        organisation=g.organisation,
        event=event,
        rows=rows,
        not_yet=invitations.uninvited_count(db.session(), event),
        tally=tally,
        mailing=mailing,
        mailing_text=_mailing_text(mailing) if mailing else "",
        may_change=_may_change(event),
        group=db.session().get(PilotGroup, event.pilot_group_id) if event.pilot_group_id else None,
        when=invitations.when_text(event, "sv"),
        now=current_clock().now(),
    )


def _mailing_text(mailing: Fanout) -> str:
    """Say how far an event's calendar mail has come: "412 of 10,000 invitations are queued"."""
    done, total = format_number(mailing.done), format_number(mailing.total)
    if mailing.state is not FanoutState.DONE:
        return {
            FanoutKind.INVITATION: _("%(done)s of %(total)s invitations are queued."),
            FanoutKind.UPDATE: _("%(done)s of %(total)s notices of the change are queued."),
            FanoutKind.CANCEL: _("%(done)s of %(total)s notices of the cancellation are queued."),
        }[mailing.kind] % {"done": done, "total": total}
    n = mailing.done
    if mailing.kind is FanoutKind.UPDATE:
        return ngettext(
            "%(count)s notice of the change is queued.",
            "All %(count)s notices of the change are queued.",
            n,
            count=done,
        )
    if mailing.kind is FanoutKind.CANCEL:
        return ngettext(
            "%(count)s notice of the cancellation is queued.",
            "All %(count)s notices of the cancellation are queued.",
            n,
            count=done,
        )
    return ngettext(
        "%(count)s invitation is queued.", "All %(count)s invitations are queued.", n, count=done
    )


@bp.post("/organisations/<org>/events/<int:event_id>/invite")
@access(Access.ORGANISATION)
def invite(event_id: int):  # type: ignore[no-untyped-def]
    """Invite the audience; a large one is mailed by the clock's job while the page shows how far
    it has come."""
    event = _event(event_id)
    if not _may_change(event):
        abort(403)
    count = invitations.invite(db.session(), event, current_clock().now())
    record(
        db.session(),
        current_user,
        "event.invited",
        organisation_id=event.organisation_id,
        target=f"event:{event.id}",
        count=count,
    )
    db.session().commit()
    mailing = fanout.latest(db.session(), event)
    if mailing is not None and mailing.state is not FanoutState.DONE:
        flash(
            _(
                "%(n)s people are invited; their invitations are being queued.",
                n=format_number(count),
            ),
            "success",
        )
    else:
        flash(_("%(n)d invitations are on their way.", n=count), "success")
    return redirect(url_for("events.show", org=g.organisation.slug, event_id=event.id))


@bp.get("/organisations/<org>/events/<int:event_id>/mailing.json")
@access(Access.ORGANISATION)
def mailing_progress(event_id: int):  # type: ignore[no-untyped-def]
    """How far the event's calendar mail has come, for the progress bar's script."""
    event = _event(event_id)
    if not _may_change(event):  # the network's mailing is the lead administrator's to follow
        abort(404)
    mailing = fanout.latest(db.session(), event)
    if mailing is None:
        return {"state": "none", "done": 0, "total": 0, "text": "", "finished": True}
    return {
        "state": mailing.state.value,
        "done": mailing.done,
        "total": mailing.total,
        "text": _mailing_text(mailing),
        "finished": mailing.state is FanoutState.DONE,
    }


@bp.route("/organisations/<org>/events/<int:event_id>/cancel", methods=["GET", "POST"])
@access(Access.ORGANISATION)
def cancel(event_id: int):  # type: ignore[no-untyped-def]
    """GET asks whether to cancel, naming how many are told; the POST cancels."""
    event = _event(event_id)
    if not _may_change(event):
        abort(403)
    if request.method == "GET" or event.is_cancelled:
        told = db.session().scalar(
            select(func.count())
            .select_from(Invitation)
            .where(Invitation.event_id == event.id, Invitation.rsvp.in_(STILL_INVITED))
        )
        return render_template(
            "events/cancel.html", organisation=g.organisation, event=event, told=told
        )
    count = invitations.cancel(db.session(), event, current_clock().now())
    record(
        db.session(),
        current_user,
        "event.cancelled",
        organisation_id=event.organisation_id,
        target=f"event:{event.id}",
    )
    db.session().commit()
    flash(_("The event is cancelled; %(n)d invitees are told.", n=count), "success")
    return redirect(url_for("events.show", org=g.organisation.slug, event_id=event.id))


@bp.route("/organisations/<org>/events/<int:event_id>/attendance", methods=["GET", "POST"])
@access(Access.ORGANISATION)
def attendance(event_id: int):  # type: ignore[no-untyped-def]
    event = _event(event_id)
    if not _may_change(event):
        abort(403)
    if event.is_cancelled:  # nobody came to a meeting that was not held
        return render_template(
            "events/attendance.html", organisation=g.organisation, event=event, rows=[]
        ), (409 if request.method == "POST" else 200)
    if request.method == "POST":
        chosen = {i for v in request.form.getlist("attended") if (i := db.id_from(v))}
        came, missed = invitations.mark_attendance(db.session(), event, chosen, current_user)
        db.session().commit()
        flash(
            _("Attendance saved: %(came)d came, %(missed)d did not.", came=came, missed=missed),
            "success",
        )
        return redirect(url_for("events.show", org=g.organisation.slug, event_id=event.id))
    rows = (
        db.session()
        .execute(
            select(Invitation, Participant, User)
            .outerjoin(Participant, Participant.id == Invitation.participant_id)
            .outerjoin(User, User.id == Invitation.user_id)
            .where(Invitation.event_id == event.id, Invitation.rsvp != Rsvp.DECLINED)
            .order_by(Participant.name, User.name)
        )
        .all()
    )
    return render_template(
        "events/attendance.html", organisation=g.organisation, event=event, rows=rows
    )


def _published(event: Event, now: datetime):  # type: ignore[no-untyped-def]
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


def _ics(event: Event) -> Response:
    body = calendar.calendar_of("PUBLISH", [_published(event, current_clock().now())])
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="event-{event.id}.ics"'
    return response


@bp.get("/organisations/<org>/events/<int:event_id>/event.ics")
@access(Access.ORGANISATION)
def download(event_id: int):  # type: ignore[no-untyped-def]
    return _ics(_event(event_id))


@bp.get("/calendar/<token>.ics")
@access(Access.PUBLIC)
def feed(token: str):  # type: ignore[no-untyped-def]
    """A member's events as a calendar to subscribe to; the signed address is the key."""
    try:
        organisation = feeds.organisation_for(db.session(), token)
    except TokenError as error:
        if error.expired:
            return _feed_gone(_("This calendar address has expired."), 410)
        return _feed_gone(_("This calendar address is not valid."), 404)
    except feeds.FeedReplaced:
        return _feed_gone(
            _(
                "This calendar address has been replaced and no longer works. Ask your"
                " organisation's representative for the new one."
            ),
            410,
        )
    campaign = campaign_or_404()
    events = db.session().scalars(_visible(campaign, organisation.id).order_by(Event.starts_at))
    items = _published_all(events, current_clock().now())
    name = plaintext.one_line(f"{campaign.name} – {organisation.short_name}")
    body = calendar.calendar_of(None, items, name=name)
    response = Response(body, mimetype="text/calendar")
    response.headers["Cache-Control"] = "private, max-age=900"
    return response


def _feed_gone(text: str, status: int) -> Response:
    """A plain sentence for calendar apps, which show an answer's status and text, not HTML."""
    response = Response(text + "\n", status=status, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/organisations/<org>/events/calendar-address")
@access(Access.ORGANISATION)
def replace_feed():  # type: ignore[no-untyped-def]
    """Give the member a new calendar address; the old one stops working at once."""
    organisation = g.organisation
    feeds.replace(organisation)
    record(
        db.session(),
        current_user,
        "calendar_feed.replaced",
        organisation_id=organisation.id,
        target=f"organisation:{organisation.id}",
    )
    db.session().commit()
    flash(
        _(
            "The calendar has a new address. The old address no longer works: give the new one"
            " to everyone who subscribed."
        ),
        "success",
    )
    return redirect(url_for("events.index", org=organisation.slug) + "#feed-heading")


# Answering: the signed links of the invitation mail -------------------------------------


ANSWERS = {"accepted": Rsvp.ACCEPTED, "declined": Rsvp.DECLINED, "tentative": Rsvp.TENTATIVE}


def _invitation_or_error(token: str):  # type: ignore[no-untyped-def]
    try:
        found = invitations.invitation_for(db.session(), token)
    except TokenError as error:
        text = _("This link has expired.") if error.expired else _("This link is not valid.")
        return None, (render_template("outbox/link_error.html", text=text), 400)
    if found is None:
        return None, (
            render_template("outbox/link_error.html", text=_("We have no data about you.")),
            410,
        )
    return found, None


@bp.route("/rsvp/<token>", methods=["GET", "POST"])
@access(Access.PUBLIC)
def rsvp(token: str):  # type: ignore[no-untyped-def]
    """GET shows the event and three buttons; the POST records the answer (mail scanners that
    open links answer nothing)."""
    invitation, problem = _invitation_or_error(token)
    if problem:
        return problem
    event = db.session().get(Event, invitation.event_id)
    person = (
        db.session().get(Participant, invitation.participant_id)
        if invitation.participant_id
        else db.session().get(User, invitation.user_id)
    )
    now = current_clock().now()
    over = event.ends_at <= now
    # Someone no mail reaches (unsubscribed, or their address bounced) would not hear of a new
    # time or a cancellation: they may say no, but not take a place (README, "Threat model").
    unreachable = isinstance(person, Participant) and person.status in unsubscribe.STOPPED
    done = None
    if request.method == "POST":
        answer = ANSWERS.get(request.form.get("answer", ""))
        if answer is None:
            abort(400)
        if not over and not event.is_cancelled and (answer is Rsvp.DECLINED or not unreachable):
            done = invitations.respond(db.session(), invitation, answer, now)
            db.session().commit()
    with force_locale(person.language):
        return render_template(
            "events/rsvp.html",
            event=event,
            invitation=invitation,
            token=token,
            suggested=request.args.get("answer", ""),
            done=done,
            over=over,
            when=invitations.when_text(event, person.language),
            where=calendar.location_of(event),
            next_date_offered=_next_date_offered(person, event),
            unreachable=unreachable,
            organiser=invitations.organiser_of(db.session(), event),
        )


def _next_date_offered(person: Participant | User, event: Event) -> bool:
    """Whether the person's e-mail sequence offers them the next date if they do not come."""
    if not isinstance(person, Participant) or person.pilot_group_id is None:
        return False
    group = db.session().get(PilotGroup, person.pilot_group_id)
    return offers_next_date(group.sequence_name if group else None, event.kind)


@bp.get("/rsvp/<token>/event.ics")
@access(Access.PUBLIC)
def rsvp_calendar(token: str):  # type: ignore[no-untyped-def]
    invitation, problem = _invitation_or_error(token)
    if problem:
        return problem
    return _ics(db.session().get(Event, invitation.event_id))
