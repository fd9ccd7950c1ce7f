"""The figures of the final report and the dashboard, computed in the database.

Every count is one GROUP BY per kind of row (participants, mail, attendance, answers), never a
loop over rows in Python, and every one is taken "as of" one moment, so that the same data
gives the same figures whenever the report is made again. Outcomes come from the follow-up
questionnaire's numbers marked `outcome:` (trips, km, hours), counted as the questionnaires'
results count them (campaign/surveys/disclosure.py): in whole groups of five answers per
member, in the order given, as of the moment; the network's outcomes add up the members'. So
two reports, of any two moments, differ by whole groups of at least five people's answers, and
a member with fewer than five answers has none counted (its outcomes are not shown).

A participant counts as one who took part if active, paused or completed, or stopped (see
campaign/enrolment/lifecycle.py) after at least one e-mail of the campaign was delivered to them
by the moment; people invited who never confirmed, and people whose data was erased, are not
counted. Those whose address bounced for good (campaign/inbound/bounces.py) are counted apart,
not as having taken part, and so are the soft bounces of each member's mail.

Default factors (set per campaign by the lead administrator):
- CO2: 0.133 kg per km, the average certified tailpipe CO2 of all cars in traffic in Sweden in
  2022 (132.6 g/km, NEDC), Statistics Sweden via Miljöbarometern's 2030 indicators.
- Money: 2.50 SEK per km, Skatteverket's tax-free mileage allowance for one's own car
  (25 kr per mil since 2023), what an employer pays for a trip by car.
- Time: no default; a value per hour is the organisation's own choice (a salary cost).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, distinct, func, null, select
from sqlalchemy.orm import Session

from campaign.enrolment.lifecycle import STOPPED
from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup
from campaign.events.models import Event, EventKind, Invitation
from campaign.network.models import Campaign, Membership, Organisation
from campaign.outbox.inbound import InboundKind, InboundMessage
from campaign.outbox.models import Message, MessageState, Suppression
from campaign.report import outcomes
from campaign.report.outcomes import Outcomes
from campaign.timing import local_text

TRAINING_KINDS = (EventKind.TRAINING, EventKind.PRACTICE_MEETING)
TAKING_PART = (ParticipantStatus.ACTIVE, ParticipantStatus.PAUSED, ParticipantStatus.COMPLETED)
COUNTED_APART = (ParticipantStatus.BOUNCED, ParticipantStatus.ERASED)  # stopped, not taking part


@dataclass
class MemberFigures:
    organisation: Organisation
    membership: Membership
    participants: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    pilot_groups: int = 0
    mail: dict[str, int] = field(default_factory=dict)  # by message state
    trained: int = 0
    events_held: int = 0
    suppressed: int = 0  # participants whose address is on the suppression list
    soft_bounces: int = 0  # reports of mail that could not be delivered for now (4.x.x)
    outcomes: Outcomes = field(default_factory=Outcomes)
    co2_kg: float | None = None  # None while the outcomes are suppressed
    money: float | None = None

    @property
    def delivered(self) -> int:
        return self.mail.get(MessageState.SENT.value, 0)


@dataclass
class Figures:
    campaign: Campaign
    as_of: datetime
    members: list[MemberFigures]
    outcomes: Outcomes
    co2_kg: float | None
    money: float | None
    mail_by_month: list[tuple[str, int]] = field(default_factory=list)

    @property
    def moment(self) -> str:
        """The moment of the figures to the second, in the campaign's zone, with its offset."""
        return self.as_of.astimezone(ZoneInfo(self.campaign.timezone)).isoformat()

    @property
    def when(self) -> str:
        """The moment as people write it, in the language being written: '1 april 2015 kl.
        12.00', in the campaign's zone."""
        return local_text(self.as_of, ZoneInfo(self.campaign.timezone))

    @property
    def field_value(self) -> str:
        """The moment for a date and time field: local, to the second, without an offset."""
        return self.as_of.astimezone(ZoneInfo(self.campaign.timezone)).strftime("%Y-%m-%dT%H:%M:%S")

    @property
    def participants(self) -> int:
        return sum(m.participants for m in self.members)

    @property
    def trained(self) -> int:
        return sum(m.trained for m in self.members)

    @property
    def delivered(self) -> int:
        return sum(m.delivered for m in self.members)

    @property
    def people_reached(self) -> int:
        return sum(m.membership.people_reached or 0 for m in self.members)

    @property
    def people_with_access(self) -> int:
        return sum(m.membership.people_with_access or 0 for m in self.members)

    @property
    def members_with_access(self) -> int:
        return sum(1 for m in self.members if m.membership.people_with_access)


Members = dict[int, MemberFigures]  # by organisation id


def compute(db_session: Session, campaign: Campaign, as_of: datetime) -> Figures:
    """Return the campaign's figures as of one moment (to the second, as the report prints it)."""
    as_of = as_of.astimezone(UTC).replace(microsecond=0)
    rows = db_session.execute(
        select(Membership, Organisation)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(Membership.campaign_id == campaign.id)
    ).all()
    members = {o.id: MemberFigures(o, m) for m, o in rows}
    counts = (_participants, _pilot_groups, _trained, _events_held, _suppressed, _soft)
    for count in counts:
        count(db_session, campaign, as_of, members)
    by_month = _mail(db_session, campaign, as_of, members)
    network = _outcomes(db_session, campaign, as_of, members)
    for member in members.values():
        member.co2_kg, member.money = valued(member.outcomes, campaign)
    co2, money = valued(network, campaign)
    ordered = sorted(members.values(), key=lambda m: m.organisation.short_name)
    return Figures(campaign, as_of, ordered, network, co2, money, by_month)


def _participants(
    db_session: Session, campaign: Campaign, as_of: datetime, members: Members
) -> None:
    """Count the participants by status, and those who took part."""
    for org_id, status, n, took_part in db_session.execute(
        select(
            Participant.organisation_id,
            Participant.status,
            func.count(),
            func.coalesce(func.sum(_took_part(campaign, as_of)), 0),
        )
        .where(Participant.campaign_id == campaign.id, Participant.created_at <= as_of)
        .group_by(Participant.organisation_id, Participant.status)
    ):
        members[org_id].by_status[status.value] = n
        members[org_id].participants += took_part


def _pilot_groups(
    db_session: Session, campaign: Campaign, as_of: datetime, members: Members
) -> None:
    """Count the pilot groups (as they are now: a group has no history)."""
    for org_id, n in db_session.execute(
        select(PilotGroup.organisation_id, func.count())
        .where(PilotGroup.campaign_id == campaign.id)
        .group_by(PilotGroup.organisation_id)
    ):
        members[org_id].pilot_groups = n


def _mail(
    db_session: Session, campaign: Campaign, as_of: datetime, members: Members
) -> list[tuple[str, int]]:
    """Count the mail to participants due by then, by state (a mail counts as sent only if it
    was sent by then), and return the mail delivered per calendar month of the campaign's zone.

    Two passes, each over a range of the report's index: the mail delivered, per member and
    month, and the rest (a few per cent), per member and state. As one pass grouped by member,
    state, due and month, a national campaign's fifteen million mails took 6.1 s; as two, 2.6."""
    sent = _sent(campaign, as_of)
    month = _local_month(db_session, campaign, sent)
    delivered = (
        select(Message.organisation_id, _or_null(month), func.count())
        .where(*sent, Message.due_at <= as_of)
        .group_by(Message.organisation_id, "month")
    )
    by_month: dict[str, int] = {}
    for org_id, local_month, n in db_session.execute(delivered):
        _count(members, org_id, MessageState.SENT, n)
        if local_month is not None:
            label = _month_label(local_month)
            by_month[label] = by_month.get(label, 0) + n
    unsent = [state for state in MessageState if state is not MessageState.SENT]
    for org_id, state, n in db_session.execute(
        select(Message.organisation_id, Message.state, func.count())
        .where(*sent[:2], Message.state.in_(unsent), Message.due_at <= as_of)
        .group_by(Message.organisation_id, Message.state)
    ):
        _count(members, org_id, state, n)
    return sorted(by_month.items())


def _count(members: Members, org_id: int | None, state: MessageState, n: int) -> None:
    """Add `n` mails in `state` to the member's count (mail of a member no longer in the
    campaign is left out)."""
    if org_id in members:
        counted = members[org_id].mail
        counted[state.value] = counted.get(state.value, 0) + n


def _sent(campaign: Campaign, as_of: datetime) -> tuple[ColumnElement[bool], ...]:
    """The mail delivered to the campaign's participants by the moment (the first two: all
    the mail to its participants)."""
    return (
        Message.campaign_id == campaign.id,
        Message.participant_id.is_not(None),
        Message.state == MessageState.SENT,
        Message.sent_at <= as_of,
    )


def _or_null(month: Any) -> Any:
    return (month if month is not None else null()).label("month")


def _trained(db_session: Session, campaign: Campaign, as_of: datetime, members: Members) -> None:
    """Count the people who came to a training held by then."""
    for org_id, n in db_session.execute(
        select(Participant.organisation_id, func.count(distinct(Participant.id)))
        .join(Invitation, Invitation.participant_id == Participant.id)
        .join(Event, Event.id == Invitation.event_id)
        .where(_held(campaign, as_of), Invitation.has_attended.is_(True))
        .group_by(Participant.organisation_id)
    ):
        members[org_id].trained = n


def _events_held(
    db_session: Session, campaign: Campaign, as_of: datetime, members: Members
) -> None:
    """Count the trainings each member held by then."""
    for org_id, n in db_session.execute(
        select(Event.organisation_id, func.count())
        .where(_held(campaign, as_of))
        .group_by(Event.organisation_id)
    ):
        if org_id in members:
            members[org_id].events_held = n


def _held(campaign: Campaign, as_of: datetime) -> ColumnElement[bool]:
    """The trainings (and practice meetings) of the campaign held by the moment."""
    return and_(
        Event.campaign_id == campaign.id,
        Event.kind.in_(TRAINING_KINDS),
        Event.is_cancelled.is_(False),
        Event.ends_at <= as_of,
    )


def _suppressed(db_session: Session, campaign: Campaign, as_of: datetime, members: Members) -> None:
    """Count the participants whose address was on the suppression list by then (after a
    purge, which takes the addresses away, by the moment each participant kept of it)."""
    since = func.coalesce(Participant.suppressed_at, Suppression.created_at)
    for org_id, n in db_session.execute(
        select(Participant.organisation_id, func.count())
        .outerjoin(Suppression, Suppression.email == Participant.email)
        .where(Participant.campaign_id == campaign.id, since <= as_of)
        .group_by(Participant.organisation_id)
    ):
        members[org_id].suppressed = n


def _soft(db_session: Session, campaign: Campaign, as_of: datetime, members: Members) -> None:
    """Count the soft bounces (reports received by then) of each member's mail."""
    for org_id, n in db_session.execute(
        select(InboundMessage.organisation_id, func.count())
        .where(
            InboundMessage.campaign_id == campaign.id,
            InboundMessage.kind == InboundKind.SOFT_BOUNCE,
            InboundMessage.received_at <= as_of,
        )
        .group_by(InboundMessage.organisation_id)
    ):
        if org_id in members:
            members[org_id].soft_bounces = n


def _took_part(campaign: Campaign, as_of: datetime) -> Any:
    """1 for a participant who took part by the moment, else 0 (see the module's docstring).

    Whether a stopped participant was reached is asked of their own mail (EXISTS, by the index
    on participant_id, only for the stopped ones): as `IN (all the mail reached)` PostgreSQL
    searched a list of 600,000 ids once per participant at a million (95 s)."""
    reached = (
        select(Message.id)
        .where(
            Message.participant_id == Participant.id,
            Message.campaign_id == campaign.id,
            Message.state == MessageState.SENT,
            Message.sent_at <= as_of,
        )
        .exists()
    )
    return case(
        (Participant.status.in_(TAKING_PART), 1),
        (Participant.status.in_(COUNTED_APART), 0),
        (and_(Participant.status.in_(STOPPED), reached), 1),
        else_=0,
    )


def valued(outcomes: Outcomes, campaign: Campaign) -> tuple[float | None, float | None]:
    """Return the outcomes as kg CO2 and kronor by the campaign's factors; None if suppressed."""
    if outcomes.suppressed:
        return None, None
    co2 = outcomes.km * campaign.co2_kg_per_km
    money = outcomes.km * campaign.cost_per_km + outcomes.hours * (campaign.cost_per_hour or 0)
    return co2, money


def _month_label(month: str | datetime) -> str:
    """YYYY-MM of a month (the CASE of _month_case gives the text itself)."""
    return month if isinstance(month, str) else month.strftime("%Y-%m")


def _local_month(
    db_session: Session, campaign: Campaign, sent: tuple[ColumnElement[bool], ...]
) -> Any:
    """YYYY-MM of a message's local month, in SQL; None when no message is `sent`.

    A CASE over the instants the months begin, on PostgreSQL too: there, date_trunc of each
    row's local time (timezone()) took 40 % of the report's pass over the outbox (1.21 s
    against 0.73 s at 1.5 million mails), and the first and last sent mail are two index reads.
    """
    first, last = db_session.execute(
        select(func.min(Message.sent_at), func.max(Message.sent_at)).where(*sent)
    ).one()
    if first is None or last is None:  # both or neither: no mail sent yet
        return None
    zone = ZoneInfo(campaign.timezone)
    return _month_case(Message.sent_at, first.astimezone(zone), last.astimezone(zone))


def _month_case(column: Any, first: datetime, last: datetime) -> Any:
    """YYYY-MM of the local month of an instant: a CASE over the UTC instants at which the
    local months between `first` and `last` begin."""
    zone = first.tzinfo
    year, month = first.year, first.month
    whens = []
    while (year, month) <= (last.year, last.month):
        following = (year + month // 12, month % 12 + 1)
        starts = datetime(*following, 1, tzinfo=zone).astimezone(UTC)
        whens.append((column < starts, f"{year:04d}-{month:02d}"))
        year, month = following
    return case(*whens, else_=f"{last.year:04d}-{last.month:02d}")


def _outcomes(
    db_session: Session, campaign: Campaign, as_of: datetime, members: dict[int, MemberFigures]
) -> Outcomes:
    """Each member's outcomes as of the moment, from the follow-ups' answers that count."""
    network, per_member = outcomes.as_of(db_session, campaign, as_of)
    for org_id, member in members.items():
        member.outcomes = per_member[org_id]
    return network
