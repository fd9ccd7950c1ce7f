"""One participant's personal data, gathered from every domain: their page and their export.

The data-subject rights (GDPR articles 15 and 20): everything the service holds about a person,
their consents, mail, invitations and answers, for their page and as JSON. It reads rows of
enrolment, the outbox, events and surveys, so it lives above them all; erasure, which changes
only the enrolment's and the outbox's rows, is in campaign/enrolment/lifecycle.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from campaign.audit import record
from campaign.enrolment.consent import exported as consent_source
from campaign.enrolment.models import Consent, Participant
from campaign.events.models import Event, Invitation
from campaign.outbox.disclosure import readable
from campaign.outbox.models import Message, Suppression
from campaign.surveys.models import Questionnaire, Response


@dataclass
class History:
    """Everything the service holds about one participant, for their page and their export."""

    consents: list[Consent]
    messages: list[Message]
    invitations: list[tuple[Invitation, Event]]
    responses: list[tuple[Response, Questionnaire]]


def history_of(db_session: Session, person: Participant) -> History:
    """Return the participant's consents, mail, invitations and answers, oldest first."""
    return History(
        consents=list(
            db_session.scalars(
                select(Consent).where(Consent.participant_id == person.id).order_by(Consent.id)
            )
        ),
        messages=list(
            db_session.scalars(
                select(Message)
                .where(Message.participant_id == person.id)
                .order_by(Message.due_at, Message.id)
            )
        ),
        invitations=[(i, e) for i, e in db_session.execute(_invitations(person))],
        responses=[(r, q) for r, q in db_session.execute(_responses(person))],
    )


def _invitations(person: Participant) -> Select[Invitation, Event]:
    return (
        select(Invitation, Event)
        .join(Event, Event.id == Invitation.event_id)
        .where(Invitation.participant_id == person.id)
        .order_by(Event.starts_at)
    )


def _responses(person: Participant) -> Select[Response, Questionnaire]:
    return (
        select(Response, Questionnaire)
        .join(Questionnaire, Questionnaire.id == Response.questionnaire_id)
        .where(Response.participant_id == person.id)
        .order_by(Response.submitted_at)
    )


def exported(db_session: Session, person: Participant, actor: Any, now: datetime) -> dict[str, Any]:
    """Return everything held about the person (export_data), noting who took it."""
    data = export_data(db_session, person, now)
    target = f"participant:{person.id}"
    record(
        db_session, actor, "participant.data_exported", campaign_id=person.campaign_id,
        organisation_id=person.organisation_id, target=target,
    )  # fmt: skip
    return data


def export_data(db_session: Session, person: Participant, now: datetime) -> dict[str, Any]:
    """Return all personal data about a participant as JSON-ready data (GDPR article 15/20)."""
    history = history_of(db_session, person)
    return {
        "exported_at": now.isoformat(),
        "participant": _participant_data(person),
        "consents": [_consent_data(c) for c in history.consents],
        "messages": [_message_data(m, person.language) for m in history.messages],
        "invitations": [_invitation_data(i, e) for i, e in history.invitations],
        "questionnaire_answers": [_answer_data(r, q) for r, q in history.responses],
        "suppressed": _suppression(db_session, person.email),
    }


def _instant(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _participant_data(person: Participant) -> dict[str, Any]:
    group = person.pilot_group
    return {
        "id": person.id,
        "email": person.email,
        "name": person.name,
        "title": person.title,
        "language": person.language,
        "status": person.status.value,
        "paused_until": person.paused_until.isoformat() if person.paused_until else None,
        "resumed_at": _instant(person.resumed_at),
        "organisation": person.organisation.name,
        "pilot_group": group.name if group else None,
        "starts_on": person.starts_on.isoformat() if person.starts_on else None,
        "enrolled_at": person.created_at.isoformat(),
        "updated_at": person.updated_at.isoformat(),
    }


def _consent_data(consent: Consent) -> dict[str, Any]:
    return {
        "method": consent.method.value,
        "given_at": consent.given_at.isoformat(),
        "source": consent_source(consent.source),
        "text": consent.text,
        "withdrawn_at": _instant(consent.withdrawn_at),
    }


def _message_data(message: Message, language: str) -> dict[str, Any]:
    # Whoever downloads the export is staff: the mail as staff may read it, links hidden.
    content = readable(message, language)
    return {
        "kind": message.kind.value,
        "subject": content.subject if content else None,
        "to": message.recipient,
        "state": message.state.value,
        "due_at": message.due_at.isoformat(),
        "sent_at": _instant(message.sent_at),
        "text": content.text if content else None,
    }


def _invitation_data(invitation: Invitation, event: Event) -> dict[str, Any]:
    return {
        "event": event.title,
        "starts_at": event.starts_at.isoformat(),
        "answer": invitation.rsvp.value,
        "answered_at": _instant(invitation.responded_at),
        "attended": invitation.has_attended,
    }


def _answer_data(response: Response, questionnaire: Questionnaire) -> dict[str, Any]:
    return {
        "questionnaire": questionnaire.slug,
        "submitted_at": response.submitted_at.isoformat(),
        "answers": response.answers,
    }


def _suppression(db_session: Session, email: str) -> dict[str, Any] | None:
    """Why and since when no mail goes to `email` (unsubscribed, bounced...), or None."""
    found = db_session.scalar(select(Suppression).where(Suppression.email == email))
    if found is None:
        return None
    return {
        "reason": found.reason.value,
        "since": found.created_at.isoformat(),
        "detail": found.detail,
    }
