"""Idempotency keys on creates: the same POST sent twice with the same `Idempotency-Key` makes
one thing, and the second answer is the first one again.

A key belongs to one token and lasts a day. The same key with another request (method, path or
body) is refused: it is a client's mistake, and doing either would surprise it.

While its request runs, a key is held by a placeholder (status 0), and the same request sent
again meanwhile is told to wait (409). A placeholder older than ABANDONED_AFTER belongs to a
request that died (a worker killed mid-request never clears it): the same request sent again
takes the key over, so a client retrying after a timeout is served. The takeover is one
conditional DELETE, so of two retries at once only one gets the key; the other is told to wait.
A worker that died between committing the create and keeping its answer leaves the create made
and no answer: that retry makes it again (the window is the one commit between the two).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    CursorResult,
    ForeignKey,
    Select,
    String,
    Text,
    UniqueConstraint,
    delete,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from campaign.db import Base

KEPT_FOR = timedelta(hours=24)
# Longer than any request may run: gunicorn kills a worker whose request passes 30 seconds (its
# default --timeout, which the README's deployment keeps), so a placeholder this old is dead.
ABANDONED_AFTER = timedelta(minutes=2)
LONGEST_KEY = 200


class IdempotentRequest(Base):
    __tablename__ = "api_idempotent_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_token.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(LONGEST_KEY))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int]
    body: Mapped[str] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("token_id", "key"),)


@dataclass(frozen=True)
class Earlier:
    """What an earlier request with the same key found: its answer, or a mismatch."""

    answer: IdempotentRequest | None
    mismatch: bool


def fingerprint(method: str, path: str, body: bytes) -> str:
    """Return what tells one request from another under the same key."""
    return hashlib.sha256(b"\0".join((method.encode(), path.encode(), body))).hexdigest()


def earlier(db_session: Session, token_id: int, key: str, print_: str, now: datetime) -> Earlier:
    """Return the answer kept for this token's `key` within a day, if any; an abandoned
    placeholder of the same request is dropped (the caller reserves the key anew and commits)."""
    found = db_session.scalar(
        select(IdempotentRequest).where(
            IdempotentRequest.token_id == token_id,
            IdempotentRequest.key == key,
            IdempotentRequest.created_at > now - KEPT_FOR,
        )
    )
    if found is None:
        return Earlier(None, mismatch=False)
    if found.fingerprint != print_:
        return Earlier(found, mismatch=True)
    if _took_over(db_session, found, now):
        return Earlier(None, mismatch=False)
    return Earlier(found, mismatch=False)


def _took_over(db_session: Session, found: IdempotentRequest, now: datetime) -> bool:
    """Drop `found` if it is a placeholder abandoned at `now`; return whether this call did
    (a concurrent retry that dropped it first, or a fresh placeholder, makes it False)."""
    if found.status != 0 or found.created_at > now - ABANDONED_AFTER:
        return False
    result = db_session.execute(
        delete(IdempotentRequest)
        .where(
            IdempotentRequest.id == found.id,
            IdempotentRequest.status == 0,
            IdempotentRequest.created_at <= now - ABANDONED_AFTER,
        )
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], result).rowcount != 1:
        return False
    db_session.expunge(found)
    return True


def keep(
    db_session: Session,
    token_id: int,
    key: str,
    print_: str,
    answer: tuple[int, str, str | None],
    now: datetime,
) -> None:
    """Keep a create's answer (status, body, Location) under its key; forget keys of this
    token older than a day. The caller commits."""
    db_session.execute(
        delete(IdempotentRequest).where(
            IdempotentRequest.token_id == token_id,
            IdempotentRequest.created_at <= now - KEPT_FOR,
        )
    )
    status, body, location = answer
    db_session.add(
        IdempotentRequest(
            token_id=token_id, key=key, fingerprint=print_, status=status, body=body,
            location=location, created_at=now,
        )
    )  # fmt: skip


def pending(token_id: int, key: str) -> Select[IdempotentRequest]:
    """The query of the row that holds this token's key."""
    return select(IdempotentRequest).where(
        IdempotentRequest.token_id == token_id, IdempotentRequest.key == key
    )
