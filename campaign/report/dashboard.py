"""The live dashboard: the report's figures now, for the network or one member.

Beside the figures: where the participants stand in their e-mail sequences, who was invited to
and who came to each meeting held, and the questionnaires' response rates, as tables and charts
(who has answered is not hidden from staff; what they answered counts only in whole groups of
five, campaign/surveys/disclosure.py).
Sequence progress is counted in the database from the outbox's delivered steps, so that the
page stays quick with hundreds of thousands of participants.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import ColumnElement, case, distinct, func, or_, select
from sqlalchemy.orm import Session

from campaign.drip.files import Sequence
from campaign.drip.stored import campaign_sequences
from campaign.enrolment.models import Participant, PilotGroup
from campaign.events.models import Event, Invitation, Rsvp
from campaign.network.models import Campaign
from campaign.outbox.models import Message, MessageKind, MessageState
from campaign.report import charts
from campaign.report.figures import Figures, MemberFigures, compute
from campaign.surveys import results, service
from campaign.surveys.definitions import Definition
from campaign.surveys.models import Questionnaire
from campaign.surveys.stored import definition_of

PER_MEETING = "%:seq:%:e%"  # the outbox key of a step sent once per meeting ends ':e<event>'


@dataclass
class SequenceProgress:
    organisation_id: int
    sequence: str
    participants: int = 0  # in a pilot group that follows the sequence
    had: Counter[str] = field(default_factory=Counter)  # step number -> participants sent it
    on_last: int = 0  # participants who have had the sequence's last step

    @property
    def steps(self) -> list[tuple[str, int]]:
        return sorted(self.had.items())


@dataclass
class Attendance:
    event: Event
    invited: int
    accepted: int
    attended: int


@dataclass
class Dashboard:
    figures: Figures
    members: list[MemberFigures]
    questionnaires: list[tuple[Questionnaire, Definition, dict[int, results.Rate]]]
    progress: dict[int, list[SequenceProgress]]
    attendance: list[Attendance]
    charts: list[Markup]
    rate_charts: list[Markup]  # one per questionnaire: its response rate per member


def build(
    db_session: Session,
    campaign: Campaign,
    organisation_id: int | None,
    now: datetime,
    language: str,
) -> Dashboard:
    """Gather the dashboard of the network (organisation_id None) or of one member."""
    figures = compute(db_session, campaign, now)
    members = [
        m
        for m in figures.members
        if organisation_id is None or m.organisation.id == organisation_id
    ]
    questionnaires = _questionnaires(db_session, campaign, now)
    return Dashboard(
        figures=figures,
        members=members,
        questionnaires=questionnaires,
        progress=sequence_progress(db_session, campaign, organisation_id, now),
        attendance=attendance(db_session, campaign, figures.as_of, organisation_id),
        charts=_charts(members),
        rate_charts=[_rate_chart(members, q, language) for q in questionnaires],
    )


def _questionnaires(
    db_session: Session, campaign: Campaign, now: datetime
) -> list[tuple[Questionnaire, Definition, dict[int, results.Rate]]]:
    """The campaign's questionnaires that have a definition, with their response rates per
    member."""
    found = [
        (q, definition_of(db_session, q))
        for q in service.questionnaires_of(db_session, campaign, now)
    ]
    return [(q, d, _rates(db_session, q)) for q, d in found if d is not None]


def _rates(db_session: Session, questionnaire: Questionnaire) -> dict[int, results.Rate]:
    return {r.organisation.id: r for r in results.rates(db_session, questionnaire).rows}


def sequence_progress(
    db_session: Session, campaign: Campaign, organisation_id: int | None, now: datetime
) -> dict[int, list[SequenceProgress]]:
    """Per member and sequence: how many have had each step, and how many the last one.

    Counted in the database: the participants per member and sequence, and the sequence steps
    delivered by `now` per member and step (a step is known by its outbox key,
    `p:<participant>:seq:<sequence>/<number>`). The last step is the last one counted from the
    start; a step anchored to a meeting comes only to some.
    """
    sequences = campaign_sequences(db_session, campaign.id)
    found = _followers(db_session, campaign, organisation_id, sequences)
    names = sorted({name for _org, name in found})
    if not names:
        return {}
    postgres = db_session.get_bind().dialect.name == "postgresql"
    step, labels = _step(sequences, names, postgres)
    delivered = _delivered(campaign, organisation_id, now)
    for (org_id, key), count in _delivered_steps(db_session, step, delivered).items():
        label = labels.get(key)
        if label is None:
            continue  # not a step of these sequences (any more)
        name, number = label.split("/")
        if (org_id, name) in found:
            found[(org_id, name)].had[number] += count
    by_member: dict[int, list[SequenceProgress]] = defaultdict(list)
    for (org_id, name), progress in sorted(found.items()):
        progress.on_last = progress.had[_last_from_start(sequences[name])]
        by_member[org_id].append(progress)
    return dict(by_member)


def _followers(
    db_session: Session,
    campaign: Campaign,
    organisation_id: int | None,
    sequences: dict[str, Sequence],
) -> dict[tuple[int, str], SequenceProgress]:
    """Per member and sendable sequence, how many participants follow it (no step had yet)."""
    groups = (
        select(Participant.organisation_id, PilotGroup.sequence_name, func.count())
        .join(PilotGroup, Participant.pilot_group_id == PilotGroup.id)
        .where(Participant.campaign_id == campaign.id, PilotGroup.sequence_name.is_not(None))
        .group_by(Participant.organisation_id, PilotGroup.sequence_name)
    )
    if organisation_id is not None:
        groups = groups.where(Participant.organisation_id == organisation_id)
    found: dict[tuple[int, str], SequenceProgress] = {}
    for org_id, name, count in db_session.execute(groups):
        if name in sequences:
            progress = SequenceProgress(org_id, name, participants=count)
            progress.had.update({number: 0 for number in _numbers(sequences[name])})
            found[(org_id, name)] = progress
    return found


def _numbers(sequence: Sequence) -> list[str]:
    return sorted(dict(_idents(sequence)).values())


def _idents(sequence: Sequence) -> list[tuple[str, str]]:
    """Each step's lasting key (in the outbox) with its place in the sequence now."""
    return sorted(
        {(s.ident or s.number, s.number) for steps in sequence.steps.values() for s in steps}
    )


def _last_from_start(sequence: Sequence) -> str:
    """The last step everyone gets: counted from the start or the campaign's end, not from a
    meeting or a milestone ("" when there is none, which no one has had)."""
    return max(
        (
            step.number
            for steps in sequence.steps.values()
            for step in steps
            if step.anchor in ("start", "campaign_end")
        ),
        default="",
    )


def _delivered_steps(
    db_session: Session, step: Any, delivered: tuple[ColumnElement[bool], ...]
) -> Counter[tuple[int, str]]:
    """Per organisation and step, the participants who were delivered that step (of the mail
    `delivered`).

    A step's outbox key is one per participant, so its mail is counted as it is, in one pass
    grouped by member and step (on PostgreSQL a parallel one: migration 0035 gives the planner
    the statistics of the step's expression, without which it expected a group a row and read
    eight million mails in one process, 3.1 s against 1.5 s). Only a step sent once per
    meeting (a key ending `:e<event>`) is then counted per participant, from those keys alone
    (their own partial index), and its count of mails replaced by its count of people. A
    participant who had a step before its anchor was changed to a meeting, and then again for
    a meeting, counts twice for it.
    """
    per_meeting = Message.source_key.like(PER_MEETING)
    erased = func.sum(case((Message.participant_id.is_(None), 1), else_=0))  # each on its own
    people = func.count(distinct(Message.participant_id)) + erased
    mails = (
        select(Message.organisation_id, step, func.count().label("n"))
        .where(*delivered)
        .group_by(Message.organisation_id, "step")
    )
    instead = (  # each meeting step's people in place of its mails
        select(Message.organisation_id, step, (people - func.count()).label("n"))
        .where(*delivered, per_meeting)
        .group_by(Message.organisation_id, "step")
    )
    counts: Counter[tuple[int, str]] = Counter()
    # Two statements: as one (UNION ALL) PostgreSQL ran the large count in one process (2.6 s
    # against 1.3 s). A meeting step's mail recorded between the two, with a `sent_at` before
    # `now`, can make that step's count one off until the page is loaded again.
    for statement in (mails, instead):
        for org_id, key, count in db_session.execute(statement):
            if key is not None:
                counts[(org_id, key)] += count
    return counts


def _delivered(
    campaign: Campaign, organisation_id: int | None, now: datetime
) -> tuple[ColumnElement[bool], ...]:
    """The sequence mail delivered by `now` (of one member's people, if given)."""
    delivered = (
        Message.campaign_id == campaign.id,
        Message.kind == MessageKind.SEQUENCE_STEP,
        Message.state == MessageState.SENT,
        Message.sent_at <= now,
    )
    if organisation_id is None:
        return delivered
    return (*delivered, Message.organisation_id == organisation_id)


def _step(
    sequences: dict[str, Sequence], names: list[str], postgres: bool
) -> tuple[Any, dict[str, str]]:
    """A message's step as SQL, read from its outbox key, and what each value it gives is as
    'sequence/number' (a value not in it is no step of these sequences)."""
    key = Message.source_key
    if postgres:
        # The key's step as it is, 'sequence/ident', named in Python: a CASE naming sixteen
        # steps on every row took a third of the count (1.3 s of 4.1 at eight million mails).
        labels = {f"{name}/{ident}": f"{name}/{number}" for name in names
                  for ident, number in _idents(sequences[name])}  # fmt: skip
        return func.split_part(func.split_part(key, ":seq:", 2), ":", 1).label("step"), labels
    whens = [
        (
            or_(key.like(f"%:seq:{name}/{ident}"), key.like(f"%:seq:{name}/{ident}:%")),
            f"{name}/{number}",
        )
        for name in names
        for ident, number in _idents(sequences[name])
    ]
    return case(*whens, else_=None).label("step"), {label: label for _, label in whens}


def attendance(
    db_session: Session, campaign: Campaign, as_of: datetime, organisation_id: int | None
) -> list[Attendance]:
    """Invited, accepted and attended of each meeting held by then (one member's people only)."""
    statement = (
        select(
            Event,
            func.count(Invitation.id),
            func.coalesce(func.sum(case((Invitation.rsvp == Rsvp.ACCEPTED, 1), else_=0)), 0),
            func.coalesce(func.sum(case((Invitation.has_attended.is_(True), 1), else_=0)), 0),
        )
        .join(Invitation, Invitation.event_id == Event.id)
        .join(Participant, Participant.id == Invitation.participant_id)
        .where(
            Event.campaign_id == campaign.id,
            Event.is_cancelled.is_(False),
            Event.ends_at <= as_of,
        )
        .group_by(Event.id)
        .order_by(Event.starts_at, Event.id)
    )
    if organisation_id is not None:
        statement = statement.where(Participant.organisation_id == organisation_id)
    return [Attendance(*row) for row in db_session.execute(statement)]


def _charts(members: list[MemberFigures]) -> list[Markup]:
    drawn = [_target_chart(members)] if any(m.membership.enrolment_target for m in members) else []
    drawn.append(
        charts.bars(
            _("E-mails delivered per member"),
            _("E-mails delivered to each member's participants."),
            [charts.Bar(m.organisation.short_name, m.delivered) for m in members],
        )
    )
    return drawn


def _target_chart(members: list[MemberFigures]) -> Markup:
    """Each member's enrolled participants as a share of its target, in per cent."""
    return charts.bars(
        _("Enrolled against the target"),
        _("Participants enrolled by each member, as a share of its target, in per cent."),
        [
            charts.Bar(
                m.organisation.short_name,
                round(100 * m.participants / m.membership.enrolment_target)
                if m.membership.enrolment_target
                else None,
                _("no target set"),
            )
            for m in members
        ],
        unit="%",
    )


def _rate_chart(
    members: list[MemberFigures],
    questionnaire: tuple[Questionnaire, Definition, dict[int, results.Rate]],
    language: str,
) -> Markup:
    _q, definition, rates = questionnaire
    return charts.bars(
        _("Response rate: %(questionnaire)s", questionnaire=definition.title[language]),
        _("The share of those sent the questionnaire who answered it, per member."),
        [_rate_bar(m, rates.get(m.organisation.id)) for m in members],
        unit="%",
    )


def _rate_bar(member: MemberFigures, rate: results.Rate | None) -> charts.Bar:
    percent = rate.percent if rate else None
    return charts.Bar(member.organisation.short_name, percent, _("not sent yet"))
