"""The jobs' leases: which process runs a job now, and until when.

An exclusive job (campaign/jobs.py) runs under a lease in the database, so that it runs in one
process at a time across machines; a process that dies leaves a lease that runs out.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, String, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from campaign.db import Base


class JobLease(Base):
    """Which process runs a job now, until when, and how its last run went."""

    __tablename__ = "job_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    lease_until: Mapped[datetime]
    last_run_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(1000))


HOLDER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
SHARED = "(shared)"  # the holder named in the rows of jobs that take no lease


def acquire_lease(
    db_session: Session, name: str, now: datetime, ttl: timedelta, holder: str = HOLDER
) -> bool:
    """Take or renew the lease of job `name` for `holder` at `now` (on the app's clock, not a
    job's moment); False if another holds it."""
    until = now + ttl
    if _renewed(db_session, name, now, until, holder):
        return True
    if db_session.get(JobLease, name) is not None:
        return False
    return created(db_session, name, until, holder)


def _renewed(db_session: Session, name: str, now: datetime, until: datetime, holder: str) -> bool:
    """Lease the job's row to `holder` until `until` if it holds it or the lease has run out."""
    result = db_session.execute(
        update(JobLease)
        .where(JobLease.name == name)
        .where(or_(JobLease.holder == holder, JobLease.lease_until < now))
        .values(holder=holder, lease_until=until)
    )
    return cast(CursorResult[Any], result).rowcount == 1


def created(db_session: Session, name: str, until: datetime, holder: str) -> bool:
    """Create the job's row leased to `holder`; False if another process created it first."""
    try:
        with db_session.begin_nested():
            db_session.add(JobLease(name=name, holder=holder, lease_until=until))
    except IntegrityError:
        return False
    return True
