"""Where each participant stands in their sequence: what was sent, skipped, and what comes next."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.drip.catch_up import Resumption, Timed, after_pause, held_over, resumed_at
from campaign.drip.due import CATCH_UP, Occurrence, invited_events, next_event, occurrences
from campaign.drip.files import Sequence, Step
from campaign.drip.stored import campaign_sequences
from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup
from campaign.events.models import Event
from campaign.network.models import Campaign
from campaign.outbox.models import Message, MessageKind, MessageState


@dataclass(frozen=True)
class Planned:
    step: Step
    due: datetime
    # sent, queued, retrying, failed, skipped, due, will_skip, future; after_pause (the step
    # caught up with when a paused participant resumes), will_skip_paused (came due meanwhile)
    state: str
    message: Message | None
    # For a step that follows an event: the next one of its kind at the step's moment, which
    # the step offers (as materialize finds it then, if nothing changes meanwhile).
    following: Event | None = None


def plan(
    participant: Participant,
    group: PilotGroup | None,
    campaign: Campaign,
    messages: dict[str, Message],
    now: datetime,
    sequences: dict[str, Sequence],
    events: list[Event] | None = None,
) -> list[Planned]:
    """Return every step of the participant's sequence with its due time and state, in order
    of time (a step anchored to events appears once per event), as a pause moves them."""
    if group is None:
        return []
    timed = [
        (position, step, occurrence)
        for position, step in enumerate(_steps(participant, group, campaign, sequences))
        for occurrence in occurrences(step, participant, group, campaign, events or [])
    ]
    paused, planned = participant.status is ParticipantStatus.PAUSED, []
    for position, step, occurrence in _paused(timed, participant, campaign, messages, now):
        message = messages.get(occurrence.key)
        state = _state(message, position, occurrence, now, paused)
        following = _following(events or [], occurrence, now)
        planned.append(Planned(step, occurrence.due, state, message, following))
    return sorted(planned, key=lambda item: item.due)


def _following(events: list[Event], occurrence: Occurrence, now: datetime) -> Event | None:
    """The next event the occurrence would offer at its moment, if it follows an event."""
    if occurrence.event is None:
        return None
    return next_event(events, occurrence.event, max(now, occurrence.due))


def _steps(
    participant: Participant,
    group: PilotGroup,
    campaign: Campaign,
    sequences: dict[str, Sequence],
) -> list[Step]:
    """Return the steps of the group's sequence in the participant's language, else the
    campaign's; none when the group has no sendable sequence."""
    sequence = sequences.get(group.sequence_name or "")
    if sequence is None:
        return []
    return sequence.steps.get(participant.language) or sequence.steps.get(campaign.language, [])


def _paused(
    timed: list[Timed],
    participant: Participant,
    campaign: Campaign,
    messages: dict[str, Message],
    now: datetime,
) -> list[Timed]:
    """The step mails as the participant's pause leaves those not in the outbox yet."""
    zone = ZoneInfo(campaign.timezone)
    at = resumed_at(participant, zone, now)
    held = any(held_over(message, participant) for message in messages.values())
    waiting = [t for t in timed if t[2].key not in messages]
    settled = after_pause(waiting, Resumption(at, zone, held) if at else None)
    return [{t[2].key: t for t in settled}.get(t[2].key, t) for t in timed]


def _state(
    message: Message | None, position: int, occurrence: Occurrence, now: datetime, paused: bool
) -> str:
    """Return a step's state: its message's, else whether it is due, goes after the pause,
    will be skipped or waits."""
    if message is not None:
        return {
            MessageState.SENT: "sent",
            MessageState.FAILED: "failed",
            MessageState.RETRY: "retrying",
            MessageState.CANCELLED: "skipped",
        }.get(message.state, "queued")
    if occurrence.skipped:
        return "will_skip_paused"
    if paused and occurrence.after_pause:
        return "after_pause"
    if occurrence.due > now:
        return "future"
    return "will_skip" if position > 0 and now - occurrence.due > CATCH_UP else "due"


def plans_for(
    db_session: Session, participants: list[Participant], now: datetime
) -> dict[int, list[Planned]]:
    """Return the plan of each participant, with a few queries for all of them."""
    ids = [p.id for p in participants]
    messages = _step_messages(db_session, ids)
    groups = _groups(db_session, {p.pilot_group_id or 0 for p in participants})
    campaigns = _campaigns(db_session, {p.campaign_id for p in participants})
    events = invited_events(db_session, ids)
    sequences = {c: campaign_sequences(db_session, c) for c in campaigns}
    return {
        p.id: plan(
            p,
            groups.get(p.pilot_group_id or 0),
            campaigns[p.campaign_id],
            messages[p.id],
            now,
            sequences[p.campaign_id],
            events[p.id],
        )
        for p in participants
    }


def _step_messages(db_session: Session, ids: list[int]) -> dict[int, dict[str, Message]]:
    """Return the sequence mail of the participants: by participant, then by source key."""
    found: dict[int, dict[str, Message]] = defaultdict(dict)
    query = select(Message).where(
        Message.participant_id.in_(ids), Message.kind == MessageKind.SEQUENCE_STEP
    )
    for message in db_session.scalars(query):
        found[message.participant_id or 0][message.source_key] = message
    return found


def _groups(db_session: Session, ids: set[int]) -> dict[int, PilotGroup]:
    """Return the pilot groups with these ids, by id."""
    return {g.id: g for g in db_session.scalars(select(PilotGroup).where(PilotGroup.id.in_(ids)))}


def _campaigns(db_session: Session, ids: set[int]) -> dict[int, Campaign]:
    """Return the campaigns with these ids, by id."""
    return {c.id: c for c in db_session.scalars(select(Campaign).where(Campaign.id.in_(ids)))}
