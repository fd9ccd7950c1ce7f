"""After a meeting has started, its organiser ticks who came on one page.

Nobody can be ticked before the start (the injected clock decides) nor at a cancelled meeting;
someone who said no can be counted only through a choice of its own ("came after all"), so a
slip of the mouse never turns a no into a yes.
"""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from campaign import db
from campaign.accounts.models import User
from campaign.accounts.scope import Access, access
from campaign.enrolment.models import Participant
from campaign.events import invitations
from campaign.events.models import Event, EventState, Invitation, Rsvp
from campaign.events.views.base import bp, changeable_or_403
from campaign.timing import current_clock


@bp.route("/organisations/<org>/events/<int:event_id>/attendance", methods=["GET", "POST"])
@access(Access.ORGANISATION)
def attendance(event_id: int) -> ResponseReturnValue:
    event = changeable_or_403(event_id)
    state = event.state_at(current_clock().now())
    if state in (EventState.CANCELLED, EventState.PLANNED):  # nobody came (yet)
        return _page(event, state, [], 409 if request.method == "POST" else 200)
    if request.method == "POST":
        return _save(event)
    return _page(event, state, _invited(event))


def _page(
    event: Event, state: EventState, rows: list[Any], status: int = 200
) -> ResponseReturnValue:
    """Render the list of those expected, and of those who said no, to tick who came."""
    page = render_template(
        "events/attendance.html",
        organisation=g.organisation,
        event=event,
        state=state,
        rows=[row for row in rows if row[0].rsvp is not Rsvp.DECLINED],
        declined=[row for row in rows if row[0].rsvp is Rsvp.DECLINED],
    )
    return page, status


def _save(event: Event) -> ResponseReturnValue:
    """Record the ticked invitations as having come, the rest as not; back to the event."""
    chosen, anyway = _ticked("attended"), _ticked("came_anyway")
    came, missed = invitations.mark_attendance(
        db.session(), event, chosen, current_user, came_anyway=anyway
    )
    db.session().commit()
    flash(
        _("Attendance saved: %(came)d came, %(missed)d did not.", came=came, missed=missed),
        "success",
    )
    return redirect(url_for("events.show", org=g.organisation.slug, event_id=event.id))


def _ticked(name: str) -> set[int]:
    """Return the invitation ids ticked in one group of boxes (anything else is ignored)."""
    return {i for v in request.form.getlist(name) if (i := db.id_from(v))}


def _invited(event: Event) -> list[Any]:
    """Everyone invited, with their person, by name."""
    rows = db.session().execute(
        select(Invitation, Participant, User)
        .outerjoin(Participant, Participant.id == Invitation.participant_id)
        .outerjoin(User, User.id == Invitation.user_id)
        .where(Invitation.event_id == event.id)
        .order_by(Participant.name, User.name)
    )
    return list(rows.all())
