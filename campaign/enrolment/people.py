"""Enrolling one person, moving them, and the data-subject rights: export and erasure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campaign.audit import record
from campaign.enrolment.erasure import erased_at, forget_address, leave_tombstone
from campaign.enrolment.importing import start_date
from campaign.enrolment.models import (
    Consent,
    ConsentMethod,
    Participant,
    ParticipantStatus,
    PilotGroup,
)
from campaign.events.models import Event, Invitation
from campaign.i18n import load_catalog
from campaign.network.models import Campaign, Organisation
from campaign.outbox.disclosure import readable
from campaign.outbox.models import Message, Suppression
from campaign.outbox.queue import cancel_for_participant
from campaign.surveys.models import Questionnaire, Response

STOPPED = (ParticipantStatus.UNSUBSCRIBED, ParticipantStatus.BOUNCED, ParticipantStatus.ERASED)


class EnrolmentConflict(Exception):
    """The address cannot be enrolled; `reason` is a key of importing.REASONS."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def conflict_for(
    db_session: Session,
    campaign_id: int,
    organisation_id: int,
    email: str,
    *,
    asked_at: datetime | None = None,
) -> str | None:
    """Return why `email` cannot be enrolled by this member now, or None if it can.

    An erased address (`erased`) can come back only by the person's own request: `asked_at`,
    when they asked to join themself, must be after the erasure; staff give no `asked_at`.
    """
    if db_session.scalar(select(Suppression.id).where(Suppression.email == email)):
        return "suppressed"
    found = db_session.scalar(
        select(Participant).where(
            Participant.campaign_id == campaign_id, Participant.email == email
        )
    )
    if found is None:
        erased = erased_at(db_session, campaign_id, email)
        if erased is not None and (asked_at is None or asked_at <= erased):
            return "erased"
        return None
    if found.organisation_id != organisation_id:
        return "other_member"
    return "already_enrolled"


def enrol(
    db_session: Session,
    *,
    campaign: Campaign,
    group: PilotGroup,
    email: str,
    name: str,
    title: str,
    language: str,
    consent: tuple[ConsentMethod, str, str],
    now: datetime,
    actor: Any = None,
    asked_at: datetime | None = None,
) -> Participant:
    """Add an active participant with their consent (method, source, text); the caller commits.

    Raises EnrolmentConflict when the address is suppressed, erased or already enrolled;
    `asked_at` is when the person asked to join themself (see conflict_for).
    """
    reason = conflict_for(db_session, campaign.id, group.organisation_id, email, asked_at=asked_at)
    if reason:
        raise EnrolmentConflict(reason)
    person = Participant(
        campaign_id=campaign.id,
        organisation_id=group.organisation_id,
        pilot_group_id=group.id,
        email=email,
        name=name,
        title=title,
        language=language,
        status=ParticipantStatus.ACTIVE,
        starts_on=start_date(group, campaign, now),
        created_at=now,
        updated_at=now,
    )
    method, source, text = consent
    person.consents.append(Consent(method=method, given_at=now, source=source[:300], text=text))
    db_session.add(person)
    try:
        with db_session.begin_nested():
            db_session.flush()
    except IntegrityError:  # enrolled a moment ago by someone else
        raise EnrolmentConflict("already_enrolled") from None
    record(
        db_session,
        actor,
        "participant.enrolled",
        now=now,
        organisation_id=group.organisation_id,
        target=f"participant:{person.id}",
        group=group.name,
        method=method.value,
    )
    return person


def self_enrolment_consent(
    language: str, organisation: Organisation, group: PilotGroup, campaign: Campaign
) -> str:
    """The text a person agrees to on the self-enrolment form, in their language."""
    _ = load_catalog(language).gettext
    return _(
        "I want to take part in the pilot group %(group)s of %(organisation)s in %(campaign)s."
        " I agree that my name, title and e-mail address are stored to send me the group's"
        " e-mails, calendar invitations and questionnaires until the campaign ends on %(end)s."
        " My answers are reported together with others'. I can stop at any time with the link"
        " in every e-mail, and ask %(organisation)s to see or erase my data."
    ) % {
        "group": group.name,
        "organisation": organisation.name,
        "campaign": campaign.name,
        "end": campaign.ends_on.isoformat(),
    }


def move(
    db_session: Session, person: Participant, group: PilotGroup, actor: Any, now: datetime
) -> bool:
    """Move a participant to another pilot group of their organisation; False if no change."""
    if group.organisation_id != person.organisation_id or group.id == person.pilot_group_id:
        return False
    old = person.pilot_group.name if person.pilot_group else ""
    person.pilot_group_id = group.id
    person.pilot_group = group
    person.updated_at = now
    record(
        db_session,
        actor,
        "participant.moved",
        now=now,
        organisation_id=person.organisation_id,
        target=f"participant:{person.id}",
        from_group=old,
        to_group=group.name,
    )
    return True


@dataclass
class History:
    """Everything the service holds about one participant, for their page and their export."""

    consents: list[Consent]
    messages: list[Message]
    invitations: list[tuple[Invitation, Event]]
    responses: list[tuple[Response, Questionnaire]]


def history_of(db_session: Session, person: Participant) -> History:
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
        invitations=[
            (invitation, event)
            for invitation, event in db_session.execute(
                select(Invitation, Event)
                .join(Event, Event.id == Invitation.event_id)
                .where(Invitation.participant_id == person.id)
                .order_by(Event.starts_at)
            )
        ],
        responses=[
            (response, questionnaire)
            for response, questionnaire in db_session.execute(
                select(Response, Questionnaire)
                .join(Questionnaire, Questionnaire.id == Response.questionnaire_id)
                .where(Response.participant_id == person.id)
                .order_by(Response.submitted_at)
            )
        ],
    )


def _instant(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def export_data(db_session: Session, person: Participant, now: datetime) -> dict[str, Any]:
    """Return all personal data about a participant as JSON-ready data (GDPR article 15/20)."""
    history = history_of(db_session, person)
    group = person.pilot_group
    return {
        "exported_at": now.isoformat(),
        "participant": {
            "id": person.id,
            "email": person.email,
            "name": person.name,
            "title": person.title,
            "language": person.language,
            "status": person.status.value,
            "organisation": person.organisation.name,
            "pilot_group": group.name if group else None,
            "starts_on": person.starts_on.isoformat() if person.starts_on else None,
            "enrolled_at": person.created_at.isoformat(),
            "updated_at": person.updated_at.isoformat(),
        },
        "consents": [
            {
                "method": c.method.value,
                "given_at": c.given_at.isoformat(),
                "source": c.source,
                "text": c.text,
                "withdrawn_at": _instant(c.withdrawn_at),
            }
            for c in history.consents
        ],
        "messages": [_message_data(m, person.language) for m in history.messages],
        "invitations": [
            {
                "event": e.title,
                "starts_at": e.starts_at.isoformat(),
                "answer": i.rsvp.value,
                "answered_at": _instant(i.responded_at),
                "attended": i.has_attended,
            }
            for i, e in history.invitations
        ],
        "questionnaire_answers": [
            {
                "questionnaire": q.slug,
                "submitted_at": r.submitted_at.isoformat(),
                "answers": r.answers,
            }
            for r, q in history.responses
        ],
        "suppressed": _suppression(db_session, person.email),
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


def erase(db_session: Session, person: Participant, actor: Any, now: datetime) -> None:
    """Remove a participant's personal data for good, keeping what the counts need.

    The row stays, with status `erased` and a placeholder address, so that the numbers of
    participants, sent mail, attendance and answers in reports do not change. Unsent mail is
    cancelled; sent mail keeps only its kind, state and times. Consent records go, and so do
    the person's self-enrolment requests (their confirmation mails are emptied too). The audit
    record names who erased whom by number only (audit records hold no personal data). The
    address leaves the suppression list too: the tombstone (a keyed hash of the address, see
    `erasure`) takes its place, stopping old links and staff from enrolling it again, so that
    the person is not mailed again unless they themself ask to join.
    """
    leave_tombstone(db_session, person.campaign_id, person.email, now)
    forget_address(db_session, person.campaign_id, person.id, person.email)
    db_session.execute(delete(Suppression).where(Suppression.email == person.email))
    cancel_for_participant(db_session, person.id, "cancelled: the participant was erased")
    placeholder = f"erased-{person.id}@erased.invalid"
    db_session.execute(
        update(Message)
        .where(Message.participant_id == person.id)
        .values(
            recipient=placeholder,
            subject="",
            text_body="",
            html_body="",
            headers={},
            calendar=None,  # its ATTENDEE named the person
            last_answer=func.replace(Message.last_answer, person.email, placeholder),
        )
        .execution_options(synchronize_session=False)
    )
    db_session.execute(delete(Consent).where(Consent.participant_id == person.id))
    person.email = placeholder
    person.name = ""
    person.title = ""
    person.status = ParticipantStatus.ERASED
    person.updated_at = now
    record(
        db_session,
        actor,
        "participant.erased",
        now=now,
        organisation_id=person.organisation_id,
        target=f"participant:{person.id}",
    )
