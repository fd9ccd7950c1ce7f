"""Who did what, when: the audit trail of staff actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from campaign.db import Base
from campaign.timing import current_clock


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    actor_label: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(100))
    # The campaign the action was taken in; None for an account's own (sign-in, password).
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    target: Mapped[str] = mapped_column(String(200), default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)

    __table_args__ = (
        Index("ix_audit_event_occurred_at", "occurred_at"),
        Index("ix_audit_event_campaign_id_occurred_at", "campaign_id", "occurred_at"),
    )


def record(
    db_session: Session,
    actor: Any,
    action: str,
    *,
    now: datetime | None = None,
    campaign_id: int | None = None,
    organisation_id: int | None = None,
    target: str = "",
    **details: Any,
) -> AuditEvent:
    """Add an audit event for `actor` (a User, or None for the system) at `now` (when not
    given, the request's clock), in the campaign it concerns; the caller commits."""
    event = AuditEvent(
        occurred_at=now or current_clock().now(),
        actor_id=getattr(actor, "id", None),
        actor_label=getattr(actor, "email", None) or "system",
        action=action,
        campaign_id=campaign_id,
        organisation_id=organisation_id,
        target=target,
        details=details,
    )
    db_session.add(event)
    return event
