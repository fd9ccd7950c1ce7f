"""Claims: which messages are due at `now`, and leasing a batch of them to one dispatcher.

One UPDATE marks a batch `sending` with a lease and a claim token (on PostgreSQL the batch is
chosen with FOR UPDATE SKIP LOCKED, so several workers share one outbox). A crashed worker's
lease expires and its messages are claimed again.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, not_, or_, select, update
from sqlalchemy.orm import Session

from campaign.outbox.models import Message, MessageState
from campaign.outbox.policy import Policy

CLAIMED_COLUMNS = (
    Message.id,
    Message.recipient,
    Message.subject,
    Message.text_body,
    Message.html_body,
    Message.headers,
    Message.calendar,
    Message.message_id,
    Message.attempts,
    Message.campaign_id,
    Message.participant_id,
    Message.claim_token,
)


def _waiting(now: datetime) -> ColumnElement[bool]:
    """Queued, or waiting for its next attempt, and due at `now`."""
    return and_(
        Message.state.in_((MessageState.QUEUED, MessageState.RETRY)),
        Message.due_at <= now,
        or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now),
    )


def _abandoned(leased_at: datetime) -> ColumnElement[bool]:
    """Being sent by a dispatcher whose lease had run out by `leased_at`."""
    return and_(Message.state == MessageState.SENDING, Message.lease_until < leased_at)


def claim(
    db_session: Session,
    now: datetime,
    limit: int,
    lease: timedelta,
    policy: Policy,
    leased_at: datetime | None = None,
) -> list[Row[Any]]:
    """Lease up to `limit` messages due at `now` (none the policy holds) to this caller from
    `leased_at` (default `now`) and commit; return them, oldest first.

    Abandoned messages are taken first, then waiting ones, each by a query of its own: as one
    query with OR, PostgreSQL read and sorted every due row instead of the first few of the
    due-mail index (0.4 ms against 700 ms with 28,000 due among 15 million). The dispatcher
    works on plain rows and records outcomes with plain UPDATEs: per message, that is a third
    of the cost of the ORM's unit of work.
    """
    token, start = uuid.uuid4().hex, leased_at or now
    held = _held(db_session, now, policy)
    taken = 0
    for condition in (_abandoned(start), _waiting(now)):
        if taken < limit:
            taken += _take(db_session, condition, limit - taken, held, start + lease, token)
    db_session.commit()
    return _claimed(db_session, token) if taken else []


def _take(
    db_session: Session,
    condition: ColumnElement[bool],
    limit: int,
    held: ColumnElement[bool],
    lease_until: datetime,
    token: str,
) -> int:
    """Lease up to `limit` of the oldest messages that meet `condition`; return how many."""
    # A materialised CTE picks the rows once: as a plain IN (subquery) PostgreSQL may rescan
    # it, and each rescan with SKIP LOCKED picks other rows, so more than `limit` were leased.
    picked = _candidates(condition, limit, held).cte("picked").prefix_with("MATERIALIZED")
    taken = db_session.scalars(
        update(Message)
        .where(Message.id.in_(select(picked.c.id)))
        .where(condition)  # re-checked on the locked row: two claimers never share a message
        .values(state=MessageState.SENDING, lease_until=lease_until, claim_token=token)
        .returning(Message.id)  # SQLite gives no row count for an UPDATE that starts WITH
        .execution_options(synchronize_session=False)
    )
    return len(taken.all())


def renew(db_session: Session, token: str, lease_until: datetime) -> set[int]:
    """Extend the lease of the messages claimed with `token` and still being sent, and commit;
    return their ids. A message whose lease ran out and that another dispatcher has claimed
    since is no longer among them: it is that one's to send."""
    renewed = db_session.scalars(
        update(Message)
        .where(Message.claim_token == token, Message.state == MessageState.SENDING)
        .values(lease_until=lease_until)
        .returning(Message.id)
        .execution_options(synchronize_session=False)
    )
    ours = set(renewed)
    db_session.commit()
    return ours


def _claimed(db_session: Session, token: str) -> list[Row[Any]]:
    """Return the messages leased with `token`, oldest first."""
    query = (
        select(*CLAIMED_COLUMNS)
        .where(Message.claim_token == token)
        .order_by(Message.due_at, Message.id)
    )
    return list(db_session.execute(query))


def _held(db_session: Session, now: datetime, policy: Policy) -> ColumnElement[bool]:
    """The condition of the participants' messages the policy holds at `now`."""
    return or_(Message.participant_id.in_(policy.held()), policy.waiting(db_session, now))


def _candidates(due: ColumnElement[bool], limit: int, held: ColumnElement[bool]) -> Select[int]:
    """The ids of the oldest due messages not held, locked for this claimer."""
    not_held = or_(Message.participant_id.is_(None), not_(held))
    return (
        select(Message.id)
        .where(due, not_held)
        .order_by(Message.due_at, Message.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite serialises writers anyway
    )
