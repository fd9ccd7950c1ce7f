"""Mail that comes back: each message received on the inbound path, kept with its raw bytes.

The outbox's own table for it, at the bottom layer, so that erasing a participant can reach
their rows; what the messages mean (bounces, calendar answers, auto-replies, complaints) is
worked out above, in campaign/inbound.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column

from campaign.db import Base, enum_column


class InboundKind(enum.Enum):
    HARD_BOUNCE = "hard_bounce"
    SOFT_BOUNCE = "soft_bounce"
    DELAYED = "delayed"  # "will retry": changes nothing, shown
    CALENDAR_REPLY = "calendar_reply"
    CALENDAR_COUNTER = "calendar_counter"
    AUTO_REPLY = "auto_reply"
    COMPLAINT = "complaint"
    OTHER = "other"
    UNREADABLE = "unreadable"


class InboundOutcome(enum.Enum):
    APPLIED = "applied"  # it changed something
    RECORDED = "recorded"  # counted and shown; nothing changed
    STALE = "stale"  # a calendar answer to an older version of the event: recorded, flagged
    NO_MATCH = "no_match"  # no message, invitation or person of ours found
    ERASED = "erased"  # it belongs to an erased person: nothing applied
    KEPT = "kept"  # for a person to read


class InboundMessage(Base):
    """One message received by the IMAP job or `campaign inbound`, and what was done with it."""

    __tablename__ = "inbound_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL")
    )
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL")
    )
    outbox_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("message.id", ondelete="SET NULL")
    )
    event_id: Mapped[int | None]  # the meeting a calendar answer is about, if it was found
    source: Mapped[str] = mapped_column(String(10))  # "imap" or "pipe"
    received_at: Mapped[datetime]
    envelope_to: Mapped[str] = mapped_column(String(320), default="")
    from_address: Mapped[str] = mapped_column(String(320), default="")
    subject: Mapped[str] = mapped_column(String(500), default="")
    header_message_id: Mapped[str] = mapped_column(String(300), default="")
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the raw bytes: seen twice?
    size: Mapped[int]
    raw: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    kind: Mapped[InboundKind] = mapped_column(
        enum_column(InboundKind, "inbound_kind"), default=InboundKind.OTHER
    )
    outcome: Mapped[InboundOutcome] = mapped_column(
        enum_column(InboundOutcome, "inbound_outcome"), default=InboundOutcome.KEPT
    )
    detail: Mapped[str] = mapped_column(String(1000), default="")
    needs_attention: Mapped[bool] = mapped_column(default=False)
    dismissed_at: Mapped[datetime | None]
    dismissed_by: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )

    __table_args__ = (
        Index("ix_inbound_message_campaign_received", "campaign_id", "received_at"),
        Index("ix_inbound_message_participant_id", "participant_id"),
        Index("ix_inbound_message_digest", "digest", unique=True),
        Index("ix_inbound_message_from_address", "from_address"),
    )
