"""Answering an invitation through the signed links of its mail: a page with the meeting and
three buttons, and the meeting as a calendar file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_babel import gettext as _

from campaign import db
from campaign.accounts.models import User
from campaign.accounts.scope import Access, access
from campaign.enrolment.models import Participant
from campaign.events import answers, calendar, invitations
from campaign.events.models import Event, Invitation, Rsvp
from campaign.events.next_date import NextDate, next_date
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
        return answers.is_over(self.event, self.now)

    @property
    def unreachable(self) -> bool:
        """Whether no mail reaches the person: they may say no, but not take a place."""
        return answers.is_unreachable(self.person)

    def takes(self, answer: Rsvp) -> bool:
        """Whether the answer can still be recorded (the rule calendar answers follow too)."""
        return answers.takes(self.event, self.person, answer, self.now)


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
        next_date=_next_date(link),
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


def _next_date(link: _Link) -> dict[str, str] | None:
    """Another date for one who said no, if one is planned that they can join: its title,
    time, and the link to answer it when they are invited already."""
    if link.invitation.rsvp is not Rsvp.DECLINED or link.unreachable:
        return None
    found = next_date(db.session(), link.event, link.person, link.now)
    return None if found is None else _shown(found, link.person.language)


def _shown(found: NextDate, language: str) -> dict[str, str]:
    """What the page says of another date: title, time, and the answer link if invited."""
    answer = ""
    if found.invitation is not None:
        answer = url_for("events.rsvp", token=invitations.rsvp_token(found.invitation))
    when = invitations.when_text(found.event, language)
    return {"title": found.event.title, "when": when, "url": answer}


@bp.get("/rsvp/<token>/event.ics")
@access(Access.PUBLIC)
def rsvp_calendar(token: str) -> ResponseReturnValue:
    """The invitation's event as a calendar file."""
    try:
        _invitation_found, event, _person = _invitation(token)
    except LinkProblem as problem:
        return problem.page
    return ics(event)
