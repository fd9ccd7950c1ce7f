"""The live dashboard: the report's figures now, for the network or one member.

Beside the figures: where the participants stand in their e-mail sequences, who was invited to
and who came to each meeting held, and the questionnaires' response rates, as tables and charts.
Sequence progress comes from the drip's own plan of each participant
(`campaign.drip.schedule.plans_for`), which alone knows which step is due or was skipped
(business days, holidays, meetings); it is tallied here, not worked out a second time.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from campaign.drip.schedule import plans_for
from campaign.enrolment.models import Participant
from campaign.events.models import Event, Invitation, Rsvp
from campaign.network.models import Campaign
from campaign.report import charts
from campaign.report.figures import Figures, MemberFigures, compute
from campaign.surveys import results, service
from campaign.surveys.definitions import Definition, definitions
from campaign.surveys.models import Questionnaire

CHUNK = 2000  # participants planned at a time, to keep each IN (...) list short


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
    questionnaires = [
        (q, definitions()[q.definition], _rates(db_session, q))
        for q in service.questionnaires_of(db_session, campaign)
        if q.definition in definitions()
    ]
    return Dashboard(
        figures=figures,
        members=members,
        questionnaires=questionnaires,
        progress=sequence_progress(db_session, campaign, organisation_id, now),
        attendance=attendance(db_session, campaign, figures.as_of, organisation_id),
        charts=_charts(members),
        rate_charts=[_rate_chart(members, q, language) for q in questionnaires],
    )


def _rates(db_session: Session, questionnaire: Questionnaire) -> dict[int, results.Rate]:
    return {r.organisation.id: r for r in results.rates(db_session, questionnaire)}


def sequence_progress(
    db_session: Session, campaign: Campaign, organisation_id: int | None, now: datetime
) -> dict[int, list[SequenceProgress]]:
    """Per member and sequence: how many have had each step, and how many the last one."""
    statement = (
        select(Participant)
        .where(Participant.campaign_id == campaign.id, Participant.pilot_group_id.is_not(None))
        .order_by(Participant.id)
    )
    if organisation_id is not None:
        statement = statement.where(Participant.organisation_id == organisation_id)
    people = list(db_session.scalars(statement))
    found: dict[tuple[int, str], SequenceProgress] = {}
    for start in range(0, len(people), CHUNK):
        chunk = people[start : start + CHUNK]
        plans = plans_for(db_session, chunk, now)
        for person in chunk:
            if plans[person.id]:
                _tally(found, person.organisation_id, plans[person.id])
    by_member: dict[int, list[SequenceProgress]] = defaultdict(list)
    for (org_id, _name), progress in sorted(found.items()):
        by_member[org_id].append(progress)
    return dict(by_member)


def _tally(found: dict[tuple[int, str], SequenceProgress], org_id: int, plan: list[Any]) -> None:
    name = plan[0].step.sequence
    progress = found.setdefault((org_id, name), SequenceProgress(org_id, name))
    progress.participants += 1
    sent = {p.step.number for p in plan if p.state == "sent"}
    for number in {p.step.number for p in plan}:
        progress.had[number] += number in sent
    if max(p.step.number for p in plan) in sent:
        progress.on_last += 1


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
    drawn = []
    if any(m.membership.enrolment_target for m in members):
        drawn.append(
            charts.bars(
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
        )
    drawn.append(
        charts.bars(
            _("E-mails delivered per member"),
            _("E-mails delivered to each member's participants."),
            [charts.Bar(m.organisation.short_name, m.delivered) for m in members],
        )
    )
    return drawn


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
