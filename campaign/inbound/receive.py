"""Receive one message: keep it first, then work out what it is and apply it.

The raw bytes are committed before anything reads them, so that nothing a mail server handed
over is lost, whatever the parsing or a handler does; a handler that fails leaves the message
kept for a person to read. The same bytes received again (a crash between storing and moving
it on the IMAP server, or an MTA that retries) are not applied twice.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campaign.inbound import classify
from campaign.inbound.matching import ENVELOPE_HEADERS, original_of
from campaign.inbound.parsed import Incoming, address_of, header_text, parse
from campaign.outbox.inbound import InboundKind, InboundMessage, InboundOutcome

log = logging.getLogger(__name__)

TRUNCATED = "cut short: larger than the limit"


def receive(
    db_session: Session,
    raw: bytes,
    now: datetime,
    *,
    source: str,
    envelope_to: str | None = None,
    complete: bool = True,
    commit: bool = True,
) -> InboundMessage:
    """Store a received message, then classify and apply it; return its row.

    `complete` is False when the message was larger than the limit and `raw` is its beginning.
    Raises only when the message cannot be stored (the caller keeps it and tries again).
    `commit` False leaves both steps to the caller's transaction (the demo's, loaded whole).
    """
    done = db_session.commit if commit else db_session.flush
    digest = hashlib.sha256(raw).hexdigest()
    seen = _seen(db_session, digest)
    if seen is not None:
        return seen
    try:
        row = _stored(db_session, raw, now, source, envelope_to, digest, done)
    except IntegrityError:  # the same bytes came in by another path at this very moment
        db_session.rollback()
        return _seen(db_session, digest) or _never_here(digest)
    if not complete:
        _keep(row, InboundKind.OTHER, TRUNCATED)
    else:
        _classified(db_session, row, raw, now)
    if row.outcome is InboundOutcome.ERASED:
        _forget(row)
    done()
    return row


def _seen(db_session: Session, digest: str) -> InboundMessage | None:
    """Return the row of the same bytes received before, if any."""
    return db_session.scalar(select(InboundMessage).where(InboundMessage.digest == digest))


def _never_here(digest: str) -> InboundMessage:
    """Raise: a duplicate refused by the database, yet no row holds its bytes."""
    raise RuntimeError(f"inbound message {digest[:12]} refused as a duplicate of nothing")


def _forget(row: InboundMessage) -> None:
    """Keep of a message about an erased person only that it came and what it was: their
    address and words are not kept again after their erasure."""
    row.raw, row.from_address, row.subject, row.envelope_to = b"", "", "", ""
    row.participant_id = None


def _stored(
    db_session: Session,
    raw: bytes,
    now: datetime,
    source: str,
    envelope_to: str | None,
    digest: str,
    done: Callable[[], None],
) -> InboundMessage:
    """Add the message's row with its raw bytes and what its headers say, and commit (or flush)."""
    headers = BytesHeaderParser(policy=compat32).parsebytes(raw[:1_000_000])
    row = InboundMessage(
        source=source,
        received_at=now,
        envelope_to=(envelope_to or _delivered_to(headers))[:320],
        from_address=address_of(headers, "From")[:320],
        subject=header_text(headers, "Subject")[:500],
        header_message_id=header_text(headers, "Message-ID")[:300],
        digest=digest,
        size=len(raw),
        raw=raw,
        kind=InboundKind.OTHER,
        outcome=InboundOutcome.KEPT,
        detail="",
        needs_attention=True,
    )
    db_session.add(row)
    done()
    return row


def _delivered_to(headers: Message) -> str:
    """Return the address a forwarding server says the message was delivered to ("" if none)."""
    for name in ENVELOPE_HEADERS:
        found = address_of(headers, name)
        if found:
            return found
    return ""


def _classified(db_session: Session, row: InboundMessage, raw: bytes, now: datetime) -> None:
    """Link the row to our message it is about, and let the handlers apply it."""
    incoming = Incoming(row, parse(raw), now)
    try:
        with db_session.begin_nested():
            _link(db_session, incoming)
            classify.apply(db_session, incoming)
    except Exception as error:  # noqa: BLE001 - any failure keeps the message for a person
        log.exception("inbound message %s kept: its handling failed", row.id)
        _keep(row, InboundKind.UNREADABLE, f"handling failed: {type(error).__name__}")


def _link(db_session: Session, incoming: Incoming) -> None:
    """Fill in the campaign, member, participant and message the received one is about."""
    original = original_of(db_session, incoming)
    if original is None:
        return
    row = incoming.row
    row.outbox_message_id = original.id
    row.campaign_id = original.campaign_id
    row.organisation_id = original.organisation_id
    row.participant_id = original.participant_id


def _keep(row: InboundMessage, kind: InboundKind, detail: str) -> None:
    """Keep the message for a person to read, saying why."""
    row.kind, row.outcome, row.detail, row.needs_attention = kind, InboundOutcome.KEPT, detail, True
