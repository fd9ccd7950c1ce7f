"""After a meeting, its organiser ticks who came on one page."""

from __future__ import annotations

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
from campaign.events.models import Event, Invitation, Rsvp
from campaign.events.views.base import bp, changeable_or_403


@bp.route("/organisations/<org>/events/<int:event_id>/attendance", methods=["GET", "POST"])
@access(Access.ORGANISATION)
def attendance(event_id: int) -> ResponseReturnValue:
    event = changeable_or_403(event_id)
    if event.is_cancelled:  # nobody came to a meeting that was not held
        return _page(event, [], 409 if request.method == "POST" else 200)
    if request.method == "POST":
        return _save(event)
    return _page(event, _expected(event))


def _page(event: Event, rows: list[object], status: int = 200) -> ResponseReturnValue:
    """Render the list of those expected, to tick who came."""
    page = render_template(
        "events/attendance.html", organisation=g.organisation, event=event, rows=rows
    )
    return page, status


def _save(event: Event) -> ResponseReturnValue:
    """Record the ticked invitations as having come, the rest as not; back to the event."""
    chosen = {i for v in request.form.getlist("attended") if (i := db.id_from(v))}
    came, missed = invitations.mark_attendance(db.session(), event, chosen, current_user)
    db.session().commit()
    flash(
        _("Attendance saved: %(came)d came, %(missed)d did not.", came=came, missed=missed),
        "success",
    )
    return redirect(url_for("events.show", org=g.organisation.slug, event_id=event.id))


def _expected(event: Event) -> list[object]:
    """Everyone invited who has not said no, with their person, by name."""
    rows = db.session().execute(
        select(Invitation, Participant, User)
        .outerjoin(Participant, Participant.id == Invitation.participant_id)
        .outerjoin(User, User.id == Invitation.user_id)
        .where(Invitation.event_id == event.id, Invitation.rsvp != Rsvp.DECLINED)
        .order_by(Participant.name, User.name)
    )
    return list(rows.all())
