"""A participant's lifecycle: pause, resume, unsubscribe and erase, and what "stopped" means.

    invited -> active <-> paused;  any of them -> unsubscribed, bounced or erased;
    active -> completed;  bounced -> active (given a corrected address)

A pause may end on a given day (`paused_until`): the `pauses` job resumes the participant in
the morning of that day (campaign/drip/pauses.py). Unsubscribing or erasure ends it for good.

A stopped participant (`STOPPED`) gets no more mail: they unsubscribed, asked to be erased,
or their address bounced for good (the mail server refused it when it was sent, or a delivery
report said so later: campaign/inbound/bounces.py). Pausing only holds their mail until they
resume. A bounced address is also on the suppression list, which stops its mail and its
enrolment by an import or a form; a representative who corrects the address makes the person
active again.

Each change here flushes and records its audit event; the caller commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from campaign.audit import record
from campaign.enrolment.erasure import forget_address, leave_tombstone
from campaign.enrolment.models import Consent, Participant, ParticipantStatus
from campaign.network.retention import is_purged
from campaign.outbox.inbound import InboundMessage
from campaign.outbox.models import Message, Suppression, SuppressionReason
from campaign.outbox.queue import cancel_for_participant, suppress
from campaign.outbox.unsubscribe import participant_id_of
from campaign.webhooks.emit import emit

# The one definition of a participant who gets no more mail, whatever happens next. The report
# counts the unsubscribed who were reached as having taken part, the bounced apart, and the
# erased nowhere.
STOPPED = (ParticipantStatus.UNSUBSCRIBED, ParticipantStatus.BOUNCED, ParticipantStatus.ERASED)
# Who becomes bounced when their address fails for good (the others keep their status).
BOUNCEABLE = (ParticipantStatus.INVITED, ParticipantStatus.ACTIVE, ParticipantStatus.PAUSED)
# The last answers of the mail a stopped participant no longer gets.
UNSUBSCRIBED_ANSWER = "cancelled: the participant unsubscribed"
ERASED_ANSWER = "cancelled: the participant was erased"
BOUNCED_ANSWER = "cancelled: the participant's address bounced"
# The changes a webhook receiver hears of, by audit action (campaign/webhooks/payloads.py).
EMITTED = {
    "participant.enrolled": "participant.enrolled",
    "participant.paused": "participant.paused",
    "participant.pause_moved": "participant.paused",
    "participant.unsubscribed": "participant.unsubscribed",
    "participant.bounced": "participant.bounced",
    "participant.erased": "participant.erased",
}


def participant_for(db_session: Session, token: str) -> Participant | None:
    """Return the participant an unsubscribe link is for (None if forgotten); raise TokenError
    if the link is not valid."""
    participant = db_session.get(Participant, participant_id_of(token))
    if participant is None or is_forgotten(db_session, participant):
        return None
    return participant


def is_forgotten(db_session: Session, person: Participant) -> bool:
    """Whether nothing personal is held about the person any more: they were erased, or their
    campaign's personal data was purged. Their old links then lead nowhere (410)."""
    return person.status is ParticipantStatus.ERASED or is_purged(db_session, person.campaign_id)


def pause(
    db_session: Session,
    participant: Participant,
    now: datetime,
    actor: Any = None,
    until: date | None = None,
) -> bool:
    """Hold mail to an active participant until they resume, or until the morning of `until`
    (a paused participant gets the new day, or none); False if not possible."""
    if participant.status is ParticipantStatus.PAUSED:
        return _pause_moved(db_session, participant, now, actor, until)
    if participant.status not in (ParticipantStatus.ACTIVE, ParticipantStatus.INVITED):
        return False
    participant.status, participant.updated_at = ParticipantStatus.PAUSED, now
    participant.paused_until = until
    record_change(db_session, actor, "participant.paused", participant, now, **_until(until))
    return True


def _pause_moved(
    db_session: Session, participant: Participant, now: datetime, actor: Any, until: date | None
) -> bool:
    """Give a paused participant another day to resume on (None: until further notice)."""
    if participant.paused_until != until:
        participant.paused_until, participant.updated_at = until, now
        details = _until(until)
        record_change(db_session, actor, "participant.pause_moved", participant, now, **details)
    return True


def _until(until: date | None) -> dict[str, str]:
    """The audit detail of the day a pause ends, if it has one."""
    return {"until": until.isoformat()} if until else {}


def resume(
    db_session: Session, participant: Participant, now: datetime, actor: Any = None, why: str = ""
) -> bool:
    """Let held mail go again (campaign/drip/pauses.py says when); False if the participant
    was not paused."""
    if participant.status is not ParticipantStatus.PAUSED:
        return False
    participant.status, participant.updated_at = ParticipantStatus.ACTIVE, now
    participant.paused_until, participant.resumed_at = None, now
    details = {"why": why} if why else {}
    record_change(db_session, actor, "participant.resumed", participant, now, **details)
    return True


def unsubscribe(
    db_session: Session, participant: Participant, now: datetime, how: str, actor: Any = None
) -> None:
    """Stop all mail to the participant: status, suppression list, and unsent mail cancelled."""
    if participant.status is not ParticipantStatus.UNSUBSCRIBED:
        participant.status, participant.updated_at = ParticipantStatus.UNSUBSCRIBED, now
        participant.paused_until = None  # never resumed
        record_change(db_session, actor, "participant.unsubscribed", participant, now, how=how)
    suppress(db_session, participant.email, SuppressionReason.UNSUBSCRIBED, how, now)
    cancel_for_participant(db_session, participant.id, UNSUBSCRIBED_ANSWER)


def bounce(
    db_session: Session, participant: Participant, now: datetime, reason: str, status: str
) -> None:
    """Stop all mail to a participant whose address failed for good (`reason`: the server's
    words, kept with the suppression; `status`: its code, the only part audited)."""
    if participant.status in BOUNCEABLE:
        participant.status, participant.updated_at = ParticipantStatus.BOUNCED, now
        participant.paused_until = None
        record_change(db_session, None, "participant.bounced", participant, now, status=status)
    suppress(db_session, participant.email, SuppressionReason.HARD_BOUNCE, reason, now)
    cancel_for_participant(db_session, participant.id, BOUNCED_ANSWER)


def readdressed(
    db_session: Session, person: Participant, old_email: str, actor: Any, now: datetime
) -> None:
    """Make a bounced participant given a corrected address active again; their old address
    leaves the suppression list if it is there for bouncing (an unsubscription stays)."""
    if person.status is not ParticipantStatus.BOUNCED:
        return
    person.status, person.next_step_at = ParticipantStatus.ACTIVE, None
    db_session.execute(
        delete(Suppression).where(
            Suppression.email == old_email, Suppression.reason == SuppressionReason.HARD_BOUNCE
        )
    )
    record_change(db_session, actor, "participant.readdressed", person, now)


def bounces_of(db_session: Session, people: Iterable[Participant]) -> dict[int, Suppression]:
    """Return why and since when each bounced one of `people` gets no mail, by participant id."""
    bounced = {p.email: p.id for p in people if p.status is ParticipantStatus.BOUNCED}
    if not bounced:
        return {}
    found = db_session.scalars(select(Suppression).where(Suppression.email.in_(bounced)))
    return {bounced[s.email]: s for s in found}


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
    cancel_for_participant(db_session, person.id, ERASED_ANSWER)
    placeholder = f"erased-{person.id}@erased.invalid"
    _empty_mails(db_session, person, placeholder)
    db_session.execute(delete(Consent).where(Consent.participant_id == person.id))
    _forget_inbound(db_session, person)
    _blank(person, placeholder, now)
    record_change(db_session, actor, "participant.erased", person, now)


def _forget_inbound(db_session: Session, person: Participant) -> None:
    """Delete the mail that came back from or about the person: it is theirs, whole."""
    db_session.execute(
        delete(InboundMessage)
        .where(
            (InboundMessage.participant_id == person.id)
            | (
                (InboundMessage.from_address == person.email)
                & (
                    InboundMessage.campaign_id.is_(None)
                    | (InboundMessage.campaign_id == person.campaign_id)
                )
            )
        )
        .execution_options(synchronize_session=False)
    )


def _blank(person: Participant, placeholder: str, now: datetime) -> None:
    """Mark the person erased, with no name or title and `placeholder` as their address."""
    person.email = placeholder
    person.name = ""
    person.title = ""
    person.status = ParticipantStatus.ERASED
    person.paused_until = None
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
    """Audit a change of the participant, naming them by number only; tell the webhook
    receivers of it."""
    record(
        db_session, actor, action, now=now, campaign_id=person.campaign_id,
        organisation_id=person.organisation_id,
        target=f"participant:{person.id}", **details,
    )  # fmt: skip
    if action in EMITTED:
        emit_change(db_session, EMITTED[action], person, now)


def emit_change(db_session: Session, event_type: str, person: Participant, now: datetime) -> None:
    """Queue a participant's event to the webhook receivers: their numbers, and a pause's day."""
    data: dict[str, Any] = {
        "participant_id": person.id,
        "organisation_id": person.organisation_id,
        "pilot_group_id": person.pilot_group_id,
    }
    if event_type == "participant.paused":
        data["paused_until"] = person.paused_until
    emit(
        db_session, campaign_id=person.campaign_id, organisation_id=person.organisation_id,
        event_type=event_type, data=data, now=now,
    )  # fmt: skip
