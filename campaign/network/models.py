"""The campaign (överenskommelse), its organisations and their memberships."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.db import Base, enum_column


class OrganisationKind(enum.Enum):
    MUNICIPALITY = "municipality"
    UNIVERSITY = "university"
    HOSPITAL = "hospital"
    OTHER = "other"


class MembershipStatus(enum.Enum):
    SIGNED = "signed"
    INFORMAL = "informal"


class Organisation(Base):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[OrganisationKind] = mapped_column(
        enum_column(OrganisationKind, "organisation_kind")
    )
    # Signed into the address of the member's calendar feed; a new key makes old addresses stop
    # working. None until first replaced: addresses made before keys existed still work.
    calendar_key: Mapped[str | None] = mapped_column(String(64))
    # Where its people's work addresses are, space-separated ("kungalv.se skola.kungalv.se"):
    # self-enrolment warns when an address is at none of them (campaign/enrolment/domains.py).
    email_domains: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime]

    memberships: Mapped[list[Membership]] = relationship(back_populates="organisation")

    __table_args__ = (CheckConstraint("slug = lower(slug)", name="slug_lowercase"),)


class Campaign(Base):
    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    lead_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Stockholm")
    language: Mapped[str] = mapped_column(String(2), default="sv")
    # Protects the organisation's mail server; None sends as fast as the server accepts.
    rate_limit_per_minute: Mapped[int | None] = mapped_column(default=600)
    # Factors that turn the travel avoided into CO2 and money in the report; see
    # campaign/report/figures.py for the defaults' sources.
    co2_kg_per_km: Mapped[float] = mapped_column(default=0.133)
    cost_per_km: Mapped[float] = mapped_column(default=2.50)
    cost_per_hour: Mapped[float | None]
    # Meeting invitations (and their reminders) may go to participants before the start;
    # any other participant mail waits for it (campaign/network/phases.py).
    has_early_invitations: Mapped[bool] = mapped_column(default=False)
    # Set when the lead administrator archives the ended campaign: from then on it is read-only.
    archived_at: Mapped[datetime | None]
    # Personal data is kept this many months after the end, then purged (campaign/retention/).
    retention_months: Mapped[int] = mapped_column(default=12)
    retention_warned_at: Mapped[datetime | None]  # when the lead administrators were warned
    purged_at: Mapped[datetime | None]  # when its personal data was purged, for good
    # The phase (network/phases.py) its webhook receivers were last told of; None: the one it
    # was created in. Written only by campaign/webhooks/phases.py, as the gate of the event.
    told_phase: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime]

    lead_organisation: Mapped[Organisation] = relationship()
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="period_ordered"),
        CheckConstraint("language IN ('sv', 'en')", name="language_known"),
        CheckConstraint(
            "rate_limit_per_minute IS NULL OR rate_limit_per_minute > 0", name="rate_positive"
        ),
        CheckConstraint(
            "co2_kg_per_km >= 0 AND cost_per_km >= 0"
            " AND (cost_per_hour IS NULL OR cost_per_hour >= 0)",
            name="factors_positive",
        ),
        CheckConstraint("retention_months BETWEEN 0 AND 120", name="retention_months_range"),
    )


class Membership(Base):
    """An organisation's part in a campaign, with the facts it reports about itself."""

    __tablename__ = "membership"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    status: Mapped[MembershipStatus] = mapped_column(
        enum_column(MembershipStatus, "membership_status"), default=MembershipStatus.SIGNED
    )
    meeting_software: Mapped[str] = mapped_column(String(200), default="")
    software_comment: Mapped[str] = mapped_column(String(300), default="")
    enrolment_target: Mapped[int | None]
    people_reached: Mapped[int | None]
    people_with_access: Mapped[int | None]
    starting_point_md: Mapped[str] = mapped_column(Text, default="")
    work_done_md: Mapped[str] = mapped_column(Text, default="")
    tips_md: Mapped[str] = mapped_column(Text, default="")
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_title: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(320), default="")
    # The member's own guide to its meeting software (intranet page), linked from the mail.
    guide_url: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    campaign: Mapped[Campaign] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation] = relationship(back_populates="memberships")
    sender: Mapped[MemberSender | None] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        UniqueConstraint("campaign_id", "organisation_id"),
        CheckConstraint("enrolment_target IS NULL OR enrolment_target >= 0", name="target_count"),
        CheckConstraint("people_reached IS NULL OR people_reached >= 0", name="reached_count"),
        CheckConstraint(
            "people_with_access IS NULL OR people_with_access >= 0", name="access_count"
        ),
    )


class MemberSender(Base):
    """How a member's participants see who their mail comes from (campaign/network/senders.py):
    a From name on the campaign's own address, a Reply-To at the member, a logo in the HTML."""

    __tablename__ = "member_sender"

    membership_id: Mapped[int] = mapped_column(
        ForeignKey("membership.id", ondelete="CASCADE"), primary_key=True
    )
    display_name: Mapped[str] = mapped_column(String(100), default="")
    reply_to: Mapped[str] = mapped_column(String(320), default="")
    logo: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    logo_type: Mapped[str | None] = mapped_column(String(20))  # image/png or image/jpeg
    logo_digest: Mapped[str | None] = mapped_column(String(64))  # in its address: a new one
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint(
            "logo_type IS NULL OR logo_type IN ('image/png', 'image/jpeg')", name="logo_type_known"
        ),
    )
