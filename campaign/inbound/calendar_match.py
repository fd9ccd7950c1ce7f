"""Whose calendar answer it is: the meeting by its UID, the invitation by the attendee's address,
and, when the answer came back to a mail's own return address (VERP), by that mail's person.

Addresses are compared without regard to case (a calendar may write Anna.Berg@Beta.se for
the anna.berg@beta.se we invited). An answer that leads to an erased person, or comes from an
address erased from the campaign, is theirs no more: nothing of it is applied.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.accounts.models import User
from campaign.enrolment.erasure import erased_at
from campaign.enrolment.lifecycle import is_forgotten
from campaign.enrolment.models import Participant
from campaign.events import calendar
from campaign.events.models import Event, Invitation
from campaign.inbound.parsed import Incoming
from campaign.outbox.models import Message


@dataclass(frozen=True)
class Invitee:
    """The invitation an answer is about and its person; `is_erased` when that person (or the
    address the answer came from) was erased."""

    invitation: Invitation | None
    person: Participant | User | None
    is_erased: bool = False

    @property
    def organisation_id(self) -> int | None:
        """The organisation of the person, if one was found."""
        return self.person.organisation_id if self.person is not None else None


def event_of(db_session: Session, uid: str) -> Event | None:
    """Return our meeting with this UID, if there is one."""
    return db_session.scalar(select(Event).where(Event.uid == uid))


def invitee_of(
    db_session: Session, incoming: Incoming, event: Event, addresses: Iterable[str]
) -> Invitee:
    """Find the invitation the answer is about: by an attendee's address, else by the person of
    the mail whose return address it came back to."""
    addresses = [address for address in addresses if address]
    for address in addresses:
        found = _by_address(db_session, event, address)
        if found.invitation is not None:
            return found
    found = _by_return_path(db_session, incoming, event)
    if found.invitation is not None:
        return _unless_forgotten(db_session, found)
    return Invitee(None, None, _was_erased(db_session, event, addresses))


def _by_address(db_session: Session, event: Event, address: str) -> Invitee:
    """The invitation of a participant or staff member with this address, if one is invited."""
    participant = select(Invitation, Participant).join(
        Participant, Participant.id == Invitation.participant_id
    )
    participant = participant.where(func.lower(Participant.email) == address)
    user = select(Invitation, User).join(User, User.id == Invitation.user_id)
    user = user.where(func.lower(User.email) == address)
    for query in (participant, user):
        row = db_session.execute(query.where(Invitation.event_id == event.id).limit(1)).first()
        if row is not None:
            return Invitee(row[0], row[1])
    return Invitee(None, None)


def _by_return_path(db_session: Session, incoming: Incoming, event: Event) -> Invitee:
    """The invitation of the person whose mail's return address the answer came back to."""
    row = incoming.row
    original = db_session.get(Message, row.outbox_message_id) if row.outbox_message_id else None
    if original is None:
        return Invitee(None, None)
    query = select(Invitation).where(Invitation.event_id == event.id)
    if original.participant_id is not None:
        query = query.where(Invitation.participant_id == original.participant_id)
        return _with_person(db_session, db_session.scalar(query))
    if original.user_id is not None:
        query = query.where(Invitation.user_id == original.user_id)
        return _with_person(db_session, db_session.scalar(query))
    return Invitee(None, None)


def _with_person(db_session: Session, invitation: Invitation | None) -> Invitee:
    """The invitation with its participant or staff member."""
    if invitation is None:
        return Invitee(None, None)
    if invitation.participant_id is not None:
        return Invitee(invitation, db_session.get(Participant, invitation.participant_id))
    return Invitee(invitation, db_session.get(User, invitation.user_id))


def _unless_forgotten(db_session: Session, found: Invitee) -> Invitee:
    """The invitee, marked erased when they are a participant nothing is held about any more."""
    person = found.person
    if isinstance(person, Participant) and is_forgotten(db_session, person):
        return Invitee(found.invitation, person, is_erased=True)
    return found


def _was_erased(db_session: Session, event: Event, addresses: list[str]) -> bool:
    """Whether one of the addresses was erased from the meeting's campaign."""
    return any(erased_at(db_session, event.campaign_id, address) for address in addresses)


def instant(value: datetime | date | None, zone: tzinfo) -> datetime | None:
    """Return a calendar time as an aware instant: a floating time or a day in `zone`."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.combine(value, time())
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)


def proposed_span(
    event: Event, starts: datetime | date | None, ends: datetime | date | None
) -> tuple[datetime | None, datetime | None]:
    """Return the instants a COUNTER proposes; a missing end keeps the meeting's length."""
    zone = calendar.zone_of(event)
    start, end = instant(starts, zone), instant(ends, zone)
    if start is not None and end is None:
        end = start + (event.ends_at - event.starts_at)
    return start, end
