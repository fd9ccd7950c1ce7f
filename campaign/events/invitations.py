"""Who is invited to an event, their answers, changes and cancellations, and reminders.

Every mail about an event goes through the outbox with a source key naming the event, its
SEQUENCE and the invitation, so queueing twice sends once, and a changed event (a higher
SEQUENCE) sends each invitee one update; the mail itself is built in `letters`, and sent to a
whole audience by `fanout`, outside the request when it is large. Answers come through signed
links; a full event puts people on a waiting list and moves the first of them up when someone
with a place says no.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Select, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from campaign.accounts.models import User
from campaign.audit import record
from campaign.enrolment.lifecycle import is_forgotten
from campaign.enrolment.models import Participant, ParticipantStatus
from campaign.events import fanout, notifying
from campaign.events.letters import RSVP_LIFETIME, RSVP_PURPOSE, Letters, queue_mail
from campaign.events.letters import organiser_of as organiser_of  # the views' name for it
from campaign.events.letters import rsvp_token as rsvp_token  # the views' and tests' name for it
from campaign.events.letters import when_text as when_text  # the views' name for it
from campaign.events.models import Audience, Event, FanoutKind, Invitation, Rsvp
from campaign.network.models import Membership
from campaign.outbox.models import Message, MessageKind, MessageState
from campaign.outbox.queue import OPEN_STATES
from campaign.security import unsign
from campaign.timing import current_clock

EVENT_CHANGED = "the event changed"  # the last answer of an invitation mail it made stale


def new_uid(base_url: str) -> str:
    """A UID that stays the event's for life (RFC 5545: globally unique, with a domain)."""
    host = re.sub(r"^https?://", "", base_url).split("/")[0].split(":")[0] or "localhost"
    return f"{secrets.token_hex(12)}@{host}"


def _uninvited(event: Event) -> Select[int]:
    """The people the event is for, as the audience decides today, not invited yet: ids of
    participants, or of staff accounts for the working group."""
    staff = event.audience is Audience.WORKING_GROUP
    person = User.id if staff else Participant.id
    column = Invitation.user_id if staff else Invitation.participant_id
    invited = select(Invitation.id).where(Invitation.event_id == event.id, column == person)
    return _audience(event).where(~invited.exists())


def _audience(event: Event) -> Select[int]:
    """The people the event is for, as the audience decides today, invited or not, by id."""
    if event.audience is Audience.WORKING_GROUP:
        members = select(Membership.organisation_id).where(
            Membership.campaign_id == event.campaign_id
        )
        return (
            select(User.id)
            .where(User.is_enabled.is_(True), User.organisation_id.in_(members))
            .order_by(User.id)
        )
    statement = select(Participant.id).where(
        Participant.campaign_id == event.campaign_id,
        Participant.status == ParticipantStatus.ACTIVE,
    )
    if event.audience is Audience.PILOT_GROUP:
        statement = statement.where(Participant.pilot_group_id == event.pilot_group_id)
    elif event.audience is Audience.ORGANISATION:
        statement = statement.where(Participant.organisation_id == event.organisation_id)
    return statement.order_by(Participant.id)


def uninvited_count(db_session: Session, event: Event) -> int:
    """Return how many of the event's audience are not invited yet."""
    counted = select(func.count()).select_from(_uninvited(event).order_by(None).subquery())
    return db_session.scalar(counted) or 0


def invitation_for(db_session: Session, token: str) -> Invitation | None:
    """Return the invitation of an RSVP link; raise TokenError if forged or expired."""
    invitation = db_session.get(
        Invitation, unsign(RSVP_PURPOSE, token, int(RSVP_LIFETIME.total_seconds()))
    )
    if invitation is None or _of_the_forgotten(db_session, invitation):
        return None
    return invitation


def _of_the_forgotten(db_session: Session, invitation: Invitation) -> bool:
    """Whether the invitation is a participant's who was erased, or whose data was purged."""
    if invitation.participant_id is None:
        return False
    person = db_session.get(Participant, invitation.participant_id)
    return person is not None and is_forgotten(db_session, person)


def invite(db_session: Session, event: Event, now: datetime) -> int:
    """Invite everyone of the audience not invited yet (people enrolled since, too), and queue
    their invitations: at once when they are few, by the `invitations` job when many (see `fanout`).
    Return how many were invited."""
    if event.is_cancelled:
        return 0
    invited = _insert_invitations(db_session, event, now)
    fanout.start(db_session, event, FanoutKind.INVITATION, now)
    return invited


def _insert_invitations(db_session: Session, event: Event, now: datetime) -> int:
    """Invite the audience not invited yet; return how many that was.

    One statement however many they are; two at once invite each person once (unique keys).
    """
    column = "user_id" if event.audience is Audience.WORKING_GROUP else "participant_id"
    dialect = postgresql if db_session.get_bind().dialect.name == "postgresql" else sqlite
    invited = db_session.scalars(
        dialect.insert(Invitation)
        .from_select(
            ["event_id", column, "rsvp", "has_attended", "created_at"], _new_rows(event, now)
        )
        .on_conflict_do_nothing()
        .returning(Invitation.id)
    ).all()
    return len(invited)


def _new_rows(event: Event, now: datetime) -> Select[Any]:
    """A query of the new invitations' values, one row for each of the audience: those invited
    already are skipped by the unique key (ON CONFLICT DO NOTHING), not by the query. Asking
    the query to leave them out joins the table the rows go into: PostgreSQL then read, for
    each person, every invitation the statement had written so far (97,000 people took 153 s,
    the square of their number)."""
    people = _audience(event).order_by(None)
    return people.with_only_columns(
        literal(event.id),
        *people.selected_columns,
        literal(Rsvp.PENDING, Invitation.rsvp.type),
        literal(False),
        literal(now, Invitation.created_at.type),
    )


SIGNIFICANT = ("starts_at", "ends_at", "timezone", "join_url", "room", "title")


def change(db_session: Session, event: Event, changes: dict[str, Any], now: datetime) -> int:
    """Apply changes; a new time, place or title raises SEQUENCE and sends each invitee who has
    not declined an update; more places move the waiting list up. Return how many updates were
    queued."""
    changed = _set_changed(event, changes)
    if not changed:
        return 0
    event.updated_at = now
    significant = set(changed) & set(SIGNIFICANT)
    updates = _send_version(db_session, event, FanoutKind.UPDATE, now) if significant else 0
    if "capacity" in changed:
        db_session.flush()
        promote(db_session, event, now)  # after the update: the place mail has the new time
    return updates


def _set_changed(event: Event, changes: dict[str, Any]) -> list[str]:
    """Set the values that differ on the event; return their names."""
    changed = [k for k, v in changes.items() if getattr(event, k) != v]
    for name in changed:
        setattr(event, name, changes[name])
    return changed


def _send_version(db_session: Session, event: Event, kind: FanoutKind, now: datetime) -> int:
    """Raise the event's SEQUENCE, stop the reminders of the old one, and send the invitees the
    new version (an update or a cancellation); return how many get it."""
    event.sequence += 1
    _cancel_unsent_reminders(db_session, event)
    db_session.flush()
    started = fanout.start(db_session, event, kind, now)
    return started.total if started else 0


def cancel(db_session: Session, event: Event, now: datetime) -> int:
    """Cancel the event: METHOD:CANCEL, with a higher SEQUENCE, to everyone who has not declined."""
    if event.is_cancelled:
        return 0
    event.is_cancelled = True
    event.updated_at = now
    return _send_version(db_session, event, FanoutKind.CANCEL, now)


def _cancel_unsent_reminders(db_session: Session, event: Event) -> int:
    """Stop reminders queued for an earlier SEQUENCE: they name the old time or place."""
    result = db_session.execute(
        update(Message)
        .where(
            Message.kind == MessageKind.REMINDER,
            Message.source_key.startswith(f"ev:{event.id}:", autoescape=True),
            Message.source_key.not_like(f"ev:{event.id}:s{event.sequence}:%"),
            Message.state.in_(OPEN_STATES),
        )
        .values(state=MessageState.CANCELLED, last_answer=EVENT_CHANGED)
    )
    return cast(CursorResult[Any], result).rowcount  # an UPDATE: a cursor result


def accepted_count(db_session: Session, event: Event) -> int:
    """Return how many have a place at the event."""
    return (
        db_session.scalar(
            select(func.count())
            .select_from(Invitation)
            .where(Invitation.event_id == event.id, Invitation.rsvp == Rsvp.ACCEPTED)
        )
        or 0
    )


def respond(db_session: Session, invitation: Invitation, answer: Rsvp, now: datetime) -> Rsvp:
    """Record an answer; a yes to a full event joins the waiting list. Return the new state.

    The event row is locked first, so two people cannot take the last place at once.
    """
    event = fanout.locked_event(db_session, invitation.event_id)
    had_place = invitation.rsvp is Rsvp.ACCEPTED
    if answer is Rsvp.ACCEPTED and not had_place:
        answer = _place_or_wait(db_session, event)
    if invitation.rsvp is not answer:  # one already waiting keeps their place in the queue
        invitation.rsvp = answer
        invitation.responded_at = now
        notifying.rsvp_changed(db_session, event, invitation, now)
    if had_place and answer is not Rsvp.ACCEPTED:
        db_session.flush()
        promote(db_session, event, now)
    return answer


def _place_or_wait(db_session: Session, event: Event) -> Rsvp:
    """Return ACCEPTED while the event has a free place, else WAITLISTED."""
    full = event.capacity is not None and accepted_count(db_session, event) >= event.capacity
    return Rsvp.WAITLISTED if full else Rsvp.ACCEPTED


def promote(db_session: Session, event: Event, now: datetime) -> list[Invitation]:
    """Give free places to the waiting list, first come first served, and tell them."""
    if event.is_cancelled:
        return []
    free = None if event.capacity is None else event.capacity - accepted_count(db_session, event)
    if free is not None and free <= 0:
        return []
    waiting = _first_waiting(db_session, event, free)
    letters = Letters(db_session, event, now)
    for invitation in waiting:
        invitation.rsvp = Rsvp.ACCEPTED
        invitation.responded_at = now
        notifying.rsvp_changed(db_session, event, invitation, now)
        key = f"ev:{event.id}:place:i{invitation.id}:{now.isoformat()}"
        queue_mail(db_session, event, invitation, "place", now, key=key, letters=letters)
    return waiting


def _first_waiting(db_session: Session, event: Event, count: int | None) -> list[Invitation]:
    """Return the first `count` on the event's waiting list (None: all of them)."""
    query = (
        select(Invitation)
        .where(Invitation.event_id == event.id, Invitation.rsvp == Rsvp.WAITLISTED)
        .order_by(Invitation.responded_at, Invitation.id)
        .limit(count)
    )
    return list(db_session.scalars(query))


def mark_attendance(
    db_session: Session,
    event: Event,
    attended: set[int],
    actor: Any,
    came_anyway: frozenset[int] | set[int] = frozenset(),
) -> tuple[int, int]:
    """Set who came (by invitation id; one who declined only if in `came_anyway`, the
    organiser's own choice); return (attended, not attended)."""
    invitations = db_session.scalars(
        select(Invitation).where(Invitation.event_id == event.id)
    ).all()
    for invitation in invitations:
        chosen = came_anyway if invitation.rsvp is Rsvp.DECLINED else attended
        invitation.has_attended = invitation.id in chosen
    came, now = sum(i.has_attended for i in invitations), current_clock().now()
    record(
        db_session,
        actor,
        "event.attendance_marked",
        now=now,
        campaign_id=event.campaign_id,
        organisation_id=event.organisation_id,
        target=f"event:{event.id}",
        attended=came,
        invited=len(invitations),
    )
    notifying.attendance_marked(db_session, event, came, len(invitations), now)
    return came, len(invitations) - came
