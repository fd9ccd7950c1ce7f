"""The Inbox as staff see it: received messages, scoped by organisation like the outbox.

A representative sees their own organisation's messages; the lead administrator sees all of the
campaign's, and those that could be tied to no campaign; only they may download a message as
it came (.eml).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Blueprint, Flask, Response, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Select, func, or_, select

from campaign import db
from campaign.accounts.scope import Access, access, is_lead_admin, may_see, scoped
from campaign.enrolment.models import Participant
from campaign.events.models import Event
from campaign.inbound import inbox
from campaign.network.members import campaign_or_404
from campaign.network.models import Organisation
from campaign.outbox.inbound import InboundKind, InboundMessage
from campaign.pages import page_of
from campaign.timing import current_clock

bp = Blueprint("inbound", __name__)
S = TypeVar("S", bound="Select[Any]")  # a select of any columns


@dataclass(frozen=True)
class Shown:
    """A participant or meeting as a row of the Inbox names it, with its page if the user may
    open it."""

    text: str
    url: str | None


def init_app(app: Flask) -> None:
    """Register the views; give the navigation the number of messages to read."""
    app.register_blueprint(bp)
    app.jinja_env.globals["inbox_to_read"] = to_read_count


def _here(statement: S) -> S:
    """Restrict a query of received messages to those the user may see: the campaign's, by
    organisation; the lead administrator's also those of no campaign."""
    if is_lead_admin():
        here = InboundMessage.campaign_id == campaign_or_404().id
        return statement.where(or_(here, InboundMessage.campaign_id.is_(None)))
    column = InboundMessage.campaign_id
    return scoped(statement, InboundMessage.organisation_id, campaign_column=column)


def _visible(inbound_id: int) -> InboundMessage:
    """Return the received message with this id, if the user may see it (404 otherwise)."""
    return db.first_or_404(_here(select(InboundMessage).where(InboundMessage.id == inbound_id)))


def to_read_count() -> int:
    """Return how many messages the user has to read in the request's campaign."""
    if g.get("campaign") is None or not current_user.is_authenticated:
        return 0
    query = _here(select(func.count(InboundMessage.id)).where(inbox.to_read()))
    return db.session().scalar(query) or 0


@bp.get("/inbox")
@access(Access.STAFF)
def index() -> ResponseReturnValue:
    show = request.args.get("show", inbox.TO_READ)
    kind = request.args.get("kind", "")
    listed = inbox.listed(_here(select(InboundMessage)), show, kind)
    page = page_of(db.session(), listed, request.args.get("page"))
    return render_template(
        "inbound/index.html",
        page=page,
        show="all" if show == "all" else inbox.TO_READ,
        kind=kind,
        kinds=list(InboundKind),
        people=_people(m.participant_id for m in page.items),
        meetings=_meetings(m.event_id for m in page.items),
    )


@bp.get("/inbox/<int:inbound_id>")
@access(Access.STAFF)
def show(inbound_id: int) -> ResponseReturnValue:
    row = _visible(inbound_id)
    return render_template(
        "inbound/show.html",
        row=row,
        reading=inbox.reading(db.session(), row),
        person=next(iter(_people([row.participant_id]).values()), None),
        meeting=next(iter(_meetings([row.event_id]).values()), None),
    )


@bp.post("/inbox/<int:inbound_id>/dismiss")
@access(Access.STAFF)
def dismiss(inbound_id: int) -> ResponseReturnValue:
    row = _visible(inbound_id)
    now, here = current_clock().now(), campaign_or_404()
    if inbox.dismiss(db.session(), row, current_user, now, here.id):
        db.session().commit()
        flash(_("The message is marked as read."), "success")
    return redirect(url_for("inbound.index"))


@bp.get("/inbox/<int:inbound_id>/raw")
@access(Access.LEAD_ADMIN)
def raw(inbound_id: int) -> Response:
    """The message as it came, to open in a mail program."""
    row = _visible(inbound_id)
    disposition = f'attachment; filename="inbound-{row.id}.eml"'
    return Response(
        row.raw, mimetype="message/rfc822", headers={"Content-Disposition": disposition}
    )


def _people(ids: Iterable[int | None]) -> dict[int, Shown]:
    """Return the participants of these ids by id: their name, and their page if the user
    may open it."""
    wanted = {each for each in ids if each is not None}
    query = select(Participant).where(Participant.id.in_(wanted))
    return {p.id: _person(p) for p in db.session().scalars(query)} if wanted else {}


def _person(person: Participant) -> Shown:
    """Return how a row names a participant."""
    url = None
    if person.campaign_id == campaign_or_404().id and may_see(current_user, person.organisation_id):
        slug = person.organisation.slug
        url = url_for("enrolment.participant", org=slug, participant_id=person.id)
    return Shown(person.name or person.email, url)


def _meetings(ids: Iterable[int | None]) -> dict[int, Shown]:
    """Return the meetings of these ids by id: their title, and their page if the user may
    open it."""
    wanted = {each for each in ids if each is not None}
    query = select(Event).where(Event.id.in_(wanted), Event.campaign_id == campaign_or_404().id)
    return {e.id: _meeting(e) for e in db.session().scalars(query)} if wanted else {}


def _meeting(event: Event) -> Shown:
    """Return how a row names a meeting."""
    owner = event.organisation_id or campaign_or_404().lead_organisation_id
    slug = db.session().scalar(select(Organisation.slug).where(Organisation.id == owner))
    url = None
    if slug and may_see(current_user, owner):
        url = url_for("events.show", org=slug, event_id=event.id)
    return Shown(event.title, url)
