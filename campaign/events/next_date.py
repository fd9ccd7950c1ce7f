"""Another date for someone who says no: the earliest meeting of the same kind, still to come
and not cancelled, whose audience holds them (or to which they are invited), and their
invitation to it when they have one. The decline page promises another date only when this
finds one, so nobody is promised a meeting that nobody has planned."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from campaign.accounts.models import User
from campaign.enrolment.models import Participant
from campaign.events.models import Audience, Event, Invitation, Rsvp


@dataclass(frozen=True)
class NextDate:
    event: Event
    invitation: Invitation | None  # None: not invited yet; the invitation comes by e-mail


def next_date(
    db_session: Session, event: Event, person: Participant | User, now: datetime
) -> NextDate | None:
    """Return the earliest upcoming meeting like `event` that the person can join, if any."""
    query = (
        select(Event)
        .where(
            Event.campaign_id == event.campaign_id,
            Event.kind == event.kind,
            Event.id != event.id,
            Event.is_cancelled.is_(False),
            Event.starts_at > now,
            or_(_audience_holds(person), _invited(person, Invitation.rsvp != Rsvp.DECLINED)),
            ~_invited(person, Invitation.rsvp == Rsvp.DECLINED),
        )
        .order_by(Event.starts_at, Event.id)
        .limit(1)
    )
    found = db_session.scalar(query)
    return None if found is None else NextDate(found, _invitation(db_session, found, person))


def _audience_holds(person: Participant | User) -> ColumnElement[bool]:
    """The condition of the events whose audience, as it stands, holds the person."""
    if isinstance(person, User):
        return Event.audience == Audience.WORKING_GROUP
    group = person.pilot_group_id or -1
    return or_(
        Event.audience == Audience.CAMPAIGN,
        and_(
            Event.audience == Audience.ORGANISATION, Event.organisation_id == person.organisation_id
        ),
        and_(Event.audience == Audience.PILOT_GROUP, Event.pilot_group_id == group),
    )


def _invited(person: Participant | User, answered: ColumnElement[bool]) -> ColumnElement[bool]:
    """The condition of the events the person holds an invitation to, answered so."""
    invitation = select(Invitation.id).where(Invitation.event_id == Event.id, answered)
    return invitation.where(_of(person)).exists()


def _invitation(db_session: Session, event: Event, person: Participant | User) -> Invitation | None:
    """Return the person's invitation to the event, if they have one."""
    query = select(Invitation).where(Invitation.event_id == event.id, _of(person))
    return db_session.scalar(query)


def _of(person: Participant | User) -> ColumnElement[bool]:
    """The condition of the invitations that are the person's."""
    if isinstance(person, User):
        return Invitation.user_id == person.id
    return Invitation.participant_id == person.id
