"""Turn sequence steps that have come due into outbox messages, once each.

When a step is due is `drip.due`'s answer. It is queued when that moment has come, through the
outbox's one path for participant mail, so an edit to a step's text reaches everyone who has not
got it yet, and never changes mail already queued. Its source key
`p:<participant>:seq:<sequence>/<number>` is unique in the outbox, so running this twice, or in
two processes at once, queues nothing twice.

Catch-up rule: a participant who starts late, or resumes after a pause, does not get a burst of
old steps. A step more than CATCH_UP overdue is recorded as skipped, except a sequence's first
step (the welcome), which is always sent. A step whose conditions do not hold at its due time is
recorded as skipped too. Only active participants get steps; paused ones wait.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, or_, select, update
from sqlalchemy import event as sa_event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from campaign.drip.check import render_problems
from campaign.drip.due import CATCH_UP, Occurrence, invited_events, next_event, occurrences
from campaign.drip.files import SEQUENCES_DIR, Sequence, Step, load_sequences
from campaign.enrolment.mail import addressee
from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup
from campaign.events.models import Event, EventKind, Invitation, Rsvp
from campaign.network.models import Campaign, Membership, Organisation
from campaign.outbox.mail import queue_participant_mail
from campaign.outbox.models import Message, MessageKind
from campaign.outbox.texts import Letter
from campaign.surveys.models import Questionnaire, QuestionnaireKind, Response

# next_step_at of a participant with no step left to come (until a change says otherwise).
NOTHING_LEFT = datetime(9999, 12, 31, tzinfo=UTC)
CHUNK = 2000  # participants read at a time
LATE = "skipped: more than two days late (a late start or a pause)"
# How often a step that offers the next date looks again for one while none is planned yet.
LOOK_AGAIN = timedelta(hours=1)


@dataclass(frozen=True)
class Enrolled:
    participant: Participant
    group: PilotGroup
    membership: Membership
    organisation: Organisation
    campaign: Campaign


def materialize(
    db_session: Session,
    now: datetime,
    sequences: dict[str, Sequence] | None = None,
    *,
    everyone: bool = False,
) -> int:
    """Queue every step that has come due; return how many rows were added (sent or skipped).

    Only participants whose next step may be due are read (`next_step_at` passed, or unknown);
    with `everyone`, all of them, as the hourly sweep does in case a change was missed. They are
    read in chunks, so memory stays flat however large the network.
    """
    if sequences is None:
        sequences = sendable_sequences()
    added, after = 0, 0
    while people := enrolled(db_session, due_by=None if everyone else now, after=after):
        added += _materialize_chunk(db_session, people, sequences, now)
        after = people[-1].participant.id
    return added


def _materialize_chunk(
    db_session: Session, people: list[Enrolled], sequences: dict[str, Sequence], now: datetime
) -> int:
    ids = [p.participant.id for p in people]
    done = _existing_keys(db_session, ids)
    holds = _conditions(db_session, ids)
    events = invited_events(db_session, ids)
    added, next_at = 0, []
    for person in people:
        sequence = sequences.get(person.group.sequence_name or "")
        upcoming = NOTHING_LEFT
        if sequence is not None:
            count, upcoming = _materialize_one(
                db_session, person, sequence, now, done, holds, events[person.participant.id]
            )
            added += count
        next_at.append({"pid": person.participant.id, "at": upcoming})
    table = cast(Table, Participant.__table__)
    db_session.execute(  # updated_at is kept: this is the engine's note, not a change of the person
        update(table)
        .where(table.c.id == bindparam("pid"))
        .values(next_step_at=bindparam("at"), updated_at=table.c.updated_at),
        next_at,
    )
    return added


def _materialize_one(
    db_session: Session,
    person: Enrolled,
    sequence: Sequence,
    now: datetime,
    done: set[str],
    holds: dict[str, set[int]],
    events: list[Event],
) -> tuple[int, datetime]:
    """Queue what is due for one participant; return how many, and when the next one is due."""
    participant = person.participant
    steps = sequence.steps.get(participant.language) or sequence.steps.get(
        person.campaign.language, []
    )
    added, upcoming = 0, NOTHING_LEFT
    for position, step in enumerate(steps):
        for occurrence in occurrences(step, participant, person.group, person.campaign, events):
            if occurrence.key in done:
                continue
            if occurrence.due > now:
                upcoming = min(upcoming, occurrence.due)
                continue
            following = next_event(events, occurrence.event, now) if occurrence.event else None
            skipped = _skip_reason(step, position, participant.id, occurrence.due, now, holds)
            if occurrence.event and following is None and _needs_next(step):
                if skipped is None:  # a later date may still be planned: wait while it may
                    upcoming = min(upcoming, now + LOOK_AGAIN)  # (an invitation looks at once)
                    continue
                if skipped == LATE:
                    skipped = "skipped: no later date to offer"
            if _queue(db_session, person, step, occurrence, following, skipped, now) is not None:
                added += 1
    return added, upcoming


def _needs_next(step: Step) -> bool:
    return "next_event" in step.subject or "next_event" in step.body


def _skip_reason(
    step: Step,
    position: int,
    participant_id: int,
    due: datetime,
    now: datetime,
    holds: dict[str, set[int]],
) -> str | None:
    if position > 0 and now - due > CATCH_UP:
        return LATE
    for condition in step.unless:
        if participant_id in holds[condition]:
            return f"skipped: {condition}"
    for condition in step.only_if:
        if participant_id not in holds[condition]:
            return f"skipped: not {condition}"
    return None


def _queue(
    db_session: Session,
    person: Enrolled,
    step: Step,
    occurrence: Occurrence,
    following: Event | None,
    skipped: str | None,
    now: datetime,
) -> int | None:
    to = addressee(person.participant, person.organisation, person.campaign, person.membership)
    return queue_participant_mail(
        db_session,
        to,
        Letter(step.subject, step.body, str(step.path)),
        context_for(person, to.unsubscribe_url, following),
        kind=MessageKind.SEQUENCE_STEP,
        source_key=occurrence.key,
        due_at=occurrence.due,
        now=now,
        skipped=skipped,
    )


def context_for(
    person: Enrolled, unsubscribe: str, following: Event | None = None
) -> dict[str, Any]:
    """Return the placeholders of a step for one participant."""
    participant, member = person.participant, person.membership
    zone = ZoneInfo(person.campaign.timezone)
    context = {
        "participant": {
            "name": participant.name,
            "email": participant.email,
            "title": participant.title,
            "first_name": (participant.name.split() or [""])[0],
        },
        "organisation": {
            "name": person.organisation.name,
            "short_name": person.organisation.short_name,
        },
        "member": {
            "meeting_software": member.meeting_software,
            "contact_name": member.contact_name,
            "contact_title": member.contact_title,
            "contact_email": member.contact_email,
            "guide_url": member.guide_url,
        },
        "campaign": {"name": person.campaign.name, "ends_on": person.campaign.ends_on.isoformat()},
        "links": {"unsubscribe": unsubscribe},
    }
    if following is not None:
        context["next_event"] = {
            "title": following.title,
            "starts": following.starts_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            "join_url": following.join_url,
        }
    return context


def offers_next_date(sequence_name: str | None, kind: EventKind) -> bool:
    """Whether a sequence has a step that offers the next date after an event of this kind."""
    sequence = sendable_sequences().get(sequence_name or "")
    return sequence is not None and any(
        step.anchor == kind.value and _needs_next(step)
        for steps in sequence.steps.values()
        for step in steps
    )


def sendable_sequences(root: Path = SEQUENCES_DIR) -> dict[str, Sequence]:
    """Load the sequences, leaving out any that has a problem: it is never sent from."""
    sequences, problems = load_sequences(root)
    problems += [
        p
        for seq in sequences.values()
        for steps in seq.steps.values()
        for step in steps
        for p in render_problems(step)
    ]
    broken = {p.path.relative_to(root).parts[0] for p in problems}
    return {name: seq for name, seq in sequences.items() if name not in broken}


def enrolled(
    db_session: Session,
    participant_id: int | None = None,
    *,
    due_by: datetime | None = None,
    after: int = 0,
    limit: int = CHUNK,
) -> list[Enrolled]:
    """Return active participants in a pilot group that follows a sequence (or just one).

    With `due_by`, only those whose next step may be due by then; in id order, `limit` at a
    time, from the id `after`.
    """
    statement = (
        select(Participant, PilotGroup, Membership, Organisation, Campaign)
        .join(PilotGroup, Participant.pilot_group_id == PilotGroup.id)
        .join(
            Membership,
            (Membership.campaign_id == Participant.campaign_id)
            & (Membership.organisation_id == Participant.organisation_id),
        )
        .join(Organisation, Organisation.id == Participant.organisation_id)
        .join(Campaign, Campaign.id == Participant.campaign_id)
        .where(Participant.status == ParticipantStatus.ACTIVE)
        .where(PilotGroup.sequence_name.is_not(None))
        .where(Participant.id > after)
        .order_by(Participant.id)
        .limit(limit)
    )
    if participant_id is not None:
        statement = statement.where(Participant.id == participant_id)
    if due_by is not None:
        statement = statement.where(
            or_(Participant.next_step_at.is_(None), Participant.next_step_at <= due_by)
        )
    return [Enrolled(*row) for row in db_session.execute(statement)]


def _existing_keys(db_session: Session, participant_ids: list[int]) -> set[str]:
    return set(
        db_session.scalars(
            select(Message.source_key).where(
                Message.participant_id.in_(participant_ids),
                Message.kind == MessageKind.SEQUENCE_STEP,
            )
        )
    )


def _conditions(db_session: Session, participant_ids: list[int]) -> dict[str, set[int]]:
    """Return, for each condition a step may name, the participants for whom it holds."""
    attended = (
        select(Invitation.participant_id)
        .join(Event)
        .where(
            Event.kind == EventKind.PRACTICE_MEETING,
            Invitation.has_attended.is_(True),
            Invitation.participant_id.in_(participant_ids),
        )
    )
    declined = select(Invitation.participant_id).where(
        Invitation.rsvp == Rsvp.DECLINED, Invitation.participant_id.in_(participant_ids)
    )
    answered = (
        select(Response.participant_id)
        .join(Questionnaire)
        .where(
            Questionnaire.kind == QuestionnaireKind.BASELINE,
            Response.participant_id.in_(participant_ids),
        )
    )
    return {
        "attended_practice_meeting": set(db_session.scalars(attended)),
        "declined_invitation": set(db_session.scalars(declined)),
        "answered_baseline": set(db_session.scalars(answered)),
    }


# What can move someone's next step earlier: their start, language, group or status; their
# pilot group's start or sequence; a new invitation, or an event's new time; the campaign's
# end, zone or language. Each clears next_step_at, so that the next run looks at them again.
# (Looking too early costs nothing; a change made around the ORM is caught by the hourly sweep.)
WATCHED = {
    Participant: ("starts_on", "language", "pilot_group_id", "status"),
    PilotGroup: ("starts_on", "sequence_name"),
    Event: ("starts_at", "is_cancelled"),
    Campaign: ("ends_on", "timezone", "language"),
}


@sa_event.listens_for(Session, "before_flush")
def _forget_next_steps(db_session: Session, flush_context: Any, instances: Any) -> None:
    changed: dict[type, set[int]] = {kind: set() for kind in WATCHED}
    for obj in db_session.dirty:
        names = WATCHED.get(type(obj), ())
        state = sa_inspect(obj)
        if any(state.attrs[name].history.has_changes() for name in names):
            changed[type(obj)].add(obj.id)
    invited = {
        obj.participant_id
        for obj in db_session.new
        if isinstance(obj, Invitation) and obj.participant_id is not None
    }
    table = cast(Table, Participant.__table__)
    whom = [
        table.c.id.in_(changed[Participant] | invited),
        table.c.pilot_group_id.in_(changed[PilotGroup]),
        table.c.campaign_id.in_(changed[Campaign]),
        table.c.id.in_(
            select(Invitation.participant_id).where(Invitation.event_id.in_(changed[Event]))
        ),
    ]
    if any(changed.values()) or invited:
        db_session.connection().execute(  # not db_session.execute: that would flush again
            update(table).where(or_(*whom)).values(next_step_at=None, updated_at=table.c.updated_at)
        )
