"""Login rate limiting: too many failed tries lock the address typed, and the client, a while.

Counted in the database, so every web worker and machine sees the same tries. An address that
has no account is locked exactly like one that has, so the lock tells nobody which addresses
exist. Successful sign-ins do not count; old tries are dropped by housekeeping.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from campaign.accounts.models import LoginAttempt

WINDOW = timedelta(minutes=15)
PER_ADDRESS = 5  # failed tries for one e-mail address within the window
PER_CLIENT = 20  # failed tries from one client (IP address) within the window


def blocked_until(db_session: Session, email: str, client: str, now: datetime) -> datetime | None:
    """Return when the lock on this address or client ends, or None if not locked."""
    since = now - WINDOW
    ends = []
    for column, value, limit in (
        (LoginAttempt.email, email, PER_ADDRESS),
        (LoginAttempt.client, client, PER_CLIENT),
    ):
        failures = list(
            db_session.scalars(
                select(LoginAttempt.at)
                .where(column == value, LoginAttempt.at > since, LoginAttempt.succeeded.is_(False))
                .order_by(LoginAttempt.at.desc())
                .limit(limit)
            )
        )
        if len(failures) >= limit:
            ends.append(failures[-1] + WINDOW)  # when the oldest counted try leaves the window
    return max(ends) if ends else None


def note(db_session: Session, email: str, client: str, now: datetime, succeeded: bool) -> None:
    db_session.add(LoginAttempt(email=email[:320], client=client[:64], at=now, succeeded=succeeded))


def forget_old(db_session: Session, now: datetime) -> int:
    """Drop tries older than a day (for housekeeping)."""
    result = db_session.execute(
        delete(LoginAttempt).where(LoginAttempt.at < now - timedelta(days=1))
    )
    return result.rowcount
