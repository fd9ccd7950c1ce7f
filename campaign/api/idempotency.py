"""Idempotency keys on creates: the same POST sent twice with the same `Idempotency-Key` makes
one thing, and the second answer is the first one again.

A key belongs to one token and lasts a day. The same key with another request (method, path or
body) is refused: it is a client's mistake, and doing either would surprise it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Select, String, Text, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from campaign.db import Base

KEPT_FOR = timedelta(hours=24)
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
    """Return the answer kept for this token's `key` within a day, if any."""
    found = db_session.scalar(
        select(IdempotentRequest).where(
            IdempotentRequest.token_id == token_id,
            IdempotentRequest.key == key,
            IdempotentRequest.created_at > now - KEPT_FOR,
        )
    )
    if found is None:
        return Earlier(None, mismatch=False)
    return Earlier(found, mismatch=found.fingerprint != print_)


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
