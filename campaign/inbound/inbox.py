"""The Inbox: received messages as staff list and read them, and marking one as read.

A message is "to read" while it needs attention (kept for a person, a complaint, a stale
calendar answer) and nobody has marked it as read. Who sees which rows is the scope's
(campaign/accounts/scope.py), applied by the view.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, LargeBinary, Select, and_, func, select
from sqlalchemy.orm import Session

from campaign.audit import record
from campaign.inbound.reading import READ_BYTES, Reading, reading_of
from campaign.outbox.inbound import InboundKind, InboundMessage

TO_READ = "to-read"  # the list's default filter; "all" shows every message


def to_read() -> ColumnElement[bool]:
    """The condition of the messages still to read."""
    return and_(InboundMessage.needs_attention.is_(True), InboundMessage.dismissed_at.is_(None))


def listed(statement: Select[Any], show: str, kind: str) -> Select[Any]:
    """Narrow a select of messages to those to read (unless `show` is "all") and of one kind
    (when `kind` names one), the newest first."""
    if show != "all":
        statement = statement.where(to_read())
    if kind in {k.value for k in InboundKind}:
        statement = statement.where(InboundMessage.kind == InboundKind(kind))
    return statement.order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())


def reading(db_session: Session, row: InboundMessage) -> Reading:
    """Return what the page shows of the message, reading no more than its beginning."""
    beginning = func.substr(InboundMessage.raw, 1, READ_BYTES, type_=LargeBinary)
    raw = db_session.scalar(select(beginning).where(InboundMessage.id == row.id)) or b""
    return reading_of(bytes(raw), row.size)


def dismiss(
    db_session: Session, row: InboundMessage, user: Any, now: datetime, campaign_id: int
) -> bool:
    """Mark the message as read by `user` (in the campaign `campaign_id`, whose audit log
    notes it); return False if it was not to read."""
    if not row.needs_attention or row.dismissed_at is not None:
        return False
    row.dismissed_at, row.dismissed_by = now, user.id
    record(
        db_session, user, "inbound.dismissed", now=now, campaign_id=campaign_id,
        organisation_id=row.organisation_id, target=f"inbound:{row.id}",
    )  # fmt: skip
    return True
