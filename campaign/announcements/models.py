"""An announcement: who wrote it for whom, its texts in both languages, when it goes."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from campaign.db import Base, enum_column


class AnnouncementState(enum.Enum):
    SCHEDULED = "scheduled"  # waits for its time
    SENDING = "sending"  # being queued, or queued and not all delivered yet
    SENT = "sent"  # everyone's mail is in the outbox (the list shows whether it has gone)
    CANCELLED = "cancelled"


class Announcement(Base):
    """One announcement; its segment is kept as the criteria chosen (segments.Segment)."""

    __tablename__ = "announcement"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    # A representative's announcement reaches their own member's people only; None: the lead
    # administrator's, to any member's.
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    segment: Mapped[dict[str, Any]] = mapped_column(default=dict)
    subject_sv: Mapped[str] = mapped_column(String(500), default="")
    body_sv: Mapped[str] = mapped_column(Text, default="")
    subject_en: Mapped[str] = mapped_column(String(500), default="")
    body_en: Mapped[str] = mapped_column(Text, default="")
    send_at: Mapped[datetime]  # outside the quiet hours
    state: Mapped[AnnouncementState] = mapped_column(
        enum_column(AnnouncementState, "announcement_state"), default=AnnouncementState.SCHEDULED
    )
    reached: Mapped[int] = mapped_column(default=0)  # counted when the form was sent
    queued: Mapped[int] = mapped_column(default=0)  # mails put in the outbox so far
    # The participants are queued in id order: the last one queued, where the next batch starts.
    queued_up_to: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_announcement_campaign_id", "campaign_id"),
        Index("ix_announcement_state_send_at", "state", "send_at"),
        CheckConstraint("queued >= 0 AND reached >= 0", name="counts_positive"),
    )

    form_key: Mapped[str] = mapped_column(String(64), unique=True)  # one row per form sent

    @property
    def texts(self) -> Texts:
        """Return the announcement's subject and body in each language."""
        return Texts(self.subject_sv, self.body_sv, self.subject_en, self.body_en)


@dataclass(frozen=True)
class Texts:
    """An announcement's subject and Markdown body in Swedish and in English."""

    subject_sv: str = ""
    body_sv: str = ""
    subject_en: str = ""
    body_en: str = ""

    def written(self) -> list[str]:
        """Return the languages it is written in."""
        subjects = (("sv", self.subject_sv), ("en", self.subject_en))
        return [language for language, subject in subjects if subject.strip()]

    def of(self, language: str) -> tuple[str, str]:
        """Return the subject and body a reader of `language` gets: the other language's when
        this one was left empty."""
        sv, en = (self.subject_sv, self.body_sv), (self.subject_en, self.body_en)
        own, other = (sv, en) if language == "sv" else (en, sv)
        return own if own[0].strip() else other
