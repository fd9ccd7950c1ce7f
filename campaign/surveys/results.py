"""Results of a questionnaire: response rates, distributions, medians and totals.

Every breakdown (the whole network, one member) with fewer than MIN_RESPONDENTS respondents is
suppressed and shown as "fewer than 5", so that nobody in a small group can be recognised by
their answers; so is each question answered by fewer than that within a breakdown, and so is an
export of such a breakdown. Response rates are counts of invitations and receipts, grouped in
the database.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.enrolment.models import Participant
from campaign.network.models import Organisation
from campaign.outbox.models import Message, MessageKind, MessageState
from campaign.surveys.definitions import Definition, Question
from campaign.surveys.models import Questionnaire, Receipt, Response

MIN_RESPONDENTS = 5


@dataclass
class Rate:
    organisation: Organisation
    invited: int
    answered: int

    @property
    def percent(self) -> int | None:
        return round(100 * self.answered / self.invited) if self.invited else None


def rates(
    db_session: Session, questionnaire: Questionnaire, organisation_id: int | None = None
) -> list[Rate]:
    """Invited and answered per member (GROUP BY in the database)."""
    invited = (
        select(Message.organisation_id, func.count().label("n"))
        .where(
            Message.kind == MessageKind.QUESTIONNAIRE,
            Message.source_key.like(f"q:{questionnaire.id}:p%"),
            Message.state != MessageState.CANCELLED,
        )
        .group_by(Message.organisation_id)
        .subquery()
    )
    answered = (
        select(Participant.organisation_id, func.count().label("n"))
        .join(Receipt, Receipt.participant_id == Participant.id)
        .where(Receipt.questionnaire_id == questionnaire.id)
        .group_by(Participant.organisation_id)
        .subquery()
    )
    statement = (
        select(Organisation, func.coalesce(invited.c.n, 0), func.coalesce(answered.c.n, 0))
        .join(invited, invited.c.organisation_id == Organisation.id, isouter=True)
        .join(answered, answered.c.organisation_id == Organisation.id, isouter=True)
        .where((invited.c.n > 0) | (answered.c.n > 0))
        .order_by(Organisation.short_name)
    )
    if organisation_id is not None:
        statement = statement.where(Organisation.id == organisation_id)
    return [Rate(o, i, a) for o, i, a in db_session.execute(statement)]


@dataclass
class Summary:
    """One question's answers within one breakdown."""

    question: Question
    answered: int
    suppressed: bool
    counts: list[tuple[str, str, int]] = field(default_factory=list)  # value, label, count
    total: int | None = None
    median: float | None = None
    texts: list[str] = field(default_factory=list)


def responses(
    db_session: Session, questionnaire: Questionnaire, organisation_id: int | None = None
) -> list[Response]:
    statement = select(Response).where(Response.questionnaire_id == questionnaire.id)
    if organisation_id is not None:
        statement = statement.where(Response.organisation_id == organisation_id)
    return list(db_session.scalars(statement.order_by(Response.submitted_at, Response.id)))


def summarise(
    definition: Definition, answers: list[dict[str, Any]], language: str
) -> tuple[int, list[Summary]]:
    """Return the number of respondents and each question's summary (suppressed if few)."""
    summaries = []
    for question in definition.questions:
        given = [a[question.id] for a in answers if question.id in a]
        suppressed = len(answers) < MIN_RESPONDENTS or len(given) < MIN_RESPONDENTS
        summary = Summary(question, len(given), suppressed)
        if not suppressed:
            if question.type in ("single", "multiple"):
                counted = Counter(
                    v for value in given for v in (value if isinstance(value, list) else [value])
                )
                summary.counts = [
                    (o.value, o.label[language], counted.get(o.value, 0)) for o in question.options
                ]
            elif question.type == "likert":
                counted = Counter(given)
                summary.counts = [
                    (str(n), str(n), counted.get(n, 0)) for n in range(1, question.scale + 1)
                ]
                summary.median = statistics.median(given) if given else None
            elif question.type == "number":
                summary.total = sum(given)
                summary.median = statistics.median(given) if given else None
            else:
                # Sorted, so that their order does not tell who answered when.
                summary.texts = sorted((str(t) for t in given), key=lambda t: (t.casefold(), t))
        summaries.append(summary)
    return len(answers), summaries


def export_rows(
    db_session: Session,
    questionnaire: Questionnaire,
    definition: Definition,
    language: str,
    organisation_id: int | None = None,
) -> tuple[list[str], list[list[Any]]]:
    """The responses as a table. An anonymous questionnaire's export names nobody: no address,
    no name, no time of day, and a member's name only where it has 5 respondents or more.

    Like the results page, a scope (the network, or one member) with fewer than 5 respondents
    gives the header only.
    """
    found = responses(db_session, questionnaire, organisation_id)
    if len(found) < MIN_RESPONDENTS:
        found = []
    organisations = {
        o.id: o.short_name
        for o in db_session.scalars(
            select(Organisation).where(Organisation.id.in_({r.organisation_id for r in found}))
        )
    }
    per_member = Counter(r.organisation_id for r in found)
    header = ["organisation"]
    people: dict[int, Participant] = {}
    if not questionnaire.is_anonymous:
        header = ["email", "name", "organisation", "submitted_at"]
        ids = [r.participant_id for r in found if r.participant_id]
        people = {
            p.id: p for p in db_session.scalars(select(Participant).where(Participant.id.in_(ids)))
        }
    header += [q.id for q in definition.questions]
    rows = []
    for response in found:
        if questionnaire.is_anonymous:
            small = per_member[response.organisation_id] < MIN_RESPONDENTS
            row: list[Any] = ["" if small else organisations[response.organisation_id]]
        else:
            person = people.get(response.participant_id or 0)
            row = [
                person.email if person else "",
                person.name if person else "",
                organisations[response.organisation_id],
                response.updated_at,
            ]
        for question in definition.questions:
            value = response.answers.get(question.id, "")
            if isinstance(value, list):
                value = "; ".join(question.label_of(v, language) for v in value)
            elif question.type == "single":
                value = question.label_of(value, language)
            row.append(value)
        rows.append(row)
    if questionnaire.is_anonymous:
        rows.sort(key=lambda r: [str(c) for c in r])  # no order of answering either
    return header, rows


def not_answered(
    db_session: Session, questionnaire: Questionnaire, organisation_id: int | None = None
) -> list[Participant]:
    """Invited participants without a receipt, for staff to follow up (named even when the
    questionnaire is anonymous: who has answered is known, never what they answered)."""
    invited = select(Message.participant_id).where(
        Message.source_key.like(f"q:{questionnaire.id}:p%"),
        Message.kind == MessageKind.QUESTIONNAIRE,
        Message.state != MessageState.CANCELLED,
    )
    answered = select(Receipt.participant_id).where(Receipt.questionnaire_id == questionnaire.id)
    statement = select(Participant).where(
        Participant.id.in_(invited), Participant.id.not_in(answered)
    )
    if organisation_id is not None:
        statement = statement.where(Participant.organisation_id == organisation_id)
    return list(db_session.scalars(statement.order_by(Participant.name, Participant.email)))
