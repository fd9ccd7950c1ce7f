"""Putting mail in the outbox, and the state changes staff make to it.

A message is identified by its natural `source_key` (e.g. `p:12:seq:welcome/02`): queueing the
same key twice, from one process or several, leaves one row. Its Message-ID is given here, once,
and never changes, so a resent message is recognisably the same message.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Required, TypedDict, Unpack, cast

from sqlalchemy import CursorResult, Select, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from campaign.outbox.compose import Rendered, new_message_id
from campaign.outbox.models import (
    Disclosure,
    Message,
    MessageKind,
    MessageState,
    Suppression,
    SuppressionReason,
)

OPEN_STATES = (MessageState.QUEUED, MessageState.RETRY)
# Like Postfix's maximal_queue_lifetime: mail still undelivered after this is given up.
MAX_QUEUE_AGE = timedelta(days=5)
GIVEN_UP = "not delivered within 5 days; given up"  # the last answer of an expired message


class Outgoing(TypedDict, total=False):
    """One message as it is queued: the first six keys are needed, the rest may be left out."""

    source_key: Required[str]
    recipient: Required[str]
    kind: Required[MessageKind]
    rendered: Required[Rendered]
    due_at: Required[datetime]
    sender: Required[str]
    headers: dict[str, str] | None
    campaign_id: int | None
    organisation_id: int | None
    participant_id: int | None
    user_id: int | None
    skipped: str | None  # the reason: the row only records that the mail was decided against
    calendar: str | None


def enqueue(db_session: Session, *, now: datetime, **message: Unpack[Outgoing]) -> int | None:
    """Queue a message unless one with this source key exists; return the new row's id."""
    statement = _insert(db_session).values(**_row(message, now)).returning(Message.id)
    return db_session.execute(statement).scalar()


def enqueue_many(db_session: Session, messages: Iterable[Outgoing], now: datetime) -> None:
    """Queue many messages in one statement; a source key that exists already is left as it
    is, like enqueue does.

    For fan-outs to thousands of people: one executemany instead of a round trip each.
    """
    rows = [_row(message, now) for message in messages]
    if rows:  # into the table itself: SQLAlchemy Core's executemany, not the ORM's bulk insert
        db_session.execute(_insert(db_session, Message.__table__), rows)


def _row(message: Outgoing, now: datetime) -> dict[str, Any]:
    """Return the outbox row of one message; its Message-ID is given here, once."""
    rendered, skipped = message["rendered"], message.get("skipped")
    return {
        "source_key": message["source_key"],
        "recipient": message["recipient"].strip().lower(),
        "kind": message["kind"],
        "subject": rendered.subject,
        "text_body": rendered.text,
        "html_body": rendered.html,
        "headers": message.get("headers") or {},
        "calendar": message.get("calendar"),
        "message_id": new_message_id(message["sender"]),
        "due_at": message["due_at"],
        "state": MessageState.CANCELLED if skipped else MessageState.QUEUED,
        "last_answer": skipped,
        "attempts": 0,
        "campaign_id": message.get("campaign_id"),
        "organisation_id": message.get("organisation_id"),
        "participant_id": message.get("participant_id"),
        "user_id": message.get("user_id"),
        "created_at": now,
    }


def _insert(db_session: Session, into: Any = Message) -> Any:
    """An INSERT into the outbox that skips a source key already there, on either database."""
    dialect = postgresql if db_session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(into).on_conflict_do_nothing(index_elements=["source_key"])


def cancel(message: Message, answer: str) -> bool:
    """Stop a message that is not sent yet; False when it is too late."""
    if message.state not in OPEN_STATES:
        return False
    message.state = MessageState.CANCELLED
    message.last_answer = answer
    return True


def requeue(message: Message, now: datetime) -> bool:
    """Send a failed or cancelled message again, now, with the same Message-ID."""
    if message.state not in (MessageState.FAILED, MessageState.CANCELLED):
        return False
    message.state = MessageState.QUEUED
    message.due_at = now
    message.next_attempt_at = None
    message.attempts = 0
    return True


def cancel_for_participant(db_session: Session, participant_id: int, answer: str) -> int:
    """Cancel every unsent message of a participant; return how many."""
    result = db_session.execute(
        update(Message)
        .where(Message.participant_id == participant_id, Message.state.in_(OPEN_STATES))
        .values(state=MessageState.CANCELLED, last_answer=answer)
    )
    return cast(CursorResult[Any], result).rowcount  # an UPDATE: a cursor result


def suppress(
    db_session: Session, email: str, reason: SuppressionReason, detail: str, now: datetime
) -> None:
    """Add an address to the suppression list (once; the first reason is kept)."""
    email = email.strip().lower()
    dialect = postgresql if db_session.get_bind().dialect.name == "postgresql" else sqlite
    db_session.execute(
        dialect.insert(Suppression)
        .values(email=email, reason=reason, detail=detail[:1000], created_at=now)
        .on_conflict_do_nothing(index_elements=["email"])
    )


def release_held(db_session: Session, participant_id: int, at: datetime) -> int:
    """Make a resumed participant's held mail due `at` (if it was due before): its five days
    to be delivered count from then. Return how many messages."""
    result = db_session.execute(
        update(Message)
        .where(
            Message.participant_id == participant_id,
            Message.state.in_(OPEN_STATES),
            Message.due_at < at,
        )
        .values(due_at=at)
    )
    return cast(CursorResult[Any], result).rowcount  # an UPDATE: a cursor result


def expire_old(db_session: Session, now: datetime, held: Select[int] | None = None) -> int:
    """Give up messages that could not be delivered within MAX_QUEUE_AGE of their due time;
    not those of the participants `held` names (paused: their mail waits for them)."""
    statement = update(Message).where(
        Message.state.in_(OPEN_STATES), Message.due_at < now - MAX_QUEUE_AGE
    )
    if held is not None:
        statement = statement.where(
            or_(Message.participant_id.is_(None), Message.participant_id.not_in(held))
        )
    result = db_session.execute(statement.values(state=MessageState.FAILED, last_answer=GIVEN_UP))
    return cast(CursorResult[Any], result).rowcount  # an UPDATE: a cursor result


def forget_sealed(db_session: Session, now: datetime) -> int:
    """Empty sent mail that only its recipient may read (a link that sets a password, say).

    Once delivered it cannot be sent again, so its content serves nobody in the database, where
    a backup or a copy of the file would still carry a working link. Its envelope stays.
    """
    sealed = [kind for kind in MessageKind if kind.disclosure is Disclosure.ENVELOPE]
    result = db_session.execute(
        update(Message)
        .where(
            Message.state == MessageState.SENT,
            Message.due_at >= now - 2 * MAX_QUEUE_AGE,  # what can have been sent since last time
            Message.kind.in_(sealed),
            Message.text_body != "",
        )
        .values(subject="", text_body="", html_body="", headers={}, calendar=None)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], result).rowcount  # an UPDATE: a cursor result


def state_counts(db_session: Session, scope: Any = None) -> dict[MessageState, int]:
    """Return how many messages are in each state (within `scope`, a where-clause)."""
    statement = select(Message.state, func.count()).group_by(Message.state)
    if scope is not None:
        statement = statement.where(scope)
    counts = dict.fromkeys(MessageState, 0)
    counts.update({state: n for state, n in db_session.execute(statement)})
    return counts
