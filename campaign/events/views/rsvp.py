"""Answering an invitation through the signed links of its mail: a page with the meeting and
three buttons, and the meeting as a calendar file."""

from __future__ import annotations

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_babel import gettext as _

from campaign import db
from campaign.accounts.models import User
from campaign.accounts.scope import Access, access
from campaign.drip.materialize import offers_next_date
from campaign.enrolment.lifecycle import STOPPED
from campaign.enrolment.models import Participant, PilotGroup
from campaign.events import calendar, invitations
from campaign.events.models import Event, Invitation, Rsvp
from campaign.events.views.base import bp
from campaign.events.views.calendars import ics
from campaign.security import TokenError
from campaign.timing import current_clock

ANSWERS = {"accepted": Rsvp.ACCEPTED, "declined": Rsvp.DECLINED, "tentative": Rsvp.TENTATIVE}


class LinkProblem(Exception):
    """An RSVP link that leads nowhere; `page` says why."""

    def __init__(self, page: ResponseReturnValue) -> None:
        super().__init__()
        self.page = page


def _invitation(token: str) -> tuple[Invitation, Event, Participant | User]:
    """Return the invitation of a link, its event and its person; raise LinkProblem."""
    try:
        found = invitations.invitation_for(db.session(), token)
    except TokenError as error:
        text = _("This link has expired.") if error.expired else _("This link is not valid.")
        raise LinkProblem((render_template("outbox/link_error.html", text=text), 400)) from None
    if found is None:
        text = _("We have no data about you.")
        raise LinkProblem((render_template("outbox/link_error.html", text=text), 410))
    event = db.session().get(Event, found.event_id)
    person = (
        db.session().get(Participant, found.participant_id)
        if found.participant_id
        else db.session().get(User, found.user_id)
    )
    assert event is not None and person is not None  # rows the invitation's keys hold on to
    return found, event, person


@bp.route("/rsvp/<token>", methods=["GET", "POST"])
@access(Access.PUBLIC)
def rsvp(token: str) -> ResponseReturnValue:
    """GET shows the event and three buttons; the POST records the answer (mail scanners that
    open links answer nothing)."""
    try:
        invitation, event, person = _invitation(token)
    except LinkProblem as problem:
        return problem.page
    now = current_clock().now()
    over = event.ends_at <= now
    # Someone no mail reaches (they unsubscribed) would not hear of a new
    # time or a cancellation: they may say no, but not take a place (README, "Threat model").
    unreachable = isinstance(person, Participant) and person.status in STOPPED
    done = None
    if request.method == "POST":
        answer = ANSWERS.get(request.form.get("answer", ""))
        if answer is None:
            abort(400)
        if not over and not event.is_cancelled and (answer is Rsvp.DECLINED or not unreachable):
            done = _respond(invitation, answer)
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


def _respond(invitation: Invitation, answer: Rsvp) -> Rsvp:
    """Record the answer; return the invitation's new state (a yes may join a waiting list)."""
    done = invitations.respond(db.session(), invitation, answer, current_clock().now())
    db.session().commit()
    return done


def _next_date_offered(person: Participant | User, event: Event) -> bool:
    """Whether the person's e-mail sequence offers them the next date if they do not come."""
    if not isinstance(person, Participant) or person.pilot_group_id is None:
        return False
    group = db.session().get(PilotGroup, person.pilot_group_id)
    return offers_next_date(group.sequence_name if group else None, event.kind)


@bp.get("/rsvp/<token>/event.ics")
@access(Access.PUBLIC)
def rsvp_calendar(token: str) -> ResponseReturnValue:
    try:
        _invitation_found, event, _person = _invitation(token)
    except LinkProblem as problem:
        return problem.page
    return ics(event)
