"""Practice meetings, trainings, working-group meetings and webinars, and who is invited."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.db import Base, enum_column


class EventKind(enum.Enum):
    PRACTICE_MEETING = "practice_meeting"
    TRAINING = "training"
    WORKING_GROUP = "working_group"
    WEBINAR = "webinar"


class Audience(enum.Enum):
    PILOT_GROUP = "pilot_group"
    ORGANISATION = "organisation"
    CAMPAIGN = "campaign"
    WORKING_GROUP = "working_group"


class Rsvp(enum.Enum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    TENTATIVE = "tentative"
    DECLINED = "declined"
    WAITLISTED = "waitlisted"


class EventState(enum.Enum):
    """Where a meeting stands at a moment: not a column, but what its times and
    cancellation say (`Event.state_at`)."""

    PLANNED = "planned"
    STARTED = "started"
    OVER = "over"
    CANCELLED = "cancelled"


# Those who get reminders and updates: everyone invited who has not said no.
STILL_INVITED = (Rsvp.PENDING, Rsvp.ACCEPTED, Rsvp.TENTATIVE, Rsvp.WAITLISTED)


class FanoutKind(enum.Enum):
    INVITATION = "invitation"
    UPDATE = "update"
    CANCEL = "cancel"


class FanoutState(enum.Enum):
    QUEUED = "queued"  # waiting for the `invitations` job
    RUNNING = "running"  # part of the mail is queued; a restart carries on from there
    DONE = "done"


class Event(Base):
    __tablename__ = "event"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    pilot_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("pilot_group.id", ondelete="CASCADE")
    )
    kind: Mapped[EventKind] = mapped_column(enum_column(EventKind, "event_kind"))
    audience: Mapped[Audience] = mapped_column(enum_column(Audience, "event_audience"))
    title: Mapped[str] = mapped_column(String(200))
    description_md: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    timezone: Mapped[str] = mapped_column(String(64))
    join_url: Mapped[str] = mapped_column(String(1000), default="")
    room: Mapped[str] = mapped_column(String(200), default="")
    organiser_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    capacity: Mapped[int | None]
    # Reminders before the start, e.g. "24h,1h" (hours or minutes: "30m").
    reminders: Mapped[str] = mapped_column(String(100), default="24h,1h")
    uid: Mapped[str] = mapped_column(String(200), unique=True)
    sequence: Mapped[int] = mapped_column(default=0)
    is_cancelled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    # Set from the injected clock by whatever changes the event (the reminders compare it with
    # their moments); the default only serves rows made outside the events package.
    updated_at: Mapped[datetime]

    invitations: Mapped[list[Invitation]] = relationship(back_populates="event")

    def state_at(self, now: datetime) -> EventState:
        """Return where the meeting stands at `now`."""
        if self.is_cancelled:
            return EventState.CANCELLED
        if now < self.starts_at:
            return EventState.PLANNED
        return EventState.STARTED if now < self.ends_at else EventState.OVER

    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        CheckConstraint("sequence >= 0", name="sequence_count"),
        CheckConstraint(
            "audience <> 'pilot_group' OR pilot_group_id IS NOT NULL", name="group_audience"
        ),
        CheckConstraint(
            "audience <> 'organisation' OR organisation_id IS NOT NULL", name="org_audience"
        ),
    )


class Invitation(Base):
    """One person invited to one event: a participant, or a representative for working groups."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    # Indexed: the report's attendance joins by it, and an erasure's cascade follows it.
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    rsvp: Mapped[Rsvp] = mapped_column(enum_column(Rsvp, "invitation_rsvp"), default=Rsvp.PENDING)
    has_attended: Mapped[bool] = mapped_column(default=False)
    responded_at: Mapped[datetime | None]
    # The event's SEQUENCE in the last calendar mail queued to this invitee.
    sent_sequence: Mapped[int | None]
    created_at: Mapped[datetime]

    event: Mapped[Event] = relationship(back_populates="invitations")

    __table_args__ = (
        UniqueConstraint("event_id", "participant_id"),
        UniqueConstraint("event_id", "user_id"),
        # A fan-out reads an event's invitations in id order, a batch after the last one mailed.
        Index("ix_invitation_event_id_id", "event_id", "id"),
        CheckConstraint("(participant_id IS NULL) <> (user_id IS NULL)", name="one_invitee"),
    )


class Fanout(Base):
    """The calendar mail of one event version on its way to every invitee, and how far it is.

    Which invitees are still due is the invitations' own state (`sent_sequence` behind the
    event's SEQUENCE), so a fan-out cut off by a restart carries on where it stopped; this row
    keeps the count that the event page shows.
    """

    __tablename__ = "event_fanout"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    sequence: Mapped[int]
    kind: Mapped[FanoutKind] = mapped_column(enum_column(FanoutKind, "fanout_kind"))
    state: Mapped[FanoutState] = mapped_column(
        enum_column(FanoutState, "fanout_state"), default=FanoutState.QUEUED
    )
    total: Mapped[int]
    done: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("total >= 0 AND done >= 0", name="counts"),
        CheckConstraint("state <> 'done' OR finished_at IS NOT NULL", name="done_has_time"),
    )
