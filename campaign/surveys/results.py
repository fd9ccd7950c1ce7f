"""Results of a questionnaire: response rates, distributions, medians, totals and free texts.

Whatever is shown of the answers obeys campaign/surveys/disclosure.py, decided once for the whole
network whoever looks: answers count in whole groups of five per member, in the order they were
given, and each question's answers the same way among those; only answers that count are shown,
added up or exported (a member with fewer than five answers shows none). Who has answered is not
hidden from staff (the outbox shows whose reminders stopped because they answered): response
rates are counts of invitations and receipts, grouped in the database, shown in full, beside how
many of the answers count.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, Subquery, func, select, union
from sqlalchemy.orm import Session

from campaign.enrolment.models import Participant
from campaign.network.models import Organisation
from campaign.outbox.models import Message, MessageKind, MessageState
from campaign.surveys import disclosure
from campaign.surveys.definitions import Definition, Question
from campaign.surveys.disclosure import MIN_RESPONDENTS
from campaign.surveys.models import Questionnaire, Receipt, Response

__all__ = ["MIN_RESPONDENTS", "Rate", "RateTable", "Results", "Scope", "Summary"]


@dataclass
class Rate:
    organisation: Organisation
    invited: int
    answered: int

    @property
    def percent(self) -> int | None:
        return round(100 * self.answered / self.invited) if self.invited else None


@dataclass
class RateTable:
    rows: list[Rate]
    invited: int
    answered: int


def rates(
    db_session: Session, questionnaire: Questionnaire, organisation_id: int | None = None
) -> RateTable:
    """Invited and answered per member (GROUP BY in the database).

    Both count the same people, so a rate never passes 100 %: the invited are those sent the
    questionnaire (not cancelled) and those who answered it; someone whose invitation was
    cancelled after they answered (an erasure cancels unsent mail) stays among both.
    """
    people = union(_sent(questionnaire), _answered(questionnaire)).subquery()
    invited = _per_member(people.c.participant_id)
    answered = _per_member(Receipt.participant_id, Receipt.questionnaire_id == questionnaire.id)
    statement = (
        select(Organisation, func.coalesce(invited.c.n, 0), func.coalesce(answered.c.n, 0))
        .join(invited, invited.c.organisation_id == Organisation.id)
        .join(answered, answered.c.organisation_id == Organisation.id, isouter=True)
        .order_by(Organisation.short_name)
    )
    if organisation_id is not None:
        statement = statement.where(Organisation.id == organisation_id)
    rows = [Rate(o, i, a) for o, i, a in db_session.execute(statement)]
    return RateTable(rows, sum(r.invited for r in rows), sum(r.answered for r in rows))


def _sent(questionnaire: Questionnaire) -> Select[int | None]:
    """The participants sent the questionnaire: its invitations not cancelled."""
    return select(Message.participant_id).where(
        Message.kind == MessageKind.QUESTIONNAIRE,
        Message.source_key.like(f"q:{questionnaire.id}:p%"),
        Message.state != MessageState.CANCELLED,
    )


def _answered(questionnaire: Questionnaire) -> Select[int]:
    """The participants who answered the questionnaire."""
    return select(Receipt.participant_id).where(Receipt.questionnaire_id == questionnaire.id)


def _per_member(participant_id: Any, *where: Any) -> Subquery:
    """Count the participants named by `participant_id` per member."""
    return (
        select(Participant.organisation_id, func.count().label("n"))
        .join_from(participant_id.table, Participant, participant_id == Participant.id)
        .where(*where)
        .group_by(Participant.organisation_id)
        .subquery()
    )


@dataclass
class Summary:
    """One question's answers that count within one scope (the network, or one member)."""

    question: Question
    answered: int  # the answers that count
    counts: list[tuple[str, str, int]] = field(default_factory=list)  # value, label, count
    total: int | None = None
    median: float | None = None
    texts: list[str] = field(default_factory=list)

    @property
    def suppressed(self) -> bool:
        return self.answered < MIN_RESPONDENTS


@dataclass
class Scope:
    """What the results page of the network or of one member may show."""

    responses: int  # people who have answered
    counted: int  # of them, those whose answers count (whole groups of five per member)
    summaries: list[Summary]

    @property
    def is_shown(self) -> bool:
        return self.counted >= MIN_RESPONDENTS


@dataclass(frozen=True)
class Counted:
    """A response that counts: the answers of it that count, and the questions whose cell
    counts (answered, or left empty before the question's first answer that does not)."""

    response_id: int
    organisation_id: int
    answers: dict[str, Any]
    cells: frozenset[str]


@dataclass
class Results:
    """A questionnaire's answers that count, per member, and how many were given."""

    definition: Definition
    counted: dict[int, list[Counted]]  # organisation id -> in the order they were given
    responses: dict[int, int]  # organisation id -> responses given, counted or not

    def scope(self, organisation_id: int | None, language: str) -> Scope:
        """The network's (organisation_id None) or one member's results."""
        if organisation_id is None:
            rows = [c for given in self.counted.values() for c in given]
            given = sum(self.responses.values())
        else:
            rows = self.counted.get(organisation_id, [])
            given = self.responses.get(organisation_id, 0)
        summaries = []
        for question in self.definition.questions:
            answers = [c.answers[question.id] for c in rows if question.id in c.answers]
            summary = Summary(question, len(answers))
            if not summary.suppressed:
                summary = summarise(question, answers, language)
            summaries.append(summary)
        return Scope(given, len(rows), summaries)

    def rows(self, organisation_id: int | None) -> list[Counted]:
        """The responses that count in a scope, member by member, in the order given."""
        if organisation_id is not None:
            return list(self.counted.get(organisation_id, []))
        return [c for _org, given in sorted(self.counted.items()) for c in given]


def collect(db_session: Session, questionnaire: Questionnaire, definition: Definition) -> Results:
    """Gather a questionnaire's answers that count, per member, and how many were given."""
    where = [Response.questionnaire_id == questionnaire.id]
    ids = [question.id for question in definition.questions]
    found = disclosure.counted(where, ids)
    counted: dict[int, list[Counted]] = defaultdict(list)
    for row in db_session.execute(
        select(found).order_by(found.c.organisation_id, found.c.submitted_at, found.c.id)
    ).mappings():
        cells = frozenset(q for i, q in enumerate(ids) if row[f"q{i}"])
        answers = {q: v for q, v in (row["answers"] or {}).items() if q in cells and v is not None}
        counted[row["organisation_id"]].append(
            Counted(row["id"], row["organisation_id"], answers, cells)
        )
    return Results(definition, dict(counted), disclosure.responses(db_session, where))


def summarise(question: Question, given: list[Any], language: str) -> Summary:
    """Return the summary of a question's answers (at least MIN_RESPONDENTS of them)."""
    summary = Summary(question, len(given))
    if question.type in ("single", "multiple"):
        counted = Counter(
            v for value in given for v in (value if isinstance(value, list) else [value])
        )
        summary.counts = [
            (o.value, o.label[language], counted.get(o.value, 0)) for o in question.options
        ]
    elif question.type == "likert":
        counted = Counter(given)
        summary.counts = [(str(n), str(n), counted.get(n, 0)) for n in range(1, question.scale + 1)]
        summary.median = statistics.median(given) if given else None
    elif question.type == "number":
        summary.total = sum(given)
        summary.median = statistics.median(given) if given else None
    else:
        # Sorted, so that their order does not tell who answered when.
        summary.texts = sorted((str(t) for t in given), key=lambda t: (t.casefold(), t))
    return summary


def export_rows(
    db_session: Session,
    questionnaire: Questionnaire,
    definition: Definition,
    language: str,
    organisation_id: int | None = None,
    not_shown: str = "-",
) -> tuple[list[str], list[list[Any]]]:
    """The responses as a table, holding exactly what the results pages count: the rows of the
    responses that count, and `not_shown` in each cell that does not count (answered or not, so
    that it tells no count either). An anonymous questionnaire's export names nobody: no
    address, no name, no time of day, and its rows are sorted, so their order tells nothing.
    """
    results = collect(db_session, questionnaire, definition)
    found = results.rows(organisation_id)
    organisations = dict(
        db_session.execute(
            select(Organisation.id, Organisation.short_name).where(
                Organisation.id.in_({c.organisation_id for c in found})
            )
        ).all()
    )
    header = [_("Member")]
    stored: dict[int, Response] = {}
    people: dict[int, Participant] = {}
    if not questionnaire.is_anonymous:
        header = [_("E-mail"), _("Name"), _("Member"), _("Answered")]
        ours = [Response.questionnaire_id == questionnaire.id]
        if organisation_id is not None:
            ours.append(Response.organisation_id == organisation_id)
        stored = {r.id: r for r in db_session.scalars(select(Response).where(*ours))}
        people = {
            p.id: p
            for p in db_session.scalars(
                select(Participant)
                .join(Response, Response.participant_id == Participant.id)
                .where(*ours)
            )
        }
    header += [q.text[language] for q in definition.questions]
    rows = []
    for counted in found:
        row: list[Any] = [organisations[counted.organisation_id]]
        if not questionnaire.is_anonymous:
            response = stored[counted.response_id]
            person = people.get(response.participant_id or 0)
            row = [person.email if person else "", person.name if person else "", *row]
            row.append(response.updated_at)
        for question in definition.questions:
            value = counted.answers.get(question.id, "")
            if question.id not in counted.cells:
                value = not_shown
            elif isinstance(value, list):
                value = "; ".join(question.label_of(v, language) for v in value)
            elif question.type == "single":
                value = question.label_of(value, language)
            row.append(value)
        rows.append(row)
    if questionnaire.is_anonymous:
        rows.sort(key=lambda r: [str(c) for c in r])  # no order of answering either
    return header, rows


def not_answered(
    db_session: Session, questionnaire: Questionnaire, organisation_id: int
) -> list[Participant]:
    """A member's invited participants without a receipt, for its representatives to remind
    (named even when the questionnaire is anonymous: who has answered is known, never what)."""
    invited = select(Message.participant_id).where(
        Message.source_key.like(f"q:{questionnaire.id}:p%"),
        Message.kind == MessageKind.QUESTIONNAIRE,
        Message.state != MessageState.CANCELLED,
    )
    answered = select(Receipt.participant_id).where(Receipt.questionnaire_id == questionnaire.id)
    statement = select(Participant).where(
        Participant.id.in_(invited),
        Participant.id.not_in(answered),
        Participant.organisation_id == organisation_id,
    )
    return list(db_session.scalars(statement.order_by(Participant.name, Participant.email)))
