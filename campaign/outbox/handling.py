"""What staff do to the outbox by hand: cancel a message, send one again, lift a suppression;
each is audited. The caller commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from campaign.audit import record
from campaign.outbox import queue
from campaign.outbox.models import Message, Suppression


def cancel(db_session: Session, message: Message, actor: Any, answer: str) -> bool:
    """Cancel a message not sent yet, noting `answer` as why; False if it is too late."""
    changed = queue.cancel(message, answer)
    if changed:
        _record(db_session, actor, "message.cancelled", message)
    return changed


def requeue(db_session: Session, message: Message, actor: Any, now: datetime) -> bool:
    """Queue a failed or cancelled message again; False if it is neither."""
    changed = queue.requeue(message, now)
    if changed:
        _record(db_session, actor, "message.requeued", message)
    return changed


def lift(db_session: Session, suppression: Suppression, actor: Any) -> None:
    """Let the suppressed address receive mail again."""
    db_session.delete(suppression)
    record(db_session, actor, "suppression.removed", target=suppression.email)


def _record(db_session: Session, actor: Any, action: str, message: Message) -> None:
    record(db_session, actor, action, campaign_id=message.campaign_id,
           organisation_id=message.organisation_id, target=f"message:{message.id}")  # fmt: skip
