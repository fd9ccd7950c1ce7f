"""The figures of the final report and the dashboard, computed in the database.

Every count is one GROUP BY per kind of row (participants, mail, attendance, answers), never a
loop over rows in Python, and every one is taken "as of" one moment, so that the same data
gives the same figures whenever the report is made again. Outcomes come from the follow-up
questionnaire's numbers marked `outcome:` (trips, km, hours); any member with fewer than five
respondents has its outcomes suppressed, as in the questionnaire results.

Default factors (set per campaign by the lead administrator):
- CO2: 0.133 kg per km, the average certified tailpipe CO2 of all cars in traffic in Sweden in
  2022 (132.6 g/km, NEDC), Statistics Sweden via Miljöbarometern's 2030 indicators.
- Money: 2.50 SEK per km, Skatteverket's tax-free mileage allowance for one's own car
  (25 kr per mil since 2023), what an employer pays for a trip by car.
- Time: no default; a value per hour is the organisation's own choice (a salary cost).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, distinct, func, or_, select
from sqlalchemy.orm import Session

from campaign.enrolment.models import Participant, PilotGroup
from campaign.events.models import Event, EventKind, Invitation
from campaign.network.models import Campaign, Membership, Organisation
from campaign.outbox.models import Message, MessageState, Suppression
from campaign.surveys.definitions import definitions
from campaign.surveys.models import Questionnaire, QuestionnaireKind, Response
from campaign.surveys.results import MIN_RESPONDENTS

TRAINING_KINDS = (EventKind.TRAINING, EventKind.PRACTICE_MEETING)


@dataclass
class Outcomes:
    respondents: int = 0
    trips: int = 0
    km: int = 0
    hours: int = 0

    @property
    def suppressed(self) -> bool:
        return self.respondents < MIN_RESPONDENTS


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
    outcomes: Outcomes = field(default_factory=Outcomes)

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


def compute(db_session: Session, campaign: Campaign, as_of: datetime) -> Figures:
    """Return the campaign's figures as of one moment."""
    rows = db_session.execute(
        select(Membership, Organisation)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(Membership.campaign_id == campaign.id)
    ).all()
    members = {o.id: MemberFigures(o, m) for m, o in rows}

    for org_id, status, n in db_session.execute(
        select(Participant.organisation_id, Participant.status, func.count())
        .where(Participant.campaign_id == campaign.id, Participant.created_at <= as_of)
        .group_by(Participant.organisation_id, Participant.status)
    ):
        members[org_id].by_status[status.value] = n
        members[org_id].participants += n

    for org_id, n in db_session.execute(
        select(PilotGroup.organisation_id, func.count())
        .where(PilotGroup.campaign_id == campaign.id)
        .group_by(PilotGroup.organisation_id)
    ):
        members[org_id].pilot_groups = n

    # Mail to participants by state; a mail counts as sent only if it was sent by then.
    for org_id, state, n in db_session.execute(
        select(Message.organisation_id, Message.state, func.count())
        .where(
            Message.campaign_id == campaign.id,
            Message.participant_id.is_not(None),
            Message.due_at <= as_of,
            or_(Message.state != MessageState.SENT, Message.sent_at <= as_of),
        )
        .group_by(Message.organisation_id, Message.state)
    ):
        if org_id in members:
            members[org_id].mail[state.value] = n

    held = and_(
        Event.campaign_id == campaign.id,
        Event.kind.in_(TRAINING_KINDS),
        Event.is_cancelled.is_(False),
        Event.ends_at <= as_of,
    )
    for org_id, n in db_session.execute(
        select(Participant.organisation_id, func.count(distinct(Participant.id)))
        .join(Invitation, Invitation.participant_id == Participant.id)
        .join(Event, Event.id == Invitation.event_id)
        .where(held, Invitation.has_attended.is_(True))
        .group_by(Participant.organisation_id)
    ):
        members[org_id].trained = n
    for org_id, n in db_session.execute(
        select(Event.organisation_id, func.count()).where(held).group_by(Event.organisation_id)
    ):
        if org_id in members:
            members[org_id].events_held = n

    for org_id, n in db_session.execute(
        select(Participant.organisation_id, func.count())
        .join(Suppression, Suppression.email == Participant.email)
        .where(Participant.campaign_id == campaign.id, Suppression.created_at <= as_of)
        .group_by(Participant.organisation_id)
    ):
        members[org_id].suppressed = n

    network = _outcomes(db_session, campaign, as_of, members)
    co2 = money = None
    if not network.suppressed:
        co2 = network.km * campaign.co2_kg_per_km
        money = network.km * campaign.cost_per_km + network.hours * (campaign.cost_per_hour or 0)
    month = _month(db_session, Message.sent_at)
    by_month = [
        (label, n)
        for label, n in db_session.execute(
            select(month, func.count())
            .where(
                Message.campaign_id == campaign.id,
                Message.participant_id.is_not(None),
                Message.state == MessageState.SENT,
                Message.sent_at <= as_of,
            )
            .group_by(month)
            .order_by(month)
        )
    ]
    ordered = sorted(members.values(), key=lambda m: m.organisation.short_name)
    return Figures(campaign, as_of, ordered, network, co2, money, by_month)


def _month(db_session: Session, column: Any) -> Any:
    """The calendar month (YYYY-MM, UTC) of an instant, in the database's own dialect."""
    if db_session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    return func.strftime("%Y-%m", column)


def outcome_questions() -> dict[str, str]:
    """The follow-up's question id of each outcome: {"trips": ..., "km": ..., "hours": ...}."""
    found = {}
    for definition in definitions().values():
        if definition.kind == QuestionnaireKind.FOLLOW_UP.value:
            for question in definition.questions:
                if question.outcome:
                    found[question.outcome] = question.id
    return found


def _outcomes(
    db_session: Session, campaign: Campaign, as_of: datetime, members: dict[int, MemberFigures]
) -> Outcomes:
    ids = outcome_questions()
    sums = [
        func.coalesce(func.sum(Response.answers[ids[name]].as_integer()), 0)
        for name in ("trips", "km", "hours")
    ]
    network = Outcomes()
    per_member: dict[int, Outcomes] = defaultdict(Outcomes)
    for org_id, respondents, trips, km, hours in db_session.execute(
        select(Response.organisation_id, func.count(), *sums)
        .join(Questionnaire, Questionnaire.id == Response.questionnaire_id)
        .where(
            Questionnaire.campaign_id == campaign.id,
            Questionnaire.kind == QuestionnaireKind.FOLLOW_UP,
            Response.submitted_at <= as_of,
        )
        .group_by(Response.organisation_id)
    ):
        per_member[org_id] = Outcomes(respondents, trips, km, hours)
        network.respondents += respondents
        network.trips += trips
        network.km += km
        network.hours += hours
    for org_id, member in members.items():
        member.outcomes = per_member[org_id]
    return network
