"""Results of a questionnaire: response rates, distributions, medians, totals and free texts.

Whatever is shown of the answers obeys campaign/surveys/disclosure.py, decided once for the whole
network whoever looks: a member with 1-4 respondents is hidden, and so are others until no
hidden member's figure is the network's minus those shown; within a member that is shown, each
question is decided the same way among the members, by how many answered it there. A hidden
member shows no answers, no count of respondents and no response rate, on its own page, in the
network's lists, on the dashboard and in exports; the network shows a question (free texts
included) only when at least 5 answered it. Response rates are counts of invitations and
receipts, grouped in the database.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.enrolment.models import Participant
from campaign.network.models import Organisation
from campaign.outbox.models import Message, MessageKind, MessageState
from campaign.surveys.definitions import Definition, Question
from campaign.surveys.disclosure import MIN_RESPONDENTS, Cells, protect
from campaign.surveys.models import Questionnaire, Receipt, Response

__all__ = ["MIN_RESPONDENTS", "Rate", "RateTable", "Results", "Scope", "Summary"]


@dataclass
class Rate:
    organisation: Organisation
    invited: int
    answered: int
    is_shown: bool = True  # False: how many answered is a small cell, or would tell one
    is_too_few: bool = False  # hidden because 1-4 answered (else to protect another member)

    @property
    def percent(self) -> int | None:
        if not self.is_shown or not self.invited:
            return None
        return round(100 * self.answered / self.invited)


@dataclass
class RateTable:
    rows: list[Rate]
    invited: int
    answered: int | None  # None while it would tell a hidden member's count
    is_too_few: bool = False  # hidden since 1-4 answered (else to protect another member)


def rates(
    db_session: Session, questionnaire: Questionnaire, organisation_id: int | None = None
) -> RateTable:
    """Invited and answered per member (GROUP BY in the database), small cells hidden."""
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
    rows = [Rate(o, i, a) for o, i, a in db_session.execute(statement)]
    cells = member_cells(
        respondents(db_session, questionnaire), {r.organisation.id: r.answered for r in rows}
    )
    for rate in rows:
        rate.is_shown = cells.shows(rate.organisation.id)
        rate.is_too_few = cells.too_few(rate.organisation.id)
    count: int | None = sum(r.answered for r in rows)
    if organisation_id is not None:
        rows = [r for r in rows if r.organisation.id == organisation_id]
        count = rows[0].answered if rows else 0
        too_few, shown = (rows[0].is_too_few, rows[0].is_shown) if rows else (False, True)
    else:
        too_few, shown = 0 < (count or 0) < MIN_RESPONDENTS, cells.is_total_shown
    return RateTable(rows, sum(r.invited for r in rows), count if shown else None, too_few)


def respondents(db_session: Session, questionnaire: Questionnaire) -> dict[int, int]:
    """The number of responses per member."""
    return dict(
        db_session.execute(
            select(Response.organisation_id, func.count())
            .where(Response.questionnaire_id == questionnaire.id)
            .group_by(Response.organisation_id)
        ).all()
    )


def member_cells(responded: dict[int, int], answered: dict[int, int]) -> Cells[int]:
    """The members to hide, by their responses and by their receipts (the two counts shown;
    they differ only where people were erased or moved): hidden by either, hidden in both."""
    by_receipts = protect(answered)
    by_responses = protect(responded, also=by_receipts.hidden)
    both = protect(answered, also=by_responses.hidden)
    hidden = both.hidden | by_responses.hidden
    shown = both.is_total_shown and by_responses.is_total_shown
    return Cells(responded, hidden, shown)


@dataclass
class Summary:
    """One question's answers within one scope (the network, or one member)."""

    question: Question
    answered: int | None  # None while hidden: the count would tell as well
    suppressed: bool
    is_withheld: bool = False  # hidden to protect another member, not for its own few
    counts: list[tuple[str, str, int]] = field(default_factory=list)  # value, label, count
    total: int | None = None
    median: float | None = None
    texts: list[str] = field(default_factory=list)


@dataclass
class Scope:
    """What the results page of the network or of one member may show."""

    respondents: int | None  # None while hidden
    is_too_few: bool  # hidden for its own few respondents
    is_withheld: bool  # hidden to protect another member's
    summaries: list[Summary]

    @property
    def is_shown(self) -> bool:
        return not (self.is_too_few or self.is_withheld)


@dataclass
class Results:
    """A questionnaire's answers per member, and which cells of them may be shown."""

    definition: Definition
    answers: dict[int, list[dict[str, Any]]]  # organisation id -> each respondent's answers
    members: Cells[int]
    questions: dict[str, Cells[int]]  # question id -> members by who answered it

    def scope(self, organisation_id: int | None, language: str) -> Scope:
        """The network's (organisation_id None) or one member's results, small cells hidden."""
        if organisation_id is None:
            answers = [a for given in self.answers.values() for a in given]
            count = len(answers)
            too_few = count < MIN_RESPONDENTS
            withheld = not too_few and not self.members.is_total_shown
        else:
            answers = self.answers.get(organisation_id, [])
            count = len(answers)
            too_few = count < MIN_RESPONDENTS
            withheld = not too_few and not self.members.shows(organisation_id)
        hidden = too_few or withheld
        summaries = [
            self._summary(question, answers, organisation_id, hidden, language)
            for question in self.definition.questions
        ]
        shown_count = None if (hidden and count) else count
        return Scope(shown_count, too_few, withheld, summaries)

    def _summary(
        self,
        question: Question,
        answers: list[dict[str, Any]],
        organisation_id: int | None,
        hidden: bool,
        language: str,
    ) -> Summary:
        given = [a[question.id] for a in answers if question.id in a]
        cells = self.questions[question.id]
        if hidden:  # the whole scope is: not even how many answered
            return Summary(question, None, True)
        if len(given) < MIN_RESPONDENTS:
            return Summary(question, None if given else 0, True)
        if not (cells.is_total_shown if organisation_id is None else cells.shows(organisation_id)):
            return Summary(question, None, True, is_withheld=True)
        return summarise(question, given, language)

    def shows(self, organisation_id: int, question_id: str) -> bool:
        """Whether a member's answers to a question may be shown (and so exported)."""
        return self.members.shows(organisation_id) and self.questions[question_id].shows(
            organisation_id
        )


def collect(db_session: Session, questionnaire: Questionnaire, definition: Definition) -> Results:
    """Gather a questionnaire's answers per member and decide which may be shown."""
    answers: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for organisation_id, given in db_session.execute(
        select(Response.organisation_id, Response.answers)
        .where(Response.questionnaire_id == questionnaire.id)
        .order_by(Response.submitted_at, Response.id)
    ):
        answers[organisation_id].append(given)
    members = member_cells(
        {org: len(given) for org, given in answers.items()}, _receipts(db_session, questionnaire)
    )
    questions = {
        question.id: protect(
            {org: sum(question.id in a for a in given) for org, given in answers.items()},
            also=members.hidden,
        )
        for question in definition.questions
    }
    return Results(definition, dict(answers), members, questions)


def _receipts(db_session: Session, questionnaire: Questionnaire) -> dict[int, int]:
    """The number of receipts (who answered) per member."""
    return dict(
        db_session.execute(
            select(Participant.organisation_id, func.count())
            .join(Receipt, Receipt.participant_id == Participant.id)
            .where(Receipt.questionnaire_id == questionnaire.id)
            .group_by(Participant.organisation_id)
        ).all()
    )


def summarise(question: Question, given: list[Any], language: str) -> Summary:
    """Return the summary of a question's answers (at least MIN_RESPONDENTS of them)."""
    summary = Summary(question, len(given), False)
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
    """The responses as a table, holding exactly what the results pages show: the rows of
    members that are shown, and `not_shown` in every row of a member for a question hidden
    there (answered or not, so that it tells no count either). An anonymous questionnaire's
    export names nobody: no address, no name, no time of day.

    A scope (the network, or one member) that shows no answers gives the header only.
    """
    results = collect(db_session, questionnaire, definition)
    found = [
        r
        for r in _responses(db_session, questionnaire, organisation_id)
        if results.members.shows(r.organisation_id)
    ]
    if not results.scope(organisation_id, language).is_shown:
        found = []
    organisations = dict(
        db_session.execute(
            select(Organisation.id, Organisation.short_name).where(
                Organisation.id.in_({r.organisation_id for r in found})
            )
        ).all()
    )
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
        row: list[Any] = [organisations[response.organisation_id]]
        if not questionnaire.is_anonymous:
            person = people.get(response.participant_id or 0)
            row = [person.email if person else "", person.name if person else "", *row]
            row.append(response.updated_at)
        for question in definition.questions:
            value = response.answers.get(question.id, "")
            if not results.shows(response.organisation_id, question.id):
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


def _responses(
    db_session: Session, questionnaire: Questionnaire, organisation_id: int | None = None
) -> list[Response]:
    statement = select(Response).where(Response.questionnaire_id == questionnaire.id)
    if organisation_id is not None:
        statement = statement.where(Response.organisation_id == organisation_id)
    return list(db_session.scalars(statement.order_by(Response.submitted_at, Response.id)))


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
