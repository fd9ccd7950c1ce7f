"""A milestone: a named date of a campaign ("teams": 2027-03-01), or of one member in it.

A member's milestone stands, for that member's participants, in place of the campaign's of the
same name. A step anchored to it (`anchor: milestone:teams`) is due at its offset from the date.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from campaign.db import Base

NAME_LENGTH = 40


class Milestone(Base):
    """A named date: the campaign's (no organisation) or one member's."""

    __tablename__ = "milestone"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    # None: the whole campaign's; else the member's own, in place of the campaign's.
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))  # as steps name it: milestone:<name>
    description: Mapped[str] = mapped_column(String(200), default="")  # in people's words
    day: Mapped[date]
    updated_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("campaign_id", "organisation_id", "name"),
        # A unique constraint lets NULLs differ: one campaign-wide milestone of a name, too.
        Index(
            "uq_milestone_campaign_wide",
            "campaign_id",
            "name",
            unique=True,
            sqlite_where=text("organisation_id IS NULL"),
            postgresql_where=text("organisation_id IS NULL"),
        ),
    )
