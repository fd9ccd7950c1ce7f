"""Pausing until a date: resuming a participant, the job that resumes those whose day has come,
and a whole pilot group paused and resumed.

A pause until a day (`Participant.paused_until`) ends in the morning of that day (see
`catch_up.resumes_at`). The `pauses` job resumes every pause whose morning has passed, whenever
it runs: after a service was down on the day, the pauses end when it is back. It runs before
`materialize`, which then gives each resumed participant one of the steps they missed
(`catch_up`).

Resuming, by the job or by hand, lets the held mail go at the first sending moment (on a
business day, outside the quiet hours), but not the calendar mail and reminders of events that
began meanwhile.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, func, or_, select, update
from sqlalchemy.orm import Session

from campaign.audit import record
from campaign.drip.catch_up import resumes_at, sending_moment
from campaign.enrolment import lifecycle
from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup
from campaign.events.models import Event, Invitation
from campaign.network.models import Campaign
from campaign.network.timezone import zone_name_of
from campaign.outbox.models import Message, MessageKind, MessageState
from campaign.outbox.queue import OPEN_STATES, release_held

DROPPED_EVENT_MAIL = "cancelled: the event began while the participant was paused"
EVENT_MAIL = (MessageKind.INVITATION, MessageKind.REMINDER)
PAUSED, PAUSABLE = ParticipantStatus.PAUSED, (ParticipantStatus.ACTIVE, ParticipantStatus.INVITED)


def resume(
    db_session: Session, person: Participant, now: datetime, actor: Any = None, why: str = ""
) -> bool:
    """Resume a paused participant: their held mail goes, but none about an event that has
    begun. False if they were not paused."""
    if not lifecycle.resume(db_session, person, now, actor, why):
        return False
    zone = ZoneInfo(zone_name_of(db_session, person.campaign_id))
    release_held(db_session, person.id, sending_moment(now, zone))
    if begun := _begun(db_session, person.id, now):
        _drop_event_mail(db_session, person.id, begun)
    return True


def _begun(db_session: Session, participant_id: int, now: datetime) -> list[int]:
    """Return the events the participant is invited to that have begun by `now`."""
    invited = select(Invitation.event_id).where(Invitation.participant_id == participant_id)
    begun = select(Event.id).where(Event.id.in_(invited), Event.starts_at <= now)
    return list(db_session.scalars(begun))


def _drop_event_mail(db_session: Session, participant_id: int, events: list[int]) -> None:
    """Cancel the participant's unsent invitations, changes and reminders of these events."""
    about = or_(*(Message.source_key.startswith(f"ev:{e}:", autoescape=True) for e in events))
    db_session.execute(
        update(Message)
        .where(Message.participant_id == participant_id, Message.state.in_(OPEN_STATES))
        .where(Message.kind.in_(EVENT_MAIL), about)
        .values(state=MessageState.CANCELLED, last_answer=DROPPED_EVENT_MAIL)
    )


def resume_due(db_session: Session, now: datetime) -> int:
    """Resume everyone whose pause has ended by `now`, in every campaign; return how many."""
    campaigns = db_session.scalars(select(Campaign).order_by(Campaign.id)).all()
    return sum(_resume_in(db_session, campaign, now) for campaign in campaigns)


def _resume_in(db_session: Session, campaign: Campaign, now: datetime) -> int:
    """Resume the campaign's participants whose pause has ended by `now`; audit how many."""
    ended = db_session.scalars(_ended(campaign, now)).all()
    for person in ended:
        resume(db_session, person, now, why=f"paused until {person.paused_until}")
    if ended:
        action, count = "participants.pauses_ended", len(ended)
        record(db_session, None, action, now=now, campaign_id=campaign.id, participants=count)
    return len(ended)


def _ended(campaign: Campaign, now: datetime) -> Select[Participant]:
    """The campaign's paused participants whose pause has ended by `now`."""
    last = last_day_ended(now, ZoneInfo(campaign.timezone))
    ended = (Participant.status == PAUSED) & (Participant.paused_until <= last)
    return select(Participant).where(Participant.campaign_id == campaign.id, ended)


def last_day_ended(now: datetime, zone: ZoneInfo) -> date:
    """Return the last day whose pauses have ended by `now`: today once its morning has come."""
    today = now.astimezone(zone).date()
    return today if now >= resumes_at(today, zone) else today - timedelta(days=1)


def pause_group(
    db_session: Session, group: PilotGroup, until: date, now: datetime, actor: Any
) -> int:
    """Pause every active participant of the group until `until`; return how many."""
    people = _members(db_session, group, Participant.status.in_(PAUSABLE))
    paused = sum(lifecycle.pause(db_session, person, now, actor, until) for person in people)
    details = {"now": now, "until": until.isoformat(), "participants": paused}
    _audit(db_session, actor, "pilot_group.paused", group, **details)
    return paused


def resume_group(
    db_session: Session, group: PilotGroup, until: date, now: datetime, actor: Any
) -> int:
    """Resume the group's participants paused until `until` (not those paused until another
    day or further notice); return how many."""
    dated = _members(db_session, group, Participant.paused_until == until)
    for person in dated:
        resume(db_session, person, now, actor, "the pilot group was resumed")
    details = {"now": now, "until": until.isoformat(), "participants": len(dated)}
    _audit(db_session, actor, "pilot_group.resumed", group, **details)
    return len(dated)


def _members(db_session: Session, group: PilotGroup, which: ColumnElement[bool]) -> list[Any]:
    """Return the group's participants that `which` picks."""
    query = select(Participant).where(Participant.pilot_group_id == group.id, which)
    return list(db_session.scalars(query.order_by(Participant.id)))


def _audit(db_session: Session, actor: Any, action: str, group: PilotGroup, **details: Any) -> None:
    """Audit an action on a whole pilot group (each participant's change has its own)."""
    record(
        db_session, actor, action, campaign_id=group.campaign_id,
        organisation_id=group.organisation_id, target=f"pilot_group:{group.id}", **details,
    )  # fmt: skip


def pauses_of(db_session: Session, group: PilotGroup) -> list[tuple[date | None, int]]:
    """Return how many of the group are paused until each day, further notice (None) last."""
    counted = select(Participant.paused_until, func.count()).group_by(Participant.paused_until)
    paused = counted.where(Participant.pilot_group_id == group.id, Participant.status == PAUSED)
    rows = [(day, count) for day, count in db_session.execute(paused)]
    return sorted(rows, key=lambda row: (row[0] is None, row[0] or date.min))
