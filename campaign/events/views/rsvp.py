"""Answering an invitation through the signed links of its mail: a page with the meeting and
three buttons, and the meeting as a calendar file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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
from campaign.outbox.views import link_error, token_error
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
        raise LinkProblem(token_error(error)) from None
    if found is None:
        raise LinkProblem(link_error(_("We have no data about you."), 410))
    event = db.session().get(Event, found.event_id)
    person = _invitee(found)
    assert event is not None and person is not None  # rows the invitation's keys hold on to
    return found, event, person


def _invitee(invitation: Invitation) -> Participant | User | None:
    """Return the participant, or the staff member, the invitation is for."""
    if invitation.participant_id:
        return db.session().get(Participant, invitation.participant_id)
    return db.session().get(User, invitation.user_id)


@bp.route("/rsvp/<token>", methods=["GET", "POST"])
@access(Access.PUBLIC)
def rsvp(token: str) -> ResponseReturnValue:
    """GET shows the event and three buttons; the POST records the answer (mail scanners that
    open links answer nothing)."""
    try:
        link = _Link(token, *_invitation(token), current_clock().now())
    except LinkProblem as problem:
        return problem.page
    done = None
    if request.method == "POST" and link.takes(answer := _posted_answer()):
        done = _respond(link.invitation, answer)
    with force_locale(link.person.language):
        return _page(link, done)


@dataclass(frozen=True)
class _Link:
    """What an RSVP link leads to, at the moment it is used."""

    token: str
    invitation: Invitation
    event: Event
    person: Participant | User
    now: datetime

    @property
    def over(self) -> bool:
        """Whether the event has ended."""
        return self.event.ends_at <= self.now

    @property
    def unreachable(self) -> bool:
        """Whether no mail reaches the person (they unsubscribed): they would not hear of a new
        time or a cancellation, so they may say no, but not take a place (README, "Threat
        model")."""
        return isinstance(self.person, Participant) and self.person.status in STOPPED

    def takes(self, answer: Rsvp) -> bool:
        """Whether the answer can still be recorded."""
        if self.over or self.event.is_cancelled:
            return False
        return answer is Rsvp.DECLINED or not self.unreachable


def _page(link: _Link, done: Rsvp | None) -> str:
    """Render the event with the three buttons, and the answer just recorded if any."""
    event, person = link.event, link.person
    return render_template(
        "events/rsvp.html",
        event=event,
        invitation=link.invitation,
        token=link.token,
        suggested=request.args.get("answer", ""),
        done=done,
        over=link.over,
        when=invitations.when_text(event, person.language),
        where=calendar.location_of(event),
        next_date_offered=_next_date_offered(person, event),
        unreachable=link.unreachable,
        organiser=invitations.organiser_of(db.session(), event),
    )


def _posted_answer() -> Rsvp:
    """Return the answer the button sent; a 400 for anything else."""
    answer = ANSWERS.get(request.form.get("answer", ""))
    if answer is None:
        abort(400)
    return answer


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
    """The invitation's event as a calendar file."""
    try:
        _invitation_found, event, _person = _invitation(token)
    except LinkProblem as problem:
        return problem.page
    return ics(event)
