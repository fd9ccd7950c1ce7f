"""The outcomes the final report converts into CO2 and money: the trips, kilometres and hours
the follow-up questionnaires' answers that count add up to, per member and for the network.

Each follow-up is summed by the outcome questions of its own definition (the campaign's stored
copy or the shipped file), since a copy made as a new version may name them differently.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from campaign.network.models import Campaign
from campaign.surveys.definitions import Definition
from campaign.surveys.disclosure import MIN_RESPONDENTS, counted
from campaign.surveys.models import Questionnaire, QuestionnaireKind, Response
from campaign.surveys.stored import definition_of


@dataclass
class Outcomes:
    respondents: int = 0  # those whose answers count: whole groups of five per member
    trips: int = 0
    km: int = 0
    hours: int = 0

    @property
    def too_few(self) -> bool:
        return self.respondents < MIN_RESPONDENTS

    @property
    def suppressed(self) -> bool:
        """Whether nothing counts yet (a member, or every member, with fewer than five)."""
        return self.too_few


OUTCOME_NAMES = ("trips", "km", "hours")


def outcome_questions(definition: Definition) -> dict[str, str]:
    """A follow-up's question id of each outcome: {"trips": ..., "km": ..., "hours": ...}."""
    return {q.outcome: q.id for q in definition.questions if q.outcome}


def as_of(
    db_session: Session, campaign: Campaign, moment: datetime
) -> tuple[Outcomes, dict[int, Outcomes]]:
    """The network's outcomes and each member's (by organisation id) as of the moment, from the
    follow-ups' answers that count."""
    network = Outcomes()
    per_member: dict[int, Outcomes] = defaultdict(Outcomes)
    for org_id, respondents, trips, km, hours in _outcome_rows(db_session, campaign, moment):
        for found in (per_member[org_id], network):
            found.respondents += respondents
            found.trips += trips
            found.km += km
            found.hours += hours
    return network, per_member


def _outcome_rows(db_session: Session, campaign: Campaign, as_of: datetime) -> list[Any]:
    """Each follow-up's sums per member, by the outcome questions of its own definition (a
    copy made as a new version may name them differently)."""
    follow_ups = db_session.scalars(
        select(Questionnaire).where(
            Questionnaire.campaign_id == campaign.id,
            Questionnaire.kind == QuestionnaireKind.FOLLOW_UP,
        )
    ).all()
    rows: list[Any] = []
    for questionnaire in follow_ups:
        definition = definition_of(db_session, questionnaire)
        ids = outcome_questions(definition) if definition else {}
        if all(name in ids for name in OUTCOME_NAMES):
            rows += db_session.execute(_sums(questionnaire.id, ids, as_of)).all()
    return rows


def _sums(questionnaire_id: int, ids: dict[str, str], as_of: datetime) -> Any:
    """SELECT organisation, respondents, trips, km, hours of a follow-up's answers that count."""
    found = counted(
        [Response.questionnaire_id == questionnaire_id, Response.submitted_at <= as_of],
        [ids[name] for name in OUTCOME_NAMES],
    )
    sums = [
        func.coalesce(
            func.sum(case((found.c[f"q{i}"], found.c.answers[ids[name]].as_integer()), else_=0)),
            0,
        )
        for i, name in enumerate(OUTCOME_NAMES)
    ]
    return select(found.c.organisation_id, func.count(), *sums).group_by(found.c.organisation_id)
