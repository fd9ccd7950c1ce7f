"""Sending questionnaires, reminding, and storing answers given through a signed link.

Each campaign gets a questionnaire row for every shipped definition. The `questionnaires` job
queues, for each active participant, the invitation when its moment comes (the baseline from
the participant's start, the follow-up from the pilot group's start) and then the reminders
(only the latest one due, only while unanswered). Answering writes a receipt at once, so no
reminder goes out after it, and cancels reminders already queued.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from campaign.enrolment.mail import addressee_of
from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup
from campaign.network.models import Campaign
from campaign.network.timezone import zone_name_of
from campaign.outbox.mail import mail_settings, queue_participant_mail
from campaign.outbox.models import Message, MessageKind, MessageState
from campaign.outbox.queue import OPEN_STATES
from campaign.outbox.texts import mail_template
from campaign.security import sign, unsign
from campaign.surveys.definitions import Definition, definitions
from campaign.surveys.models import Questionnaire, QuestionnaireKind, Receipt, Response
from campaign.timing import local_date, local_instant

PURPOSE = "questionnaire"
LINK_LIFETIME = timedelta(days=400)


def questionnaires_of(
    db_session: Session, campaign: Campaign, now: datetime
) -> list[Questionnaire]:
    """Return the campaign's questionnaires, creating a row for each shipped definition."""
    existing = {
        q.slug: q
        for q in db_session.scalars(
            select(Questionnaire).where(Questionnaire.campaign_id == campaign.id)
        )
    }
    missing = [name for name in definitions() if name not in existing]
    if missing:
        # Pages and the job may both get here at once: the unique key keeps one row each.
        dialect = postgresql if db_session.get_bind().dialect.name == "postgresql" else sqlite
        for name in missing:
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
        existing = {
            q.slug: q
            for q in db_session.scalars(
                select(Questionnaire).where(Questionnaire.campaign_id == campaign.id)
            )
        }
    return sorted(existing.values(), key=lambda q: (q.kind.value != "baseline", q.slug))


def invitation_key(questionnaire: Questionnaire, participant_id: int) -> str:
    return f"q:{questionnaire.id}:p{participant_id}"


def link_token(questionnaire: Questionnaire, participant: Participant) -> str:
    return sign(PURPOSE, [questionnaire.id, participant.id])


def respondent_key(questionnaire_id: int, participant_id: int) -> str:
    """A keyed hash naming an anonymous respondent to the service only, never to a reader."""
    secret = current_app.config["SECRET_KEY"].encode()
    message = f"respondent:{questionnaire_id}:{participant_id}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


@dataclass
class Due:
    questionnaire: Questionnaire
    definition: Definition
    participant: Participant
    sent_at: datetime


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


def queue_questionnaires(db_session: Session, now: datetime) -> int:
    """Queue the invitations and reminders that have come due; return how many."""
    count = 0
    for campaign in db_session.scalars(select(Campaign)):
        zone = ZoneInfo(campaign.timezone)
        questionnaires = questionnaires_of(db_session, campaign, now)
        people = db_session.execute(
            select(Participant, PilotGroup)
            .join(PilotGroup, PilotGroup.id == Participant.pilot_group_id)
            .where(
                Participant.campaign_id == campaign.id,
                Participant.status == ParticipantStatus.ACTIVE,
            )
        ).all()
        for questionnaire in questionnaires:
            definition = definitions().get(questionnaire.definition)
            if definition is None:
                continue
            answered = set(
                db_session.scalars(
                    select(Receipt.participant_id).where(
                        Receipt.questionnaire_id == questionnaire.id
                    )
                )
            )
            sent = {
                key: (due, state)
                for key, due, state in db_session.execute(
                    select(Message.source_key, Message.due_at, Message.state).where(
                        Message.source_key.like(f"q:{questionnaire.id}:p%")
                    )
                )
            }
            for participant, group in people:
                if participant.id in answered:
                    continue
                count += _queue_for(
                    db_session,
                    questionnaire,
                    definition,
                    participant,
                    group,
                    campaign,
                    zone,
                    now,
                    sent,
                )
    return count


def _queue_for(
    db_session: Session,
    questionnaire: Questionnaire,
    definition: Definition,
    participant: Participant,
    group: PilotGroup,
    campaign: Campaign,
    zone: ZoneInfo,
    now: datetime,
    sent: dict[str, tuple[datetime, MessageState]],
) -> int:
    key = invitation_key(questionnaire, participant.id)
    if key not in sent:
        anchor = (
            (participant.starts_on or group.starts_on)
            if questionnaire.kind is QuestionnaireKind.BASELINE
            else group.starts_on
        )
        due = local_instant(definition.after.apply(anchor), definition.at, zone)
        if due > now or now > closes_at(definition, questionnaire, due, campaign.timezone):
            return 0  # not yet, or it would be closed before anyone could answer
        return _send(db_session, questionnaire, definition, participant, key, now)
    invited_at, state = sent[key]
    deadline = closes_at(definition, questionnaire, invited_at, campaign.timezone)
    if state is MessageState.CANCELLED or now >= deadline:
        return 0
    due_reminders = [
        n
        for n, offset in enumerate(definition.reminders, start=1)
        if local_instant(
            offset.apply(local_date(invited_at, campaign.timezone)), definition.at, zone
        )
        <= now
    ]
    if not due_reminders:
        return 0
    reminder_key = f"{key}:r{due_reminders[-1]}"
    if reminder_key in sent:
        return 0
    return _send(db_session, questionnaire, definition, participant, reminder_key, now)


def _send(
    db_session: Session,
    questionnaire: Questionnaire,
    definition: Definition,
    participant: Participant,
    key: str,
    now: datetime,
) -> int:
    """Queue the invitation (key without ":r") or a reminder; return 1 if it is new."""
    reminder = ":r" in key
    addressee = addressee_of(db_session, participant)
    queued = queue_participant_mail(
        db_session,
        addressee,
        mail_template(
            "questionnaire-reminder" if reminder else "questionnaire", addressee.language
        ),
        _context(questionnaire, definition, participant, addressee.language),
        kind=MessageKind.REMINDER if reminder else MessageKind.QUESTIONNAIRE,
        source_key=key,
        due_at=now,
        now=now,
    )
    return int(queued is not None)


def _context(
    questionnaire: Questionnaire, definition: Definition, participant: Participant, language: str
) -> dict[str, str]:
    """Return the placeholders of a questionnaire's mail, with the participant's own link."""
    return {
        "name": participant.name or participant.email,
        "title": definition.title[language],
        "intro": definition.intro[language],
        "link": mail_settings().link(f"/q/{link_token(questionnaire, participant)}"),
    }


class Closed(Exception):
    """The questionnaire no longer takes answers for this participant."""


class Withdrawn(Exception):
    """The questionnaire's definition file is no longer shipped, so it cannot be shown."""


@dataclass
class Opened:
    questionnaire: Questionnaire
    definition: Definition
    participant: Participant
    response: Response | None
    closes_at: datetime | None


def open_link(db_session: Session, token: str, now: datetime) -> Opened | None:
    """Return what a questionnaire link opens (None for an erased participant).

    Raises TokenError for a forged or expired link, Withdrawn for a questionnaire whose file
    has been removed.
    """
    questionnaire_id, participant_id = unsign(PURPOSE, token, int(LINK_LIFETIME.total_seconds()))
    questionnaire = db_session.get(Questionnaire, questionnaire_id)
    participant = db_session.get(Participant, participant_id)
    if (
        questionnaire is None
        or participant is None
        or participant.status is ParticipantStatus.ERASED
    ):
        return None
    definition = definitions().get(questionnaire.definition)
    if definition is None:
        raise Withdrawn
    sent = sent_at(db_session, questionnaire, participant.id)
    zone = zone_name_of(db_session, questionnaire.campaign_id)
    deadline = closes_at(definition, questionnaire, sent, zone) if sent else questionnaire.closes_at
    return Opened(
        questionnaire,
        definition,
        participant,
        _response_of(db_session, questionnaire, participant),
        deadline,
    )


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
    questionnaire, participant = opened.questionnaire, opened.participant
    anonymous = questionnaire.is_anonymous
    # An anonymous response keeps only the day, so its time cannot be matched to a receipt.
    stamp = now.replace(hour=0, minute=0, second=0, microsecond=0) if anonymous else now
    response = opened.response
    if response is None:
        response = Response(
            questionnaire_id=questionnaire.id,
            participant_id=None if anonymous else participant.id,
            respondent_key=respondent_key(questionnaire.id, participant.id) if anonymous else None,
            organisation_id=participant.organisation_id,
            answers=answers,
            submitted_at=stamp,
            updated_at=stamp,
        )
        db_session.add(response)
    else:
        response.answers = answers
        response.updated_at = max(stamp, response.submitted_at)
    if (
        db_session.scalar(
            select(Receipt.id).where(
                Receipt.questionnaire_id == questionnaire.id,
                Receipt.participant_id == participant.id,
            )
        )
        is None
    ):
        db_session.add(
            Receipt(
                questionnaire_id=questionnaire.id,
                participant_id=participant.id,
                answered_on=local_date(now, zone_name_of(db_session, participant.campaign_id)),
            )
        )
    db_session.execute(
        update(Message)
        .where(
            Message.source_key.like(f"{invitation_key(questionnaire, participant.id)}:r%"),
            Message.state.in_(OPEN_STATES),
        )
        .values(state=MessageState.CANCELLED, last_answer="cancelled: the participant answered")
        .execution_options(synchronize_session=False)
    )
    return response
