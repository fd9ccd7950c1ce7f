"""The outbox: one row per e-mail to send, whatever produced it, and the suppression list."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from campaign.db import Base, enum_column

# A sequence step sent once per meeting: its key ends ':e<event>' (campaign/report/dashboard.py).
# '\:e': text() would read ':e' as a bind parameter and write NULL into the predicate.
MEETING_STEPS = "kind = 'sequence_step' AND state = 'sent' AND source_key LIKE '%:seq:%\\:e%'"


class Disclosure(enum.Enum):
    """How much of a message staff may read (campaign/outbox/disclosure.py applies it)."""

    ENVELOPE = "envelope"  # that it exists and how its delivery goes; nothing the recipient reads
    CONTENT = "content"  # its text too, each signed link replaced by a marker


class MessageKind(enum.Enum):
    SEQUENCE_STEP = "sequence_step"
    INVITATION = "invitation"
    REMINDER = "reminder"
    QUESTIONNAIRE = "questionnaire"
    CONFIRMATION = "confirmation"
    STAFF_INVITATION = "staff_invitation"
    LOGIN_LINK = "login_link"
    TEST = "test"
    NOTICE = "notice"  # the service telling staff something, e.g. that a purge is coming
    ANNOUNCEMENT = "announcement"  # staff's ad-hoc mail to a segment of the participants

    @property
    def disclosure(self) -> Disclosure:
        """Return how much of a message of this kind staff may read."""
        return _READABLE.get(self, Disclosure.ENVELOPE)


# Staff read what participants are sent (with the links hidden). Only the recipient reads a mail
# whose point is its link (choosing a password, signing in, enrolling with consent), or a test
# mail; and a kind added later shows its envelope only until someone decides otherwise.
_READABLE = {
    MessageKind.SEQUENCE_STEP: Disclosure.CONTENT,
    MessageKind.INVITATION: Disclosure.CONTENT,
    MessageKind.REMINDER: Disclosure.CONTENT,
    MessageKind.QUESTIONNAIRE: Disclosure.CONTENT,
    MessageKind.ANNOUNCEMENT: Disclosure.CONTENT,
}


class MessageState(enum.Enum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    CANCELLED = "cancelled"


class SuppressionReason(enum.Enum):
    HARD_BOUNCE = "hard_bounce"
    UNSUBSCRIBED = "unsubscribed"
    COMPLAINT = "complaint"
    MANUAL = "manual"


class Message(Base):
    __tablename__ = "message"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_key: Mapped[str] = mapped_column(String(300), unique=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL")
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    recipient: Mapped[str] = mapped_column(String(320))
    kind: Mapped[MessageKind] = mapped_column(enum_column(MessageKind, "message_kind"))
    subject: Mapped[str] = mapped_column(String(500))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # An iCalendar object (with its METHOD) sent as a text/calendar part beside text and HTML.
    calendar: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(300), unique=True)
    due_at: Mapped[datetime]
    state: Mapped[MessageState] = mapped_column(
        enum_column(MessageState, "message_state"), default=MessageState.QUEUED
    )
    lease_until: Mapped[datetime | None]
    claim_token: Mapped[str | None] = mapped_column(String(32), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_answer: Mapped[str | None] = mapped_column(String(1000))
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_message_state_due_at", "state", "due_at"),
        Index("ix_message_organisation_id", "organisation_id"),
        # A participant's mail is looked up when they are paused, resumed, unsubscribed or
        # erased; without it each of those read the whole outbox.
        Index("ix_message_participant_id", "participant_id"),
        # The dispatcher's claim: the mail not yet sent, in the order it is claimed (due_at, id),
        # so that a claim reads the first rows of a small index and stops, however long the
        # backlog (the sent mail, nearly all of the table, is not in it).
        Index(
            "ix_message_due",
            "due_at",
            "id",
            postgresql_where=text("state IN ('queued', 'retry', 'sending')"),
            sqlite_where=text("state IN ('queued', 'retry', 'sending')"),
        ),
        # The report's and the dashboard's counts of mail by member, state and month read this
        # instead of the table (the bodies make a row a hundred times as wide as its entry).
        Index(
            "ix_message_report",
            "campaign_id",
            "state",
            "sent_at",
            postgresql_include=["organisation_id", "participant_id", "due_at"],
        ),
        # The dashboard's sequence progress: which steps each member's participants have had,
        # read in the order of member and participant.
        Index(
            "ix_message_steps",
            "campaign_id",
            "organisation_id",
            "participant_id",
            postgresql_include=["sent_at", "source_key"],
            postgresql_where=text("kind = 'sequence_step' AND state = 'sent'"),
            sqlite_where=text("kind = 'sequence_step' AND state = 'sent'"),
        ),
        # The dashboard's count per participant of the steps sent once per meeting (keys that
        # end ':e<event>'): a few entries, where the other steps are counted a mail each.
        Index(
            "ix_message_meeting_steps",
            "campaign_id",
            "organisation_id",
            postgresql_include=["participant_id", "sent_at", "source_key"],
            postgresql_where=text(MEETING_STEPS),
            sqlite_where=text(MEETING_STEPS),
        ),
        # The questionnaires' response rates: who was sent one ('q:<id>:p…' keys, by prefix).
        Index(
            "ix_message_questionnaire",
            "source_key",
            postgresql_ops={"source_key": "varchar_pattern_ops"},
            postgresql_include=["participant_id", "state"],
            postgresql_where=text("kind = 'questionnaire'"),
            sqlite_where=text("kind = 'questionnaire'"),
        ),
        CheckConstraint("attempts >= 0", name="attempts_count"),
        CheckConstraint("state <> 'sending' OR lease_until IS NOT NULL", name="sending_leased"),
        CheckConstraint("state <> 'sent' OR sent_at IS NOT NULL", name="sent_has_time"),
    )


class Suppression(Base):
    """An address no mail is sent to, and why."""

    __tablename__ = "suppression"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    reason: Mapped[SuppressionReason] = mapped_column(
        enum_column(SuppressionReason, "suppression_reason")
    )
    detail: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime]

    __table_args__ = (CheckConstraint("email = lower(email)", name="email_lowercase"),)
