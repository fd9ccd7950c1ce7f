"""What the dispatcher writes down: each message's outcome, retries with their back-off, and
messages handed back unsent. One prepared UPDATE serves every outcome."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, update
from sqlalchemy.orm import Session

from campaign.outbox.models import Message, MessageState, SuppressionReason
from campaign.outbox.policy import Policy
from campaign.outbox.queue import suppress
from campaign.outbox.transports import PermanentFailure, RecipientRefused, TemporaryFailure

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=2)


@dataclass
class Report:
    """What one run of the dispatcher did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    suppressed: int = 0
    deferred: int = 0
    connect_error: str | None = None
    answers: Counter[str] = field(default_factory=Counter)


def retry_delay(attempts: int) -> timedelta:
    """Return the wait before attempt `attempts + 1`: 1, 2, 4 … minutes, at most two hours."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


TABLE = cast(Table, Message.__table__)

# One statement for every outcome, built once: per message this costs half as much as a
# statement built for the occasion.
RECORD = (
    update(TABLE)
    .where(TABLE.c.id == bindparam("row_id"))
    .values(
        state=bindparam("new_state"),
        attempts=bindparam("new_attempts"),
        last_answer=bindparam("answer"),
        sent_at=bindparam("sent"),
        next_attempt_at=bindparam("next_at"),
        lease_until=None,
    )
)


def record(
    db_session: Session,
    message: Row[Any],
    state: MessageState,
    answer: str,
    *,
    attempts: int | None = None,
    sent_at: datetime | None = None,
    next_attempt_at: datetime | None = None,
) -> None:
    """Write a claimed message's new state and the server's answer; the lease ends."""
    db_session.connection().execute(
        RECORD,
        {
            "row_id": message.id,
            "new_state": state,
            "new_attempts": message.attempts if attempts is None else attempts,
            "answer": answer,
            "sent": sent_at,
            "next_at": next_attempt_at,
        },
    )


def settle(
    db_session: Session,
    message: Row[Any],
    error: BaseException,
    now: datetime,
    report: Report,
    policy: Policy,
) -> None:
    """Record the server's refusal of one message (a refused participant's address is the
    policy's to note); an error that is no refusal is raised again."""
    if isinstance(error, RecipientRefused):
        fail(db_session, message, error.answer, report)
        suppress(db_session, message.recipient, SuppressionReason.HARD_BOUNCE, error.answer, now)
        if message.participant_id is not None:
            policy.refused(db_session, message.participant_id, error.answer, now)
        policy.failed(db_session, message.id, now)
    elif isinstance(error, PermanentFailure):
        fail(db_session, message, error.answer, report)
        policy.failed(db_session, message.id, now)
    elif isinstance(error, TemporaryFailure):
        if retry(db_session, message, error.answer, now, report):
            policy.failed(db_session, message.id, now)
    else:
        raise error


def record_sent(
    db_session: Session, sent: list[tuple[Row[Any], str | None]], now: datetime, report: Report
) -> None:
    """Record that the server took these messages (each with its answer), in one statement."""
    if not sent:
        return
    db_session.connection().execute(
        RECORD,
        [
            {
                "row_id": message.id,
                "new_state": MessageState.SENT,
                "new_attempts": message.attempts + 1,
                "answer": answer,
                "sent": now,
                "next_at": None,
            }
            for message, answer in sent
        ],
    )
    report.sent += len(sent)


def retry(
    db_session: Session, message: Row[Any], answer: str, now: datetime, report: Report
) -> bool:
    """Count a failed attempt: try again after the back-off, or give up after the last one
    (True)."""
    attempts = message.attempts + 1
    report.answers[answer] += 1
    if attempts >= MAX_ATTEMPTS:
        record(db_session, message, MessageState.FAILED, answer, attempts=attempts)
        report.failed += 1
        return True
    later = now + retry_delay(attempts)
    state = MessageState.RETRY
    record(db_session, message, state, answer, attempts=attempts, next_attempt_at=later)
    report.retried += 1
    return False


def fail(db_session: Session, message: Row[Any], answer: str, report: Report) -> None:
    """Give a message up for good with the server's answer."""
    record(db_session, message, MessageState.FAILED, answer, attempts=message.attempts + 1)
    report.failed += 1
    report.answers[answer] += 1


def release(
    db_session: Session,
    messages: list[Row[Any]],
    answer: str,
    next_attempt_at: datetime | None = None,
) -> None:
    """Hand claimed messages back unchanged but for the answer: no attempt is counted."""
    for message in messages:
        state = MessageState.RETRY if message.attempts else MessageState.QUEUED
        record(db_session, message, state, answer, next_attempt_at=next_attempt_at)
    db_session.commit()


def cancel(db_session: Session, messages: list[Row[Any]], answer: str, report: Report) -> None:
    """Cancel claimed messages that must not go, with the reason, and commit."""
    if not messages:
        return
    for message in messages:
        record(db_session, message, MessageState.CANCELLED, answer)
        report.suppressed += 1
    db_session.commit()
