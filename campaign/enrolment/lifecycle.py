"""A participant's lifecycle: pause, resume, unsubscribe and erase, and what "stopped" means.

    invited -> active <-> paused;  any of them -> unsubscribed or erased;  active -> completed

A stopped participant (`STOPPED`) gets no more mail, for good: they unsubscribed, or asked to
be erased. Pausing only holds their mail until they resume. A hard bounce is not a status of
the participant but of the address: the dispatcher puts it on the suppression list, which stops
its mail and its enrolment (by an import or a form) as an unsubscription does.

Each change here flushes and records its audit event; the caller commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, update
from sqlalchemy.orm import Session

from campaign.audit import record
from campaign.enrolment.erasure import forget_address, leave_tombstone
from campaign.enrolment.models import Consent, Participant, ParticipantStatus
from campaign.outbox.models import Message, Suppression, SuppressionReason
from campaign.outbox.queue import cancel_for_participant, suppress
from campaign.outbox.unsubscribe import participant_id_of

# The one definition of a participant who gets no more mail, whatever happens next. The report
# counts the unsubscribed who were reached as having taken part; the erased it counts nowhere.
STOPPED = (ParticipantStatus.UNSUBSCRIBED, ParticipantStatus.ERASED)


def participant_for(db_session: Session, token: str) -> Participant | None:
    """Return the participant an unsubscribe link is for (None if erased); raise TokenError if
    the link is not valid."""
    participant = db_session.get(Participant, participant_id_of(token))
    if participant is None or participant.status is ParticipantStatus.ERASED:
        return None
    return participant


def pause(db_session: Session, participant: Participant, now: datetime, actor: Any = None) -> bool:
    """Hold mail to an active participant until they resume; False if not possible."""
    if participant.status not in (ParticipantStatus.ACTIVE, ParticipantStatus.INVITED):
        return False
    participant.status, participant.updated_at = ParticipantStatus.PAUSED, now
    record_change(db_session, actor, "participant.paused", participant, now)
    return True


def resume(db_session: Session, participant: Participant, now: datetime, actor: Any = None) -> bool:
    """Let held mail go again; False if the participant was not paused."""
    if participant.status is not ParticipantStatus.PAUSED:
        return False
    participant.status, participant.updated_at = ParticipantStatus.ACTIVE, now
    record_change(db_session, actor, "participant.resumed", participant, now)
    return True


def unsubscribe(
    db_session: Session, participant: Participant, now: datetime, how: str, actor: Any = None
) -> None:
    """Stop all mail to the participant: status, suppression list, and unsent mail cancelled."""
    if participant.status is not ParticipantStatus.UNSUBSCRIBED:
        participant.status, participant.updated_at = ParticipantStatus.UNSUBSCRIBED, now
        record_change(db_session, actor, "participant.unsubscribed", participant, now, how=how)
    suppress(db_session, participant.email, SuppressionReason.UNSUBSCRIBED, how, now)
    cancel_for_participant(db_session, participant.id, "cancelled: the participant unsubscribed")


def erase(db_session: Session, person: Participant, actor: Any, now: datetime) -> None:
    """Remove a participant's personal data for good, keeping what the counts need.

    The row stays, with status `erased` and a placeholder address, so that the numbers of
    sent mail, attendance and answers in reports do not change. Unsent mail is cancelled; sent
    mail keeps only its kind, state and times. Consent records go, and so do the person's
    self-enrolment requests (their confirmation mails are emptied too). The audit record names
    who erased whom by number only (audit records hold no personal data). The address leaves
    the suppression list too: the tombstone (a keyed hash of the address, see `erasure`) takes
    its place, stopping old links and staff from enrolling it again, so that the person is not
    mailed again unless they themself ask to join.
    """
    leave_tombstone(db_session, person.campaign_id, person.email, now)
    forget_address(db_session, person.campaign_id, person.id, person.email)
    db_session.execute(delete(Suppression).where(Suppression.email == person.email))
    cancel_for_participant(db_session, person.id, "cancelled: the participant was erased")
    placeholder = f"erased-{person.id}@erased.invalid"
    _empty_mails(db_session, person, placeholder)
    db_session.execute(delete(Consent).where(Consent.participant_id == person.id))
    _blank(person, placeholder, now)
    record_change(db_session, actor, "participant.erased", person, now)


def _blank(person: Participant, placeholder: str, now: datetime) -> None:
    """Mark the person erased, with no name or title and `placeholder` as their address."""
    person.email = placeholder
    person.name = ""
    person.title = ""
    person.status = ParticipantStatus.ERASED
    person.updated_at = now


def _empty_mails(db_session: Session, person: Participant, placeholder: str) -> None:
    """Keep of the person's mails only kind, state and times; the address becomes `placeholder`."""
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


def record_change(
    db_session: Session, actor: Any, action: str, person: Participant, now: datetime, **details: Any
) -> None:
    """Audit a change of the participant, naming them by number only."""
    record(
        db_session, actor, action, now=now, campaign_id=person.campaign_id,
        organisation_id=person.organisation_id,
        target=f"participant:{person.id}", **details,
    )  # fmt: skip
