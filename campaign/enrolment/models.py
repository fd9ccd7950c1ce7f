"""Pilot groups (provgrupper), their participants and each participant's consent."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.db import Base, enum_column
from campaign.network.models import Organisation


class PilotGroupKind(enum.Enum):
    PROJECT_GROUP = "project_group"
    SELECTED_MANAGERS = "selected_managers"
    VOLUNTEERS = "volunteers"


class ParticipantStatus(enum.Enum):
    INVITED = "invited"
    ACTIVE = "active"
    PAUSED = "paused"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"  # the mail server said the address does not exist (or kept failing)
    COMPLETED = "completed"
    ERASED = "erased"  # personal data removed on request; the row keeps the counts right


class ConsentMethod(enum.Enum):
    IMPORT = "import"
    STAFF_FORM = "staff_form"
    SELF_ENROLMENT = "self_enrolment"


class PilotGroup(Base):
    __tablename__ = "pilot_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column()
    organisation_id: Mapped[int] = mapped_column()
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[PilotGroupKind] = mapped_column(enum_column(PilotGroupKind, "pilot_group_kind"))
    starts_on: Mapped[date]
    sequence_name: Mapped[str | None] = mapped_column(String(100))
    # Set while the self-enrolment link is open; a new key makes every older link invalid.
    enrolment_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]

    organisation: Mapped[Organisation] = relationship()
    participants: Mapped[list[Participant]] = relationship(
        back_populates="pilot_group", foreign_keys="Participant.pilot_group_id"
    )

    __table_args__ = (
        # A pilot group belongs to a member of its campaign.
        ForeignKeyConstraint(
            ["campaign_id", "organisation_id"],
            ["membership.campaign_id", "membership.organisation_id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        UniqueConstraint("campaign_id", "organisation_id", "name"),
        UniqueConstraint("id", "organisation_id"),
    )


class Participant(Base):
    __tablename__ = "participant"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column()
    organisation_id: Mapped[int] = mapped_column()
    pilot_group_id: Mapped[int | None] = mapped_column()
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    title: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(2), default="sv")
    status: Mapped[ParticipantStatus] = mapped_column(
        enum_column(ParticipantStatus, "participant_status"), default=ParticipantStatus.INVITED
    )
    starts_on: Mapped[date | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # When the next sequence step may come due for them, as the drip engine last worked it out;
    # None means "look again" (new, or something changed that can move a step earlier).
    next_step_at: Mapped[datetime | None] = mapped_column(index=True)
    # The local day a pause ends (the mail resumes that morning; see campaign/drip/pauses.py);
    # None for a pause until further notice, and for anyone not paused.
    paused_until: Mapped[date | None] = mapped_column(index=True)
    # When the participant last came back from a pause: steps that came due before it are
    # caught up with one mail, not a burst.
    resumed_at: Mapped[datetime | None]
    # Set by the retention purge, which takes the address away: when it went on the suppression
    # list, so that the report still counts the participant as suppressed from then on.
    suppressed_at: Mapped[datetime | None]

    organisation: Mapped[Organisation] = relationship(foreign_keys=[organisation_id])
    pilot_group: Mapped[PilotGroup | None] = relationship(
        back_populates="participants", foreign_keys=[pilot_group_id]
    )
    consents: Mapped[list[Consent]] = relationship(back_populates="participant")

    __table_args__ = (
        ForeignKeyConstraint(
            ["campaign_id", "organisation_id"],
            ["membership.campaign_id", "membership.organisation_id"],
            ondelete="CASCADE",
        ),
        # The pilot group, when set, is one of the participant's own organisation.
        ForeignKeyConstraint(
            ["pilot_group_id", "organisation_id"],
            ["pilot_group.id", "pilot_group.organisation_id"],
        ),
        ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        UniqueConstraint("campaign_id", "email"),
        # A fan-out reads a campaign's people in id order, a batch after the last one queued.
        Index("ix_participant_campaign_id_id", "campaign_id", "id"),
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        CheckConstraint("language IN ('sv', 'en')", name="language_known"),
        # Every claim of the dispatcher asks for the paused participants (their mail waits):
        # without it, a scan of a million participants each batch.
        Index("ix_participant_status", "status"),
    )


class Consent(Base):
    """When, how and to which text a participant agreed to take part."""

    __tablename__ = "consent"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed: an erasure's cascade and a participant's page find their consents by it.
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    method: Mapped[ConsentMethod] = mapped_column(enum_column(ConsentMethod, "consent_method"))
    given_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    withdrawn_at: Mapped[datetime | None]

    participant: Mapped[Participant] = relationship(back_populates="consents")


class ImportState(enum.Enum):
    READING = "reading"  # the file is being read and checked
    READY = "ready"  # the preview is ready; nothing is written until confirmed
    APPLIED = "applied"
    DISCARDED = "discarded"
    FAILED = "failed"  # the file could not be read at all


class RowOutcome(enum.Enum):
    ADD = "add"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    REJECT = "reject"


class ParticipantImport(Base):
    """A spreadsheet of participants, read and checked, waiting for the representative's yes."""

    __tablename__ = "participant_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column()
    organisation_id: Mapped[int] = mapped_column()
    pilot_group_id: Mapped[int] = mapped_column()
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(300))
    # The uploaded file, kept only until the import is applied or discarded.
    content: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    state: Mapped[ImportState] = mapped_column(
        enum_column(ImportState, "import_state"), default=ImportState.READING
    )
    rows_total: Mapped[int] = mapped_column(default=0)
    rows_read: Mapped[int] = mapped_column(default=0)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]

    organisation: Mapped[Organisation] = relationship()
    pilot_group: Mapped[PilotGroup] = relationship(foreign_keys=[pilot_group_id])

    __table_args__ = (
        ForeignKeyConstraint(
            ["campaign_id", "organisation_id"],
            ["membership.campaign_id", "membership.organisation_id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["pilot_group_id", "organisation_id"],
            ["pilot_group.id", "pilot_group.organisation_id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
    )


class ImportRow(Base):
    """One row of an import file and what confirming the import will do with it."""

    __tablename__ = "import_row"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("participant_import.id", ondelete="CASCADE"))
    row_number: Mapped[int]
    outcome: Mapped[RowOutcome] = mapped_column(enum_column(RowOutcome, "row_outcome"))
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    title: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(2), default="sv")
    reason: Mapped[str] = mapped_column(String(40), default="")
    detail: Mapped[str] = mapped_column(String(300), default="")
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE")
    )

    __table_args__ = (Index("ix_import_row_import_outcome", "import_id", "outcome", "row_number"),)


class JoinRequest(Base):
    """A self-enrolment form sent and not yet confirmed: what the person typed, where from.

    The confirmation link names only this row (its id and secret), so no personal data travels
    in a link. Confirming consumes it: the personal fields are emptied and `confirmed_at` set,
    so that a second use finds it confirmed. Housekeeping deletes every row past `expires_at`,
    and empties its confirmation mail; so does the erasure of the address.
    """

    __tablename__ = "join_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    # None once the group is deleted: the request then confirms nothing and waits to be purged
    # (with its mail), like every other.
    pilot_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("pilot_group.id", ondelete="SET NULL")
    )
    # The group's link key when the form was sent: closing or replacing the link stops it.
    group_key: Mapped[str] = mapped_column(String(64))
    # Random, in the link beside the id: an id used again after a purge confirms nothing.
    secret: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    title: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(2), default="sv")
    shown_language: Mapped[str] = mapped_column(String(2))  # of the consent text shown
    client: Mapped[str] = mapped_column(String(64))  # the IP address the form came from
    requested_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    confirmed_at: Mapped[datetime | None]
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE")
    )
    # The confirmation mail, emptied when this row goes.
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"))

    __table_args__ = (Index("ix_join_request_campaign_email", "campaign_id", "email"),)


class ErasedAddress(Base):
    """A tombstone: an address whose owner was erased, as a keyed hash, never the address.

    It stops every link made before `erased_at` from enrolling the address again, and staff
    (an import, the one-person form) from enrolling it at all; only the person themself can
    join again, with a self-enrolment request made after the erasure.
    """

    __tablename__ = "erased_address"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    address_hash: Mapped[str] = mapped_column(String(64))  # HMAC-SHA256 with the secret key
    erased_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("campaign_id", "address_hash"),)
