"""A campaign's own copy of a sequence, kept as versions of the shipped Markdown files."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from campaign.db import Base


class SequenceVersion(Base):
    """One saved state of a campaign's sequence: every step file's text, keyed
    `sv/01-welcome.md`. The newest is what the campaign sends; none means the shipped files."""

    __tablename__ = "sequence_version"
    __table_args__ = (UniqueConstraint("campaign_id", "sequence", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    sequence: Mapped[str] = mapped_column(String(64))
    number: Mapped[int]
    files: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # None for the shipped copy that the first save keeps as version 1.
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]
    note: Mapped[str] = mapped_column(String(100))  # "shipped", "edit", "revert:3", "import"
