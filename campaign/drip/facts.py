"""What holds for a chunk of participants: the conditions their steps name, one query each.

A materialize run reads participants in chunks (campaign/drip/materialize.py); for each chunk it
asks here, once per condition named by any step of any sequence, which of them meet it. A
questionnaire is named by its slug in the participant's own campaign; an anonymous one keeps
no answers of a person (its receipt says only that they answered), so `answer:` never holds
for it (the checker refuses such a condition: campaign/drip/known.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from campaign.drip.conditions import Condition, read
from campaign.enrolment.models import Participant
from campaign.events.models import Event, EventKind, Invitation, Rsvp
from campaign.surveys.models import Questionnaire, QuestionnaireKind, Receipt, Response

Who = Select[Any]  # the ids of the participants for whom a condition holds


def holding(
    db_session: Session, participant_ids: list[int], names: Iterable[str]
) -> dict[str, set[int]]:
    """Return, for each condition named, the participants among these for whom it holds (none
    for a condition that cannot be read)."""
    found: dict[str, set[int]] = {}
    for name in sorted(set(names)):
        condition = read(name)
        query = _who(condition, participant_ids) if condition else None
        found[name] = set(db_session.scalars(query)) if query is not None else set()
    return found


def _who(condition: Condition, ids: list[int]) -> Who:
    """The query of the participants among `ids` for whom the condition holds."""
    if condition.kind == "answered":
        return _answered(condition.questionnaire, ids)
    if condition.kind == "answer":
        return _answer(condition, ids)
    if condition.kind == "attended":
        return _attended(EventKind(condition.event_kind), ids)
    return FIXED[condition.text](ids)


def _attended(kind: EventKind, ids: list[int]) -> Who:
    """Who attended a meeting of this kind."""
    return (
        select(Invitation.participant_id)
        .join(Event)
        .where(Event.kind == kind, Invitation.has_attended.is_(True))
        .where(Invitation.participant_id.in_(ids))
    )


def _declined(ids: list[int]) -> Who:
    """Who declined an invitation."""
    return select(Invitation.participant_id).where(
        Invitation.rsvp == Rsvp.DECLINED, Invitation.participant_id.in_(ids)
    )


def _answered_baseline(ids: list[int]) -> Who:
    """Who answered a baseline questionnaire."""
    return (
        select(Response.participant_id)
        .join(Questionnaire)
        .where(Questionnaire.kind == QuestionnaireKind.BASELINE)
        .where(Response.participant_id.in_(ids))
    )


def _answered(slug: str, ids: list[int]) -> Who:
    """Who answered their campaign's questionnaire of this slug (anonymous ones too: the
    receipt says that they did, not what)."""
    return (
        select(Receipt.participant_id)
        .join(Questionnaire, Questionnaire.id == Receipt.questionnaire_id)
        .join(Participant, Participant.id == Receipt.participant_id)
        .where(Questionnaire.slug == slug, Questionnaire.campaign_id == Participant.campaign_id)
        .where(Receipt.participant_id.in_(ids))
    )


def _answer(condition: Condition, ids: list[int]) -> Who:
    """Who chose the option in the question of their campaign's questionnaire."""
    chosen = Response.answers[condition.question].as_string() == condition.value
    return (
        select(Response.participant_id)
        .join(Questionnaire, Questionnaire.id == Response.questionnaire_id)
        .join(Participant, Participant.id == Response.participant_id)
        .where(Questionnaire.slug == condition.questionnaire, chosen)
        .where(Questionnaire.campaign_id == Participant.campaign_id)
        .where(Response.participant_id.in_(ids))
    )


FIXED = {
    "attended_practice_meeting": lambda ids: _attended(EventKind.PRACTICE_MEETING, ids),
    "declined_invitation": _declined,
    "answered_baseline": _answered_baseline,
}
