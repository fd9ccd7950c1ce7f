"""Bounces: a delivery report applied to our message, its address and the person behind it.

The report is read by campaign/inbound/reports.py (RFC 3464 fields, flufl.bounce's detectors,
a last resort). Whose failure it is: that of the message the report is about (by its return
address, then its Message-ID: campaign/inbound/matching.py), whose recipient the report must
name; a report naming someone else is kept for a person to read. With no message of ours
found, a failure of a participant's address (in the campaign, when it is known) is theirs,
unless the report came to a return address of ours whose token names nothing (made up, or
damaged): then nothing is applied and it is kept.

- A hard bounce (5.x.x, or a permanent failure with no code), or the third soft bounce of the
  same address within 14 days: the message failed (the server's words are its last answer),
  the address is suppressed, and the participant is bounced: their schedule stops and their
  unsent mail is cancelled (campaign/enrolment/lifecycle.py, audited).
- A soft bounce (4.x.x: the server gave up on a mailbox that may come back): counted, shown.
- A delayed notice ("will retry"): shown; nothing changes.
- A report about an erased person: nothing is applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from campaign.enrolment.lifecycle import bounce
from campaign.enrolment.models import Participant, ParticipantStatus
from campaign.inbound import matching
from campaign.inbound.parsed import Incoming
from campaign.inbound.reports import Failure, Severity, failures_of, quoted_message_ids
from campaign.outbox.inbound import InboundKind, InboundMessage, InboundOutcome
from campaign.outbox.models import Message, MessageState, SuppressionReason
from campaign.outbox.queue import suppress

SOFT_LIMIT = 3  # soft bounces of one address within SOFT_WINDOW make a hard one
SOFT_WINDOW = timedelta(days=14)
KINDS = {
    Severity.HARD: InboundKind.HARD_BOUNCE,
    Severity.SOFT: InboundKind.SOFT_BOUNCE,
    Severity.DELAYED: InboundKind.DELAYED,
}
# The last answer of a message that bounced (campaign/labels.py says it in the reader's words).
BOUNCED = "bounced: {reason}"
SOFT_BOUNCED = "bounced: {n} soft bounces within 14 days, the last: {reason}"


@dataclass(frozen=True)
class Bounce:
    """A failure and whose it is: the address, our message (if found) and the person (if any)."""

    failure: Failure
    address: str
    original: Message | None
    person: Participant | None

    @property
    def is_erased(self) -> bool:
        return self.person is not None and self.person.status is ParticipantStatus.ERASED

    @property
    def is_the_persons(self) -> bool:
        """Whether the address that failed is the person's own (they may have a new one)."""
        return self.person is not None and self.person.email == self.address


def handle(db_session: Session, incoming: Incoming) -> bool:
    """Apply a delivery report; False if the message is none."""
    failures = failures_of(incoming.message)
    if not failures:
        return False
    row = incoming.row
    row.kind, row.detail = KINDS[failures[0].severity], failures[0].reason
    found = whose(db_session, incoming, failures)
    if found is None:
        row.outcome, row.needs_attention = InboundOutcome.KEPT, True
    else:
        _apply(db_session, incoming, found)
    return True


def whose(db_session: Session, incoming: Incoming, failures: list[Failure]) -> Bounce | None:
    """Return the failure that is about our message, or a participant's address; None if the
    report cannot be told to be about either."""
    original = matching.original_of(db_session, incoming) or _quoted(db_session, incoming)
    if original is not None:
        return _of_original(db_session, original, failures)
    if _to_a_return_path(incoming):
        return None  # a token that names nothing: never guess from the report's body
    return _of_participant(db_session, incoming, failures)


def _quoted(db_session: Session, incoming: Incoming) -> Message | None:
    """Our message whose Message-ID the report quotes in its text (a non-MIME original)."""
    ids = quoted_message_ids(incoming.message)
    if not ids:
        return None
    return db_session.scalars(select(Message).where(Message.message_id.in_(ids))).first()


def _of_original(db_session: Session, original: Message, failures: list[Failure]) -> Bounce | None:
    """The failure of the original's recipient (an erased person's: any), with its person."""
    person = db_session.get(Participant, original.participant_id or 0)
    recipient = original.recipient.lower()
    named = [f for f in failures if f.address in (recipient, "")]
    if person is not None and person.status is ParticipantStatus.ERASED:
        named = failures  # the message no longer holds the address the report names
    return Bounce(named[0], recipient, original, person) if named else None


def _of_participant(
    db_session: Session, incoming: Incoming, failures: list[Failure]
) -> Bounce | None:
    """The first failure of a participant's address (in the campaign, when it is known)."""
    for failure in failures:
        person = matching.participant_by_address(
            db_session, incoming.row.campaign_id, failure.address
        )
        if person is not None:
            return Bounce(failure, failure.address, None, person)
    return None


def _to_a_return_path(incoming: Incoming) -> bool:
    """Whether the report came to an address of our return-path shape (bounces+…@)."""
    prefix, _, suffix = matching.verp_template().lower().partition("{token}")
    return any(
        a.lower().startswith(prefix) and a.lower().endswith(suffix) and len(a) > len(prefix)
        for a in matching.envelope_candidates(incoming)
    )


def _apply(db_session: Session, incoming: Incoming, found: Bounce) -> None:
    """Link the row to whose failure it is, and do what its severity asks."""
    row = incoming.row
    _link(row, found)
    row.needs_attention = False
    if found.is_erased:
        row.outcome, row.detail = InboundOutcome.ERASED, found.failure.status
    elif found.failure.severity is Severity.HARD:
        _hard(db_session, found, incoming.now, BOUNCED.format(reason=found.failure.reason))
        row.outcome = InboundOutcome.APPLIED
    elif found.failure.severity is Severity.SOFT:
        row.outcome = _soft(db_session, found, incoming.now)
    else:
        row.outcome = InboundOutcome.RECORDED


def _link(row: InboundMessage, found: Bounce) -> None:
    """Fill in the message and the person the report turned out to be about."""
    if found.original is not None:
        row.outbox_message_id = found.original.id
    if found.person is not None:
        row.participant_id = found.person.id
        row.campaign_id, row.organisation_id = (
            found.person.campaign_id,
            found.person.organisation_id,
        )


def _soft(db_session: Session, found: Bounce, now: datetime) -> InboundOutcome:
    """Count a soft bounce; the SOFT_LIMIT-th within SOFT_WINDOW is applied as a hard one."""
    n = soft_bounces(db_session, found, now)
    if n < SOFT_LIMIT:
        return InboundOutcome.RECORDED
    _hard(db_session, found, now, SOFT_BOUNCED.format(n=n, reason=found.failure.reason))
    return InboundOutcome.APPLIED


def soft_bounces(db_session: Session, found: Bounce, now: datetime) -> int:
    """How many soft bounces of the failed address came within SOFT_WINDOW before `now` (this
    one included): those of messages to it, and those only matched to its person."""
    query = (
        select(func.count())
        .select_from(InboundMessage)
        .outerjoin(Message, Message.id == InboundMessage.outbox_message_id)
        .where(
            InboundMessage.kind == InboundKind.SOFT_BOUNCE,
            InboundMessage.received_at > now - SOFT_WINDOW,
            _same_address(found),
        )
    )
    return db_session.scalar(query) or 0


def _same_address(found: Bounce) -> ColumnElement[bool]:
    """The condition of the inbound rows about the failed address."""
    by_message = Message.recipient == found.address
    if not found.is_the_persons or found.person is None:
        return by_message
    unlinked = InboundMessage.outbox_message_id.is_(None)
    return or_(by_message, and_(unlinked, InboundMessage.participant_id == found.person.id))


def _hard(db_session: Session, found: Bounce, now: datetime, answer: str) -> None:
    """The message failed, the address is suppressed, its person (if still theirs) bounced."""
    reason = found.failure.reason
    if found.original is not None and found.original.state is MessageState.SENT:
        found.original.state, found.original.last_answer = MessageState.FAILED, answer[:1000]
    if found.is_the_persons and found.person is not None:
        bounce(db_session, found.person, now, reason, found.failure.status)
    else:
        suppress(db_session, found.address, SuppressionReason.HARD_BOUNCE, reason, now)
