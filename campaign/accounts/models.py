"""Staff accounts: the lead administrator and member representatives."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.db import Base, enum_column
from campaign.network.models import Organisation
from campaign.security import hash_password


class Role(enum.Enum):
    """What an account is; what it may do in a campaign follows from its organisation's part
    there (accounts/scope.py: standing)."""

    LEAD_ADMIN = "lead_admin"
    MEMBER_REP = "member_rep"


class User(UserMixin, Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(300))
    role: Mapped[Role] = mapped_column(enum_column(Role, "user_role"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    language: Mapped[str] = mapped_column(String(2), default="sv")
    is_enabled: Mapped[bool] = mapped_column(default=True)
    # Each session carries the generation it was signed in with (see get_id); raising it ends
    # every session signed in before: a new password, signing out, disabling the account.
    session_generation: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]

    organisation: Mapped[Organisation | None] = relationship()

    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        CheckConstraint(
            "role <> 'member_rep' OR organisation_id IS NOT NULL", name="rep_has_organisation"
        ),
        CheckConstraint("language IN ('sv', 'en')", name="language_known"),
    )

    def get_id(self) -> str:
        """Return what a session stores to find this account again: its id and generation."""
        return f"{self.id}:{self.session_generation}"

    def set_password(self, password: str) -> None:
        """Store a new password and end every session signed in with the old one."""
        self.password_hash = hash_password(password)
        self.end_sessions()

    def end_sessions(self) -> None:
        """End every session of this account; one signed in afterwards works again."""
        self.session_generation = (self.session_generation or 0) + 1  # None before the insert

    @property
    def is_active(self) -> bool:  # Flask-Login refuses sessions of disabled accounts
        return self.is_enabled


class LoginAttempt(Base):
    """One try to sign in: what the rate limit counts (per address typed and per client)."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    client: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    succeeded: Mapped[bool]
    # A lead administrator's unlock stops a failure counting against the address or the client.
    is_counted_for_email: Mapped[bool] = mapped_column(default=True)
    is_counted_for_client: Mapped[bool] = mapped_column(default=True)

    __table_args__ = (
        Index("ix_login_attempt_email_at", "email", "at"),
        Index("ix_login_attempt_client_at", "client", "at"),
    )


class IdentityLink(Base):
    """An account's identity at an OpenID provider (issuer and subject): how a single sign-on
    finds the account again, whatever its e-mail address becomes."""

    __tablename__ = "identity_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    issuer: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime]

    user: Mapped[User] = relationship()

    __table_args__ = (
        UniqueConstraint("issuer", "subject"),
        Index("ix_identity_link_user_id", "user_id"),
    )
