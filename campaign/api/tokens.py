"""Personal API tokens: made for one staff account, shown once, stored as a hash, with scopes,
an expiry, the time of their last use and revocation.

A token never reaches further than its account: the account's part in each campaign
(accounts/scope.py) decides what it sees, the token's scopes only narrow what it may do there.
A disabled account's tokens stop at once (`authenticate` refuses them).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from campaign.accounts.models import User
from campaign.audit import record
from campaign.db import Base

# What the API offers, one name per kind of resource; a scope is "read" or "write" on all of
# them, or "<resource>:read" / "<resource>:write" on one. Writing includes reading.
RESOURCES = (
    "campaigns",
    "members",
    "groups",
    "participants",
    "imports",
    "events",
    "questionnaires",
    "reports",
    "outbox",
)
ACCESS_LEVELS = ("read", "write")
ALL_SCOPES = (*ACCESS_LEVELS, *(f"{r}:{a}" for r in RESOURCES for a in ACCESS_LEVELS))
LIFETIMES = (30, 90, 365)  # the days a token made in the web UI may last
PREFIX = "cmp_"  # every token starts so: a secret scanner can recognise a leaked one
LONGEST_LIFETIME = timedelta(days=366)


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    # The first characters of the token, to tell tokens apart in lists; the rest is only hashed.
    hint: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    # The rate limit's window: when the current minute began and how many requests it has had.
    window_started_at: Mapped[datetime | None]
    window_requests: Mapped[int] = mapped_column(default=0)

    user: Mapped[User] = relationship()

    __table_args__ = (Index("ix_api_token_user_id", "user_id"),)

    def is_usable(self, now: datetime) -> bool:
        """Whether the token may be used at `now`: not revoked, not expired, its account on."""
        return self.revoked_at is None and now < self.expires_at and self.user.is_enabled

    def allows(self, resource: str, write: bool) -> bool:
        """Whether the token's scopes let it read (or write) `resource`."""
        wanted = ("write",) if write else ("read", "write")
        return any(level in self.scopes or f"{resource}:{level}" in self.scopes for level in wanted)


@dataclass(frozen=True)
class Issued:
    """A token just made: the stored row and the token itself, which is shown once."""

    token: ApiToken
    plaintext: str


class ScopeError(ValueError):
    """A scope that does not exist was asked for."""


def issue(
    db_session: Session,
    user: User,
    *,
    name: str,
    scopes: list[str],
    expires_at: datetime,
    now: datetime,
) -> Issued:
    """Make a token for `user`; the caller commits and shows the plaintext once."""
    unknown = sorted(set(scopes) - set(ALL_SCOPES))
    if unknown or not scopes:
        raise ScopeError(", ".join(unknown))
    plaintext = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        name=name.strip()[:100],
        hint=plaintext[: len(PREFIX) + 6],
        secret_hash=digest(plaintext),
        scopes=sorted(set(scopes), key=ALL_SCOPES.index),
        created_at=now,
        expires_at=min(expires_at, now + LONGEST_LIFETIME),
    )
    db_session.add(token)
    return Issued(token, plaintext)


def digest(plaintext: str) -> str:
    """Return what is stored of a token: its SHA-256 (a token is 256 random bits, so a plain
    hash cannot be reversed, and it stays valid when the app's secret key changes)."""
    return hashlib.sha256(plaintext.encode()).hexdigest()


def find(db_session: Session, plaintext: str, now: datetime) -> ApiToken | None:
    """Return the usable token `plaintext` names, or None (unknown, revoked, expired, or its
    account disabled: all alike to the caller)."""
    if not plaintext.startswith(PREFIX) or len(plaintext) > 100:
        return None
    token = db_session.scalar(select(ApiToken).where(ApiToken.secret_hash == digest(plaintext)))
    return token if token is not None and token.is_usable(now) else None


def revoke(token: ApiToken, now: datetime) -> None:
    """Stop the token for good (the caller commits and audits)."""
    if token.revoked_at is None:
        token.revoked_at = now


def tokens_of(db_session: Session, user: User) -> list[ApiToken]:
    """Return the user's tokens, the newest first."""
    query = select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
    return list(db_session.scalars(query))


def create(
    db_session: Session,
    user: User,
    *,
    actor: Any,
    name: str,
    scopes: list[str],
    days: int,
    now: datetime,
    **how: Any,
) -> Issued:
    """Make a token for `user` that lasts `days` days, and audit it as made by `actor` (with
    `how`, e.g. via the command line); the caller commits and shows the plaintext once."""
    issued = issue(
        db_session, user, name=name, scopes=scopes, expires_at=now + timedelta(days=days), now=now
    )
    db_session.flush()
    token = issued.token
    record(
        db_session, actor, "api_token.created", now=now, organisation_id=user.organisation_id,
        target=f"api_token:{token.id}", name=token.name, scopes=token.scopes,
        expires_at=token.expires_at.isoformat(), account=user.email, **how,
    )  # fmt: skip
    return issued


def withdraw(
    db_session: Session, token: ApiToken, *, actor: Any, now: datetime, **how: Any
) -> None:
    """Revoke the token and audit it as done by `actor` (the caller commits)."""
    revoke(token, now)
    record(
        db_session, actor, "api_token.revoked", now=now,
        organisation_id=token.user.organisation_id, target=f"api_token:{token.id}",
        name=token.name, account=token.user.email, **how,
    )  # fmt: skip


def withdraw_on_move(
    db_session: Session, user: User, *, actor: Any, now: datetime, how: str
) -> int:
    """Revoke the working tokens of an account moved to another organisation, each audited
    (`how` says why); return how many. Each was made for the data of the member it left: a
    token follows its account, so in the hands of the old member's systems it would read the
    new member's data. A change of role alone keeps them: they reach no further than the
    account does."""
    live = [t for t in tokens_of(db_session, user) if t.revoked_at is None and now < t.expires_at]
    for token in live:
        withdraw(db_session, token, actor=actor, now=now, how=how)
    return len(live)
