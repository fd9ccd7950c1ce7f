"""Whether a campaign has what a sequence's steps name: its questionnaires (by slug), their
questions and options, and its milestones. The file checker reads each name's form
(campaign/drip/conditions.py); this checks it against one campaign, with the line and the names
there are. Without a campaign, `unchecked` says which names could not be checked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.drip.conditions import Condition, milestone_of, read
from campaign.drip.files import Problem, Sequence, Step
from campaign.milestones.dates import names_of
from campaign.surveys.definitions import Definition
from campaign.surveys.models import Questionnaire
from campaign.surveys.stored import definition_of


@dataclass(frozen=True)
class Asked:
    """A questionnaire of the campaign as a condition sees it."""

    slug: str
    is_anonymous: bool
    definition: Definition | None


@dataclass(frozen=True)
class Known:
    """What a campaign has for steps to name."""

    questionnaires: dict[str, Asked]
    milestones: list[str]


def known_in(db_session: Session, campaign_id: int) -> Known:
    """Return the questionnaires and milestone names of the campaign."""
    rows = db_session.scalars(select(Questionnaire).where(Questionnaire.campaign_id == campaign_id))
    asked = {q.slug: Asked(q.slug, q.is_anonymous, definition_of(db_session, q)) for q in rows}
    return Known(asked, names_of(db_session, campaign_id))


def problems(sequence: Sequence, known: Known) -> list[Problem]:
    """Return a problem for each questionnaire, question, option or milestone a step of the
    sequence names and the campaign does not have, at its line."""
    found = []
    for step in _steps(sequence):
        found += _milestone_problems(step, known)
        for key in ("unless", "only_if"):
            found += [
                Problem(step.path, step.line_of(key), why)
                for text in getattr(step, key)
                if (why := _condition_problem(text, known)) is not None
            ]
    return found


def unchecked(sequences: Iterable[Sequence]) -> list[str]:
    """Return the names the steps give that only a campaign can tell: `answered:…`,
    `answer:…` and `milestone:…`, each once, sorted."""
    named = set()
    for step in (s for sequence in sequences for s in _steps(sequence)):
        named |= {text for text in (*step.unless, *step.only_if) if _asks(read(text))}
        named |= {step.anchor} if milestone_of(step.anchor) else set()
    return sorted(named)


def _asks(condition: Condition | None) -> bool:
    return condition is not None and condition.kind in ("answered", "answer")


def _steps(sequence: Sequence) -> list[Step]:
    return [step for steps in sequence.steps.values() for step in steps]


def _milestone_problems(step: Step, known: Known) -> list[Problem]:
    """A problem when the step counts from a milestone the campaign does not have."""
    name = milestone_of(step.anchor)
    if name is None or name in known.milestones:
        return []
    there = ", ".join(known.milestones) or "none yet (set them on the Milestones page)"
    return [
        Problem(step.path, step.line_of("anchor"), f"unknown milestone {name!r}; known: {there}")
    ]


def _condition_problem(text: str, known: Known) -> str | None:
    """Why the campaign cannot tell the condition; None when it can."""
    condition = read(text)
    if not _asks(condition):
        return None
    assert condition is not None  # _asks said so
    asked = known.questionnaires.get(condition.questionnaire)
    if asked is None:
        there = ", ".join(sorted(known.questionnaires)) or "none yet"
        return f"unknown questionnaire {condition.questionnaire!r}; known: {there}"
    if condition.kind == "answered":
        return None
    return _answer_problem(condition, asked)


def _answer_problem(condition: Condition, asked: Asked) -> str | None:
    """Why a condition on an answer cannot be told: an anonymous questionnaire, an unknown
    question, not a single choice, an unknown option."""
    if asked.is_anonymous:
        return (
            f"the questionnaire {asked.slug!r} is anonymous: it keeps no one's answers, so no"
            f" step can depend on them (answered:{asked.slug} can)"
        )
    questions = {q.id: q for q in (asked.definition.questions if asked.definition else ())}
    question = questions.get(condition.question)
    if question is None or question.type != "single":
        singles = ", ".join(q for q, found in questions.items() if found.type == "single")
        return (
            f"{asked.slug!r} has no single-choice question {condition.question!r};"
            f" its single-choice questions: {singles or 'none'}"
        )
    values = [option.value for option in question.options]
    if condition.value not in values:
        return (
            f"the question {condition.question!r} of {asked.slug!r} has no option"
            f" {condition.value!r}; its options: {', '.join(values)}"
        )
    return None
