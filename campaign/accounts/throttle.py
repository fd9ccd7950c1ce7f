"""Login rate limiting: too many failed tries lock the address typed, and the client, a while.

Counted in the database, so every web worker and machine sees the same tries. An address that
has no account is locked exactly like one that has, so the lock tells nobody which addresses
exist. Successful sign-ins do not count; old tries are dropped by housekeeping. A lead
administrator can lift a lock (say, on a colleague's address) before it ends: the failures
behind it then stop counting against that address or client, and stay recorded.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.orm import Session

from campaign.accounts.models import LoginAttempt

WINDOW = timedelta(minutes=15)
PER_ADDRESS = 5  # failed tries for one e-mail address within the window
PER_CLIENT = 20  # failed tries from one client (IP address) within the window


class LockKind(enum.Enum):
    """What too many failed tries lock."""

    ADDRESS = "address"  # the e-mail address typed
    CLIENT = "client"  # the IP address the tries came from


# Per kind: the column that names what is locked, the flag an unlock clears, the limit.
_RULES: dict[LockKind, tuple[Any, Any, int]] = {
    LockKind.ADDRESS: (LoginAttempt.email, LoginAttempt.is_counted_for_email, PER_ADDRESS),
    LockKind.CLIENT: (LoginAttempt.client, LoginAttempt.is_counted_for_client, PER_CLIENT),
}


@dataclass(frozen=True)
class Lock:
    """An address or client locked until a moment."""

    kind: LockKind
    value: str  # the address or the client
    until: datetime


def _counted_failures(kind: LockKind, now: datetime) -> Any:
    """The conditions of a failed try in the window that still counts towards a lock of `kind`."""
    _, counted, _ = _RULES[kind]
    return (
        LoginAttempt.at > now - WINDOW,
        LoginAttempt.succeeded.is_(False),
        counted.is_(True),
    )


def lock_end(db_session: Session, kind: LockKind, value: str, now: datetime) -> datetime | None:
    """Return when the lock on this address or client ends, or None if it is not locked."""
    _, _, limit = _RULES[kind]
    failures = _latest_failures(db_session, kind, value, now)
    if len(failures) < limit:
        return None
    return failures[-1] + WINDOW  # when the oldest counted try leaves the window


def _latest_failures(db_session: Session, kind: LockKind, value: str, now: datetime) -> list[Any]:
    """Return the times of the latest counted failures of an address or client, as many as
    make a lock, the latest first."""
    column, _, limit = _RULES[kind]
    query = (
        select(LoginAttempt.at)
        .where(column == value, *_counted_failures(kind, now))
        .order_by(LoginAttempt.at.desc())
        .limit(limit)
    )
    return list(db_session.scalars(query))


def blocked_until(db_session: Session, email: str, client: str, now: datetime) -> datetime | None:
    """Return when the lock on this address or client ends, or None if not locked."""
    ends = [
        end
        for kind, value in ((LockKind.ADDRESS, email), (LockKind.CLIENT, client))
        if (end := lock_end(db_session, kind, value, now)) is not None
    ]
    return max(ends) if ends else None


def locks(db_session: Session, now: datetime) -> list[Lock]:
    """Return every address and client locked at `now`, addresses first, the latest end first."""
    found = []
    for kind in _RULES:
        kind_locks = [
            Lock(kind, value, until)
            for value in _candidates(db_session, kind, now)
            if (until := lock_end(db_session, kind, value, now)) is not None
        ]
        found += sorted(kind_locks, key=lambda lock: (lock.until, lock.value), reverse=True)
    return found


def _candidates(db_session: Session, kind: LockKind, now: datetime) -> list[str]:
    """Return the addresses or clients with enough counted failures in the window for a lock."""
    column, _, limit = _RULES[kind]
    query = (
        select(column)
        .where(*_counted_failures(kind, now))
        .group_by(column)
        .having(func.count() >= limit)
    )
    return list(db_session.scalars(query))


def unlock(db_session: Session, kind: LockKind, value: str, now: datetime) -> int:
    """Lift the lock on an address or client: its failures so far stop counting against it
    (an address's failures still count for the client they came from, and the other way
    round). Return how many failures stopped counting."""
    column, counted, _ = _RULES[kind]
    result = db_session.execute(  # an UPDATE's result is a cursor's: it has a row count
        update(LoginAttempt)
        .where(column == value, *_counted_failures(kind, now))
        .values({counted: False})
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], result).rowcount


def note(db_session: Session, email: str, client: str, now: datetime, succeeded: bool) -> None:
    """Record a try to sign in."""
    db_session.add(LoginAttempt(email=email[:320], client=client[:64], at=now, succeeded=succeeded))


def forget_old(db_session: Session, now: datetime) -> int:
    """Drop tries older than a day (for housekeeping)."""
    result = db_session.execute(
        delete(LoginAttempt).where(LoginAttempt.at < now - timedelta(days=1))
    )
    return cast(CursorResult[Any], result).rowcount
