"""Turn sequence steps that have come due into outbox messages, once each.

When a step is due is `drip.due`'s answer. It is queued when that moment has come, through the
outbox's one path for participant mail, so an edit to a step's text reaches everyone who has not
got it yet, and never changes mail already queued. Its source key
`p:<participant>:seq:<sequence>/<number>` is unique in the outbox, so running this twice, or in
two processes at once, queues nothing twice.

Catch-up rule: a participant who starts late, or resumes after a pause, does not get a burst of
old steps. A step more than CATCH_UP overdue is recorded as skipped, except a sequence's first
step (the welcome), which is always sent. A step whose conditions do not hold at its due time is
recorded as skipped too. Only active participants get steps; paused ones wait, and of the steps
that came due during their pause they get one when they resume (campaign/drip/catch_up.py). And
only while their campaign mails its participants (campaign/network/phases.py): nothing before
its start, nothing after its end.

A run reads only the participants whose next step may have come (campaign/drip/next_steps.py
keeps that moment), in chunks, and notes for each when its next step is due.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, or_, select
from sqlalchemy.orm import Session

from campaign.drip.catch_up import Resumption, Timed, after_pause, held_over
from campaign.drip.conditions import named_in
from campaign.drip.due import CATCH_UP, Occurrence, invited_events, next_event, occurrences
from campaign.drip.facts import holding
from campaign.drip.files import Sequence, Step
from campaign.drip.local import Paragraphs, paragraphs_for, places_for
from campaign.drip.next_steps import NOTHING_LEFT, note_next_steps
from campaign.drip.places import Places
from campaign.drip.stored import campaign_sequences
from campaign.enrolment.mail import addressee
from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup
from campaign.events.models import Event
from campaign.milestones.dates import Whose, dates_for
from campaign.network.models import Campaign, Membership, Organisation
from campaign.network.phases import mailing_campaigns
from campaign.outbox.mail import queue_participant_mail
from campaign.outbox.models import Message, MessageKind
from campaign.outbox.texts import Letter, first_name
from campaign.timing import long_day, moment_text

CHUNK = 2000  # participants read at a time
LATE = "skipped: more than two days late (a late start or a pause)"
# How often a step that offers the next date looks again for one while none is planned yet.
LOOK_AGAIN = timedelta(hours=1)
NO_LATER_DATE = "skipped: no later date to offer"
WAIT = "wait for a later date"  # a due step that offers the next date, while none is planned


@dataclass(frozen=True)
class Enrolled:
    participant: Participant
    group: PilotGroup
    membership: Membership
    organisation: Organisation
    campaign: Campaign


@dataclass(frozen=True)
class Run:
    """A run at `now` over a chunk of participants: the step mails they already have, the
    conditions that hold for them, the events they are invited to, their milestones, and their
    members' own paragraphs (campaign/drip/local.py)."""

    now: datetime
    done: set[str]
    holds: dict[str, set[int]]
    events: dict[int, list[Event]]
    held_over: set[int]  # participants with a step held over their last pause
    milestones: dict[Whose, dict[str, date]]  # each member's milestone dates (campaign/milestones)
    local: Paragraphs = field(default_factory=dict)


def materialize(
    db_session: Session,
    now: datetime,
    sequences: dict[str, Sequence] | None = None,
    *,
    everyone: bool = False,
    share: tuple[int, int] = (0, 1),
    checkpoint: Callable[[], None] | None = None,
) -> int:
    """Queue every step that has come due; return how many rows were added (sent or skipped).

    Each participant follows their campaign's own copy of their group's sequence
    (campaign/drip/stored.py), unless `sequences` is given for everyone. Only participants whose
    next step may be due are read (`next_step_at` passed, or unknown); with `everyone`, all of
    them, as the hourly sweep does in case a change was missed (campaign/drip/sweep.py), or
    the `share` (k, n) of them whose id is k modulo n. They are read in chunks, so memory stays
    flat however large the network.
    """
    sequences_of = _fixed(sequences) if sequences is not None else _per_campaign(db_session)
    added, after, campaigns = 0, 0, mailing_campaigns(db_session, now)
    due_by = None if everyone else now
    while people := enrolled(
        db_session, due_by=due_by, after=after, campaigns=campaigns, share=share
    ):
        added += _materialize_chunk(db_session, people, sequences_of, now)
        after = people[-1].participant.id
        if checkpoint is not None:
            checkpoint()
    return added


SequencesOf = Callable[[int], dict[str, Sequence]]  # a campaign's id -> its sequences


def _fixed(sequences: dict[str, Sequence]) -> SequencesOf:
    return lambda _campaign_id: sequences


def _per_campaign(db_session: Session) -> SequencesOf:
    """Each campaign's own sequences, read once per run."""
    return functools.cache(lambda campaign_id: campaign_sequences(db_session, campaign_id))


def _materialize_chunk(
    db_session: Session, people: list[Enrolled], sequences_of: SequencesOf, now: datetime
) -> int:
    ids = [p.participant.id for p in people]
    existing = _existing(db_session, ids)
    run = Run(
        now,
        {row.source_key for row in existing},
        holding(db_session, ids, _named(sequences_of, {p.campaign.id for p in people})),
        invited_events(db_session, ids),
        _held_over(existing, people),
        dates_for(db_session, {(p.campaign.id, p.organisation.id) for p in people}),
        paragraphs_for(db_session, {p.membership.id for p in people}),
    )
    added, next_at = 0, []
    for person in people:
        sequence = sequences_of(person.campaign.id).get(person.group.sequence_name or "")
        upcoming = NOTHING_LEFT
        if sequence is not None:
            count, upcoming = _materialize_one(db_session, run, person, sequence)
            added += count
        next_at.append({"pid": person.participant.id, "at": upcoming})
    note_next_steps(db_session, next_at)
    return added


def _materialize_one(
    db_session: Session, run: Run, person: Enrolled, sequence: Sequence
) -> tuple[int, datetime]:
    """Queue what is due for one participant; return how many, and when the next one is due."""
    added, upcoming = 0, NOTHING_LEFT
    for position, step, occurrence in _timed(run, person, sequence):
        if occurrence.due > run.now:
            upcoming = min(upcoming, occurrence.due)
            continue
        following = _following(run, person, occurrence)
        skipped = occurrence.skipped or _verdict(run, person, step, position, occurrence, following)
        if skipped == WAIT:  # (an invitation looks again at once)
            upcoming = min(upcoming, run.now + LOOK_AGAIN)
        elif _queue(db_session, run, person, step, occurrence, following, skipped):
            added += 1
    return added, upcoming


def _timed(run: Run, person: Enrolled, sequence: Sequence) -> list[Timed]:
    """The step mails not in the outbox yet, in the sequence's order, as a pause leaves them."""
    steps = enumerate(_steps_of(sequence, person))
    found = [(n, step, due) for n, step in steps for due in _occurrences(run, person, step)]

    def fits(step: Step) -> bool:  # its conditions hold
        return _unmet(run, person.participant.id, step) is None

    return after_pause(found, _back(run, person), fits)


def _back(run: Run, person: Enrolled) -> Resumption | None:
    """When the participant came back from their last pause, if they were ever paused."""
    at, zone = person.participant.resumed_at, ZoneInfo(person.campaign.timezone)
    return Resumption(at, zone, person.participant.id in run.held_over) if at else None


def _steps_of(sequence: Sequence, person: Enrolled) -> list[Step]:
    """The sequence's steps in the participant's language, else in the campaign's."""
    steps = sequence.steps.get(person.participant.language)
    return steps or sequence.steps.get(person.campaign.language, [])


def _occurrences(run: Run, person: Enrolled, step: Step) -> list[Occurrence]:
    """The step's mails for the participant that are not in the outbox yet."""
    participant, events = person.participant, run.events[person.participant.id]
    dates = run.milestones[(person.campaign.id, person.organisation.id)]
    found = occurrences(step, participant, person.group, person.campaign, events, dates)
    return [occurrence for occurrence in found if occurrence.key not in run.done]


def _following(run: Run, person: Enrolled, occurrence: Occurrence) -> Event | None:
    """The next event of the kind the occurrence follows, if it follows one."""
    if occurrence.event is None:
        return None
    return next_event(run.events[person.participant.id], occurrence.event, run.now)


def _verdict(
    run: Run,
    person: Enrolled,
    step: Step,
    position: int,
    occurrence: Occurrence,
    following: Event | None,
) -> str | None:
    """Why a due mail is skipped; None if it is sent, WAIT while a later date may be planned."""
    skipped = _skip_reason(run, person.participant.id, step, position, occurrence.due)
    if occurrence.event is None or following is not None or not needs_next(step):
        return skipped
    if skipped is None:  # a later date may still be planned: wait while it may
        return WAIT
    return NO_LATER_DATE if skipped == LATE else skipped


def needs_next(step: Step) -> bool:
    """Whether the step offers the next date (names `next_event`)."""
    return "next_event" in step.subject or "next_event" in step.body


def _named(sequences_of: SequencesOf, campaigns: set[int]) -> set[str]:
    """Every condition a step of the campaigns' sequences names."""
    sequences = [seq for c in campaigns for seq in sequences_of(c).values()]
    return named_in(s for seq in sequences for steps in seq.steps.values() for s in steps)


def _skip_reason(
    run: Run, participant_id: int, step: Step, position: int, due: datetime
) -> str | None:
    if position > 0 and run.now - due > CATCH_UP:
        return LATE
    return _unmet(run, participant_id, step)


def _unmet(run: Run, participant_id: int, step: Step) -> str | None:
    """Why the step's conditions do not hold for the participant; None if they do."""
    for condition in step.unless:
        if participant_id in run.holds[condition]:
            return f"skipped: {condition}"
    for condition in step.only_if:
        if participant_id not in run.holds[condition]:
            return f"skipped: not {condition}"
    return None


def _queue(
    db_session: Session,
    run: Run,
    person: Enrolled,
    step: Step,
    occurrence: Occurrence,
    following: Event | None,
    skipped: str | None,
) -> bool:
    """Queue the mail (or its skipped row); return whether it is new."""
    to = addressee(person.participant, person.organisation, person.campaign, person.membership)
    local = places_for(run.local, person.membership.id, step)
    queued = queue_participant_mail(
        db_session,
        to,
        Letter(step.subject, step.body, str(step.path)),
        context_for(person, to.unsubscribe_url, following, local),
        kind=MessageKind.SEQUENCE_STEP,
        source_key=occurrence.key,
        due_at=occurrence.due,
        now=run.now,
        skipped=skipped,
    )
    return queued is not None


def context_for(
    person: Enrolled,
    unsubscribe: str,
    following: Event | None = None,
    local: Places | None = None,
) -> dict[str, Any]:
    """Return the placeholders of a step for one participant."""
    campaign, language = person.campaign, person.participant.language
    context = {
        "participant": _participant_context(person.participant),
        "organisation": {
            "name": person.organisation.name,
            "short_name": person.organisation.short_name,
        },
        "member": _member_context(person.membership),
        "campaign": {"name": campaign.name, "ends_on": long_day(campaign.ends_on, language)},
        "links": {"unsubscribe": unsubscribe},
        "local": local or Places(),
    }
    if following is not None:
        context["next_event"] = _event_context(following, ZoneInfo(campaign.timezone), language)
    return context


def _participant_context(participant: Participant) -> dict[str, str]:
    return {
        "name": participant.name,
        "email": participant.email,
        "title": participant.title,
        "first_name": first_name(participant.name),
    }


def _member_context(member: Membership) -> dict[str, str | None]:
    return {
        "meeting_software": member.meeting_software,
        "contact_name": member.contact_name,
        "contact_title": member.contact_title,
        "contact_email": member.contact_email,
        "guide_url": member.guide_url,
    }


def _event_context(event: Event, zone: ZoneInfo, language: str) -> dict[str, str | None]:
    return {
        "title": event.title,
        "starts": moment_text(event.starts_at, zone, language),  # 2 juli 2014 kl. 10.00
        "join_url": event.join_url,
    }


# Active participants in a pilot group that follows a sequence, with their group, membership,
# organisation and campaign.
ENROLLED = (
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
)


def enrolled(
    db_session: Session,
    participant_id: int | None = None,
    *,
    due_by: datetime | None = None,
    after: int = 0,
    limit: int = CHUNK,
    campaigns: set[int] | None = None,
    share: tuple[int, int] = (0, 1),
) -> list[Enrolled]:
    """Return active participants in a pilot group that follows a sequence (or just one).

    With `due_by`, only those whose next step may be due by then; with `campaigns`, only those
    of these campaigns; with `share` (k, n), only those whose id is k modulo n; in id order,
    `limit` at a time, from the id `after`.
    """
    statement = ENROLLED.where(Participant.id > after).order_by(Participant.id).limit(limit)
    if share[1] > 1:
        statement = statement.where(Participant.id % share[1] == share[0])
    if campaigns is not None:
        statement = statement.where(Participant.campaign_id.in_(campaigns))
    if participant_id is not None:
        statement = statement.where(Participant.id == participant_id)
    if due_by is not None:
        statement = statement.where(
            or_(Participant.next_step_at.is_(None), Participant.next_step_at <= due_by)
        )
    return [Enrolled(*row) for row in db_session.execute(statement)]


def _existing(db_session: Session, participant_ids: list[int]) -> list[Row[Any]]:
    """The participants' step mails in the outbox: key, whose, state and times."""
    columns = (Message.source_key, Message.participant_id, Message.state, Message.created_at)
    return list(
        db_session.execute(
            select(*columns, Message.due_at).where(
                Message.participant_id.in_(participant_ids),
                Message.kind == MessageKind.SEQUENCE_STEP,
            )
        )
    )


def _held_over(existing: list[Row[Any]], people: list[Enrolled]) -> set[int]:
    """The participants among `people` with a step mail held over their last pause."""
    whom = {p.participant.id: p.participant for p in people}
    return {row.participant_id for row in existing if held_over(row, whom[row.participant_id])}
