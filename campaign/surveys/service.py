"""Questionnaires through a signed link: the campaign's questionnaires, the links, opening one
and storing its answers.

Each campaign gets a questionnaire row for every shipped definition. Answering writes a receipt
at once, so no reminder goes out after it (campaign/surveys/invitations.py queues them), and
cancels reminders already queued.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from campaign.enrolment.lifecycle import is_forgotten
from campaign.enrolment.models import Participant
from campaign.network.models import Campaign
from campaign.network.timezone import zone_name_of
from campaign.outbox.models import Message, MessageState
from campaign.outbox.queue import OPEN_STATES
from campaign.security import sign, unsign
from campaign.surveys import stored
from campaign.surveys.definitions import Definition, definitions
from campaign.surveys.models import Questionnaire, QuestionnaireKind, Receipt, Response
from campaign.timing import local_date
from campaign.webhooks.emit import emit

PURPOSE = "questionnaire"
LINK_LIFETIME = timedelta(days=400)
ANSWERED = "cancelled: the participant answered"  # the last answer of a reminder not needed


def questionnaires_of(
    db_session: Session, campaign: Campaign, now: datetime
) -> list[Questionnaire]:
    """Return the campaign's questionnaires, creating a row for each shipped definition."""
    existing = _questionnaires(db_session, campaign)
    missing = [name for name in definitions() if name not in existing]
    if missing:
        _insert(db_session, campaign, missing, now)
        existing = _questionnaires(db_session, campaign)
    return sorted(existing.values(), key=lambda q: (q.kind.value != "baseline", q.slug))


def _questionnaires(db_session: Session, campaign: Campaign) -> dict[str, Questionnaire]:
    found = db_session.scalars(
        select(Questionnaire).where(Questionnaire.campaign_id == campaign.id)
    )
    return {q.slug: q for q in found}


def _insert(db_session: Session, campaign: Campaign, names: list[str], now: datetime) -> None:
    """Add a questionnaire row for each definition named, unless one is already there."""
    # Pages and the job may both get here at once: the unique key keeps one row each.
    dialect = postgresql if db_session.get_bind().dialect.name == "postgresql" else sqlite
    for name in names:
        db_session.execute(
            dialect.insert(Questionnaire)
            .values(
                campaign_id=campaign.id,
                slug=name,
                kind=QuestionnaireKind(definitions()[name].kind),
                definition=name,
                is_anonymous=False,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["campaign_id", "slug"])
        )


def invitation_key(questionnaire: Questionnaire, participant_id: int) -> str:
    """Return the outbox key of the invitation (a reminder adds ":r<n>" to it)."""
    return f"q:{questionnaire.id}:p{participant_id}"


def link_token(questionnaire: Questionnaire, participant: Participant) -> str:
    """Return the signed token of the participant's own link to the questionnaire."""
    return sign(PURPOSE, [questionnaire.id, participant.id])


def respondent_key(questionnaire_id: int, participant_id: int) -> str:
    """A keyed hash naming an anonymous respondent to the service only, never to a reader."""
    secret = current_app.config["SECRET_KEY"].encode()
    message = f"respondent:{questionnaire_id}:{participant_id}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def sent_at(
    db_session: Session, questionnaire: Questionnaire, participant_id: int
) -> datetime | None:
    """When the participant's invitation to the questionnaire was (or will be) sent."""
    return db_session.scalar(
        select(Message.due_at).where(
            Message.source_key == invitation_key(questionnaire, participant_id)
        )
    )


def closes_at(
    definition: Definition, questionnaire: Questionnaire, sent: datetime, zone_name: str
) -> datetime:
    """Answers can be given and changed until this moment (counted from the local day sent)."""
    own = definition.closes_after.later(sent, zone_name)
    return min(own, questionnaire.closes_at) if questionnaire.closes_at else own


class Closed(Exception):
    """The questionnaire no longer takes answers for this participant."""


class Withdrawn(Exception):
    """The questionnaire's definition is neither stored nor shipped, so it cannot be shown."""


@dataclass
class Opened:
    questionnaire: Questionnaire
    definition: Definition
    participant: Participant
    response: Response | None
    closes_at: datetime | None


def open_link(db_session: Session, token: str, now: datetime) -> Opened | None:
    """Return what a questionnaire link opens (None for a forgotten participant).

    Raises TokenError for a forged or expired link, Withdrawn for a questionnaire whose file
    has been removed.
    """
    questionnaire_id, participant_id = unsign(PURPOSE, token, int(LINK_LIFETIME.total_seconds()))
    questionnaire = db_session.get(Questionnaire, questionnaire_id)
    participant = db_session.get(Participant, participant_id)
    if questionnaire is None or participant is None or is_forgotten(db_session, participant):
        return None
    definition = stored.definition_of(db_session, questionnaire)
    if definition is None:
        raise Withdrawn
    response = _response_of(db_session, questionnaire, participant)
    deadline = _deadline(db_session, definition, questionnaire, participant)
    return Opened(questionnaire, definition, participant, response, deadline)


def _deadline(
    db_session: Session,
    definition: Definition,
    questionnaire: Questionnaire,
    participant: Participant,
) -> datetime | None:
    """When the participant's answers close: counted from the invitation once it is sent."""
    sent = sent_at(db_session, questionnaire, participant.id)
    if sent is None:
        return questionnaire.closes_at
    zone = zone_name_of(db_session, questionnaire.campaign_id)
    return closes_at(definition, questionnaire, sent, zone)


def _response_of(
    db_session: Session, questionnaire: Questionnaire, participant: Participant
) -> Response | None:
    if questionnaire.is_anonymous:
        where = Response.respondent_key == respondent_key(questionnaire.id, participant.id)
    else:
        where = Response.participant_id == participant.id
    return db_session.scalar(
        select(Response).where(Response.questionnaire_id == questionnaire.id, where)
    )


def save(db_session: Session, opened: Opened, answers: dict[str, Any], now: datetime) -> Response:
    """Store (or replace) the participant's answers, write the receipt, stop the reminders."""
    if opened.closes_at is not None and now >= opened.closes_at:
        raise Closed
    response = _store(db_session, opened, answers, now)
    _write_receipt(db_session, opened.questionnaire, opened.participant, now)
    _cancel_reminders(db_session, opened.questionnaire, opened.participant)
    _emit_answered(db_session, opened, now)
    return response


def _emit_answered(db_session: Session, opened: Opened, now: datetime) -> None:
    """Tell the webhook receivers that the participant answered (who, unless anonymous)."""
    person, questionnaire = opened.participant, opened.questionnaire
    data = {
        "questionnaire_id": questionnaire.id,
        "organisation_id": person.organisation_id,
        "participant_id": None if questionnaire.is_anonymous else person.id,
    }
    emit(
        db_session, campaign_id=person.campaign_id, organisation_id=person.organisation_id,
        event_type="questionnaire.answered", data=data, now=now,
    )  # fmt: skip


def _store(db_session: Session, opened: Opened, answers: dict[str, Any], now: datetime) -> Response:
    """Replace the answers of the participant's response, or add their first one."""
    anonymous = opened.questionnaire.is_anonymous
    # An anonymous response keeps only the day, so its time cannot be matched to a receipt.
    stamp = now.replace(hour=0, minute=0, second=0, microsecond=0) if anonymous else now
    response = opened.response
    if response is not None:
        response.answers = answers
        response.updated_at = max(stamp, response.submitted_at)
        return response
    response = _new_response(opened, answers, stamp)
    db_session.add(response)
    return response


def _new_response(opened: Opened, answers: dict[str, Any], stamp: datetime) -> Response:
    questionnaire, participant = opened.questionnaire, opened.participant
    anonymous = questionnaire.is_anonymous
    return Response(
        questionnaire_id=questionnaire.id,
        participant_id=None if anonymous else participant.id,
        respondent_key=respondent_key(questionnaire.id, participant.id) if anonymous else None,
        organisation_id=participant.organisation_id,
        answers=answers,
        submitted_at=stamp,
        updated_at=stamp,
    )


def _write_receipt(
    db_session: Session, questionnaire: Questionnaire, participant: Participant, now: datetime
) -> None:
    """Write that the participant has answered (once): no reminder goes out after it."""
    written = db_session.scalar(
        select(Receipt.id).where(
            Receipt.questionnaire_id == questionnaire.id,
            Receipt.participant_id == participant.id,
        )
    )
    if written is None:
        zone = zone_name_of(db_session, participant.campaign_id)
        db_session.add(
            Receipt(
                questionnaire_id=questionnaire.id,
                participant_id=participant.id,
                answered_on=local_date(now, zone),
            )
        )


def _cancel_reminders(
    db_session: Session, questionnaire: Questionnaire, participant: Participant
) -> None:
    """Cancel the participant's reminders still waiting in the outbox."""
    db_session.execute(
        update(Message)
        .where(
            Message.source_key.like(f"{invitation_key(questionnaire, participant.id)}:r%"),
            Message.state.in_(OPEN_STATES),
        )
        .values(state=MessageState.CANCELLED, last_answer=ANSWERED)
        .execution_options(synchronize_session=False)
    )
