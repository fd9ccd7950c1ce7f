"""Abuse reports (ARF, RFC 5965): the person who reported our mail as spam gets no more of it.

A mailbox provider's feedback loop sends a multipart/report (report-type=feedback-report) with
a message/feedback-report part (`Feedback-Type: abuse`, `Original-Rcpt-To`, ...) and the
original message or its headers. The original is found as any report's (the VERP address, or our
Message-ID in the attached headers), its participant by it or by the reported address; they
are unsubscribed ("complaint") and their address suppressed as a complaint, and the campaign's
lead administrators are told by mail, which links to the Inbox entry and names nobody.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from email.utils import parseaddr

from sqlalchemy.orm import Session

from campaign.enrolment import lifecycle
from campaign.enrolment.models import Participant, ParticipantStatus
from campaign.inbound import matching, notices
from campaign.inbound.parsed import Incoming, text_of, walk_parts
from campaign.outbox.inbound import InboundKind, InboundOutcome
from campaign.outbox.models import Message as Outgoing
from campaign.outbox.models import SuppressionReason
from campaign.outbox.queue import suppress

REPORT = "message/feedback-report"
COMPLAINING = {"abuse", "fraud"}  # the types that say "I did not want this mail"


@dataclass(frozen=True)
class Feedback:
    """What a feedback report says: its type, the reported recipient's address and the
    envelope sender of the reported mail (our return address for it)."""

    feedback_type: str
    recipient: str  # Original-Rcpt-To, "" when the provider left it out
    mail_from: str  # Original-Mail-From, likewise


def handle(db_session: Session, incoming: Incoming) -> bool:
    """Take an ARF report: unsubscribe and suppress whom it concerns, flag it to the lead
    administrators."""
    feedback = feedback_of(incoming.message)
    if feedback is None:
        return False
    row = incoming.row
    row.kind, row.needs_attention = InboundKind.COMPLAINT, True
    row.detail = f"Feedback-Type: {feedback.feedback_type}"
    original = _original(db_session, incoming, feedback)
    if feedback.feedback_type in COMPLAINING:
        row.outcome = _apply(db_session, incoming, original, feedback)
    else:
        row.outcome = InboundOutcome.KEPT  # "not-spam", "virus", "other": for a person to read
    notices.tell_lead_admins(db_session, incoming)
    return True


def feedback_of(message: Message) -> Feedback | None:
    """Return the feedback report of an ARF message, None when it is not one."""
    if message.get_content_type() != "multipart/report":
        return None
    for part in walk_parts(message):
        if part.get_content_type() == REPORT:
            return _fields(part)
    return None


def _fields(part: Message) -> Feedback:
    """Read the fields of a message/feedback-report part (parsed as a message, or as text)."""
    payload = part.get_payload()
    first = payload[0] if isinstance(payload, list) and payload else None
    fields = first if isinstance(first, Message) else HeaderParser().parsestr(text_of(part))
    kind = str(fields.get("Feedback-Type", "")).strip().lower() or "abuse"
    return Feedback(
        kind, _address(fields, "Original-Rcpt-To"), _address(fields, "Original-Mail-From")
    )


def _address(fields: Message, name: str) -> str:
    """Return the bare, lowercase address of a report's field ("" when it has none)."""
    return parseaddr(str(fields.get(name, "")))[1].strip().lower()


def _original(db_session: Session, incoming: Incoming, feedback: Feedback) -> Outgoing | None:
    """Return our message the report is about: as any report's, else by the return address
    it was sent from (Original-Mail-From); tie the row to it."""
    original = matching.original_of(db_session, incoming)
    if original is None:
        original = matching.row_by_return_path(db_session, feedback.mail_from)
    if original is not None and incoming.row.outbox_message_id is None:
        row = incoming.row
        row.outbox_message_id, row.participant_id = original.id, original.participant_id
        row.campaign_id, row.organisation_id = original.campaign_id, original.organisation_id
    return original


def _apply(
    db_session: Session, incoming: Incoming, original: Outgoing | None, feedback: Feedback
) -> InboundOutcome:
    """Suppress the address our mail went to and unsubscribe its participant; return the
    outcome. A report that names no mail of ours (anyone can write one) changes nothing: the
    participant with the reported address is only noted, for the lead administrator to judge."""
    if original is None:
        _link(incoming, _by_address(db_session, incoming, feedback.recipient))
        return InboundOutcome.KEPT if incoming.row.participant_id else InboundOutcome.NO_MATCH
    person = db_session.get(Participant, original.participant_id or 0)
    if person is not None and person.status is ParticipantStatus.ERASED:
        return InboundOutcome.ERASED
    now = incoming.now
    suppress(db_session, original.recipient, SuppressionReason.COMPLAINT, "abuse report", now)
    if person is not None:  # the complaint's reason is kept: suppress came first
        lifecycle.unsubscribe(db_session, person, now, how="complaint")
    return InboundOutcome.APPLIED


def _by_address(db_session: Session, incoming: Incoming, address: str) -> Participant | None:
    """Return the participant of the row's campaign (or the one campaign) with the address."""
    if not address:
        return None
    return matching.participant_by_address(db_session, incoming.row.campaign_id, address)


def _link(incoming: Incoming, person: Participant | None) -> None:
    """Note on the row whom the report most likely concerns."""
    if person is not None:
        row = incoming.row
        row.participant_id = person.id
        row.campaign_id, row.organisation_id = person.campaign_id, person.organisation_id
