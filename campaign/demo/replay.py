"""Live the running demo's past weeks through at once (`living` says what happens when).

Each weekday since the campaign's start, at TICKS, the jobs that queue mail run for that moment
(the sequence steps, reminders, calendar invitations, questionnaires) and invented people act
(`acting`); what was queued is then stored as sent at the moment it was due, as a dispatcher
that never slept would have sent it, but nothing is mailed. The last tick is at `now` itself,
so the scheduler's first tick finds only what comes due after it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import ColumnElement, case, func, select, update
from sqlalchemy.orm import Session

from campaign import jobs
from campaign.demo import acting, authored, living, returns
from campaign.drip.files import Sequence
from campaign.drip.materialize import materialize
from campaign.drip.pauses import resume_due
from campaign.drip.stored import campaign_sequences
from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup
from campaign.events.models import Event, Invitation
from campaign.network.models import Campaign
from campaign.outbox.models import Message, MessageState
from campaign.surveys.models import Response

# The local moment of a weekday at which the replay ticks, after the morning's mail; people
# act then on Mondays, Wednesdays and Fridays.
TICKS = (time(14, 0),)
ACTING_DAYS = (0, 2, 4)
# The jobs that queue mail, but the steps (materialize: the replay gives it the sequences read
# once), in the order of jobs.JOBS.
QUEUEING = ("reminders", "invitations", "questionnaires")


@dataclass(frozen=True)
class Counts:
    """What the running demo holds once loaded."""

    groups: int
    participants: int
    sent: int
    events: int
    invitations: int
    answers: int

    def __str__(self) -> str:
        return (
            f"An invented pilot in progress: {self.groups} pilot groups, {self.participants}"
            f" participants, {self.sent} mails sent before today, {self.events} meetings"
            f" ({self.invitations} invitations), {self.answers} baseline answers."
        )


def fill(db_session: Session, campaign: Campaign, now: datetime, seed: int = living.SEED) -> Counts:
    """Give the running demo campaign its pilot in progress, lived through up to `now`."""
    authored.author(db_session, campaign, _first_day(campaign))
    rng, sequences = random.Random(seed), campaign_sequences(db_session, campaign.id)
    happenings = iter(living.plan(db_session, campaign, now, rng))
    waiting = next(happenings, None)
    for moment in ticks(campaign, now):
        while waiting is not None and waiting.at <= moment:
            waiting.do(db_session, waiting.at)
            waiting = next(happenings, None)
        _tick(db_session, campaign, Tick(moment, sequences, everyone=moment == now), rng)
    returns.come_back(db_session, campaign.id, now, rng)
    living.newcomers(db_session, campaign, now, rng)
    return counts(db_session, campaign.id)


def _first_day(campaign: Campaign) -> datetime:
    """The campaign's first day, at eight in the morning (UTC)."""
    return datetime.combine(campaign.starts_on, time(8), tzinfo=UTC)


def ticks(campaign: Campaign, now: datetime) -> Iterator[datetime]:
    """The moments of the replay: TICKS on each weekday from the start, before `now`; then `now`."""
    calendar = living.calendar_of(campaign, now)
    for day in calendar.workdays(campaign.starts_on, calendar.today):
        yield from (m for at in TICKS if (m := calendar.at(day, at)) < now)
    yield now


@dataclass(frozen=True)
class Tick:
    """One moment of the replay, the sequences its steps come from, and whether it looks at
    every participant (as the scheduler's hourly sweep does) or only at those due."""

    moment: datetime
    sequences: dict[str, Sequence]
    everyone: bool


def _tick(db_session: Session, campaign: Campaign, tick: Tick, rng: random.Random) -> None:
    """Run the jobs that queue mail at the tick's moment, let people act, and store what was
    queued as sent."""
    resume_due(db_session, tick.moment)
    materialize(db_session, tick.moment, tick.sequences, everyone=tick.everyone)
    for job in jobs.JOBS:
        if job.name in QUEUEING:
            job.run(db_session, tick.moment)
    local = tick.moment.astimezone(living.calendar_of(campaign, tick.moment).zone)
    if local.weekday() in ACTING_DAYS and local.time() in TICKS:
        acting.people_act(db_session, campaign.id, tick.moment, rng)
    _store_as_sent(db_session, campaign.id, tick.moment)
    db_session.flush()


def _store_as_sent(db_session: Session, campaign_id: int, moment: datetime) -> None:
    """Mark the queued mail due by `moment` sent when it was due (or queued, if later); a
    paused participant's waits, as the dispatcher holds it."""
    paused = select(Participant.id).where(Participant.status == ParticipantStatus.PAUSED)
    late = Message.created_at > Message.due_at
    db_session.execute(
        update(Message)
        .where(Message.campaign_id == campaign_id, Message.state == MessageState.QUEUED)
        .where(Message.due_at <= moment)
        .where(Message.participant_id.is_(None) | Message.participant_id.not_in(paused))
        .values(
            state=MessageState.SENT,
            sent_at=case((late, Message.created_at), else_=Message.due_at),
            attempts=1,
        )
        .execution_options(synchronize_session=False)
    )


def counts(db_session: Session, campaign_id: int) -> Counts:
    """Count what the campaign holds: groups, participants, sent mail, meetings, answers."""
    people = select(Participant.id).where(Participant.campaign_id == campaign_id)
    events = select(Event.id).where(Event.campaign_id == campaign_id)
    return Counts(
        groups=_count(db_session, PilotGroup, PilotGroup.campaign_id == campaign_id),
        participants=_count(db_session, Participant, Participant.campaign_id == campaign_id),
        sent=_count(db_session, Message, Message.campaign_id == campaign_id, _SENT),
        events=_count(db_session, Event, Event.campaign_id == campaign_id),
        invitations=_count(db_session, Invitation, Invitation.event_id.in_(events)),
        answers=_count(db_session, Response, Response.participant_id.in_(people)),
    )


_SENT = Message.state == MessageState.SENT


def _count(db_session: Session, model: type[Any], *where: ColumnElement[bool]) -> int:
    return db_session.scalar(select(func.count()).select_from(model).where(*where)) or 0
