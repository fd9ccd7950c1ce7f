"""The dispatcher: claim due messages with a lease, send them over one connection, record each.

Claim: one UPDATE marks a batch `sending` with a lease and a claim token (on PostgreSQL the
batch is chosen with FOR UPDATE SKIP LOCKED, so several workers share one outbox). Send: each
message goes over the same connection. Record: each outcome is committed as soon as the server
has answered, so a crash resends at most the messages in flight (two), with their own
Message-IDs. A crashed worker's lease expires and its messages are claimed again.
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Row, and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from campaign.enrolment.models import Participant, ParticipantStatus
from campaign.network.models import Campaign
from campaign.outbox.compose import compose, dkim_sign, envelope_address
from campaign.outbox.models import Message, MessageState, Suppression, SuppressionReason
from campaign.outbox.queue import suppress
from campaign.outbox.transports import (
    ConnectFailed,
    Connection,
    ConnectionLost,
    PermanentFailure,
    RecipientRefused,
    TemporaryFailure,
    Transport,
    transport_from_config,
)
from campaign.timing import Clock, current_clock

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=2)
RATE_WINDOW = timedelta(minutes=1)


@dataclass(frozen=True)
class Settings:
    sender: str
    batch_size: int = 200
    lease: timedelta = timedelta(minutes=5)
    time_budget_seconds: float = 50.0
    dkim: tuple[str, str, bytes] | None = None  # selector, domain, private key


@dataclass
class Report:
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


def _due(now: datetime):  # type: ignore[no-untyped-def]
    waiting = and_(
        Message.state.in_((MessageState.QUEUED, MessageState.RETRY)),
        Message.due_at <= now,
        or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now),
    )
    abandoned = and_(Message.state == MessageState.SENDING, Message.lease_until < now)
    return or_(waiting, abandoned)


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
    Message.claim_token,
)
TABLE = Message.__table__


def claim(db_session: Session, now: datetime, limit: int, lease: timedelta) -> list[Row[Any]]:
    """Lease up to `limit` due messages to this caller and commit; return them, oldest first.

    The dispatcher works on plain rows and records outcomes with plain UPDATEs: per message,
    that is a third of the cost of the ORM's unit of work.
    """
    token = uuid.uuid4().hex
    paused = select(Participant.id).where(Participant.status == ParticipantStatus.PAUSED)
    candidates = (
        select(Message.id)
        .where(_due(now))
        .where(or_(Message.participant_id.is_(None), Message.participant_id.not_in(paused)))
        .order_by(Message.due_at, Message.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite serialises writers anyway
    )
    db_session.execute(
        update(Message)
        .where(Message.id.in_(candidates.scalar_subquery()))
        .where(_due(now))  # re-checked on the locked row: two claimers never share a message
        .values(state=MessageState.SENDING, lease_until=now + lease, claim_token=token)
        .execution_options(synchronize_session=False)
    )
    db_session.commit()
    claimed = (
        select(*CLAIMED_COLUMNS)
        .where(Message.claim_token == token)
        .order_by(Message.due_at, Message.id)
    )
    return list(db_session.execute(claimed))


def dispatch(db_session: Session, clock: Clock, transport: Transport, settings: Settings) -> Report:
    """Send due messages until none are left or the time budget is spent."""
    report = Report()
    deadline = time.monotonic() + settings.time_budget_seconds
    connection: Connection | None = None
    try:
        while time.monotonic() < deadline:
            now = clock.now()
            batch = claim(db_session, now, settings.batch_size, settings.lease)
            if not batch:
                break
            batch = _without_suppressed(db_session, batch, report)
            batch = _within_rate_limits(db_session, batch, now, report)
            if not batch:
                if report.deferred:
                    break  # every campaign in this batch is at its rate limit for now
                continue
            if connection is None:
                try:
                    connection = transport.connect()
                except ConnectFailed as error:
                    _release(db_session, batch, error.answer)
                    report.connect_error = error.answer
                    log.warning(
                        "mail server unreachable, %d messages wait: %s", len(batch), error.answer
                    )
                    break
            connection = _send_batch(db_session, clock, connection, batch, settings, report)
    finally:
        if connection is not None:
            connection.close()
    return report


def _send_batch(
    db_session: Session,
    clock: Clock,
    connection: Connection,
    batch: list[Row[Any]],
    settings: Settings,
    report: Report,
) -> Connection | None:
    """Send a batch, one message in flight at a time, each outcome committed as it comes.

    A second thread talks to the server, so that composing the next message and recording the
    last answer happen while the server is busy with the current one: the connection never
    waits for the database. A crash therefore resends at most the two newest messages.
    """
    envelope = envelope_address(settings.sender)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="smtp") as line:
        in_flight: tuple[Row[Any], Future[str]] | None = None
        for index in range(len(batch) + 1):
            upcoming = batch[index] if index < len(batch) else None
            data = _wire_bytes(upcoming, settings, clock.now()) if upcoming else b""
            if in_flight is not None:
                error = in_flight[1].exception()
                if isinstance(error, ConnectionLost):
                    _retry(db_session, in_flight[0], error.answer, clock.now(), report)
                    _release(db_session, batch[index:], error.answer)
                    connection.close()
                    return None
            finished, in_flight = in_flight, None
            if upcoming is not None:
                in_flight = (
                    upcoming,
                    line.submit(connection.send, envelope, upcoming.recipient, data),
                )
            if finished is not None:
                _settle(db_session, *finished, clock.now(), report)
                db_session.commit()  # recorded as soon as the server has answered
    return connection


def _settle(
    db_session: Session, message: Row[Any], outcome: Future[str], now: datetime, report: Report
) -> None:
    """Record what the server answered to one message."""
    error = outcome.exception()
    if error is None:
        _record(
            db_session,
            message,
            MessageState.SENT,
            outcome.result(),
            sent_at=now,
            attempts=message.attempts + 1,
        )
        report.sent += 1
    elif isinstance(error, RecipientRefused):
        _fail(db_session, message, error.answer, report)
        suppress(db_session, message.recipient, SuppressionReason.HARD_BOUNCE, error.answer, now)
    elif isinstance(error, PermanentFailure):
        _fail(db_session, message, error.answer, report)
    elif isinstance(error, TemporaryFailure):
        _retry(db_session, message, error.answer, now, report)
    else:
        raise error


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


def _record(
    db_session: Session,
    message: Row[Any],
    state: MessageState,
    answer: str,
    *,
    attempts: int | None = None,
    sent_at: datetime | None = None,
    next_attempt_at: datetime | None = None,
) -> None:
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


def _wire_bytes(message: Row[Any], settings: Settings, now: datetime) -> bytes:
    data = compose(
        sender=settings.sender,
        recipient=message.recipient,
        subject=message.subject,
        text=message.text_body,
        html=message.html_body,
        message_id=message.message_id,
        date=now,
        headers=message.headers,
        calendar=message.calendar,
    )
    if settings.dkim:
        selector, domain, key = settings.dkim
        data = dkim_sign(data, selector=selector, domain=domain, private_key=key)
    return data


def _retry(
    db_session: Session, message: Row[Any], answer: str, now: datetime, report: Report
) -> None:
    attempts = message.attempts + 1
    report.answers[answer] += 1
    if attempts >= MAX_ATTEMPTS:
        _record(db_session, message, MessageState.FAILED, answer, attempts=attempts)
        report.failed += 1
        return
    _record(
        db_session,
        message,
        MessageState.RETRY,
        answer,
        attempts=attempts,
        next_attempt_at=now + retry_delay(attempts),
    )
    report.retried += 1


def _fail(db_session: Session, message: Row[Any], answer: str, report: Report) -> None:
    _record(db_session, message, MessageState.FAILED, answer, attempts=message.attempts + 1)
    report.failed += 1
    report.answers[answer] += 1


def _release(
    db_session: Session,
    messages: list[Row[Any]],
    answer: str,
    next_attempt_at: datetime | None = None,
) -> None:
    """Hand claimed messages back unchanged but for the answer: no attempt is counted."""
    for message in messages:
        state = MessageState.RETRY if message.attempts else MessageState.QUEUED
        _record(db_session, message, state, answer, next_attempt_at=next_attempt_at)
    db_session.commit()


def _without_suppressed(
    db_session: Session, batch: list[Row[Any]], report: Report
) -> list[Row[Any]]:
    recipients = {m.recipient for m in batch}
    suppressed = set(
        db_session.scalars(select(Suppression.email).where(Suppression.email.in_(recipients)))
    )
    if not suppressed:
        return batch
    for message in batch:
        if message.recipient in suppressed:
            _record(
                db_session,
                message,
                MessageState.CANCELLED,
                "not sent: the address is on the suppression list",
            )
            report.suppressed += 1
    db_session.commit()
    return [m for m in batch if m.recipient not in suppressed]


def _within_rate_limits(
    db_session: Session, batch: list[Row[Any]], now: datetime, report: Report
) -> list[Row[Any]]:
    """Keep what each campaign may still send this minute; hand the rest back for later."""
    campaign_ids = {m.campaign_id for m in batch if m.campaign_id is not None}
    if not campaign_ids:
        return batch
    limits = dict(
        db_session.execute(
            select(Campaign.id, Campaign.rate_limit_per_minute).where(
                Campaign.id.in_(campaign_ids), Campaign.rate_limit_per_minute.is_not(None)
            )
        ).all()
    )
    if not limits:
        return batch
    # What counts against this minute: mail sent in it, and mail other dispatchers are sending
    # now, so that N workers do not send N times the limit. The campaign rows stay locked
    # until this batch's share is settled (PostgreSQL), so two checks never overlap.
    db_session.execute(
        select(Campaign.id).where(Campaign.id.in_(limits)).order_by(Campaign.id).with_for_update()
    ).all()
    others_sending = and_(
        Message.state == MessageState.SENDING,
        Message.lease_until >= now,
        Message.claim_token != batch[0].claim_token,
    )
    recent = dict(
        db_session.execute(
            select(Message.campaign_id, func.count())
            .where(
                Message.campaign_id.in_(limits),
                or_(Message.sent_at > now - RATE_WINDOW, others_sending),
            )
            .group_by(Message.campaign_id)
        ).all()
    )
    allowance = {cid: max(limit - recent.get(cid, 0), 0) for cid, limit in limits.items()}
    kept, later = [], []
    for message in batch:
        cid = message.campaign_id
        if cid in allowance:
            if allowance[cid] == 0:
                later.append(message)
                continue
            allowance[cid] -= 1
        kept.append(message)
    if later:
        _release(
            db_session,
            later,
            "waiting: the campaign's sending rate limit is reached",
            next_attempt_at=now + timedelta(seconds=10),
        )
        report.deferred += len(later)
    db_session.commit()  # the batch's share is settled: the campaign rows are free again
    return kept


@functools.cache
def _read_key(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def settings_from_config(config: Mapping[str, Any]) -> Settings:
    """Return the dispatcher settings of an app's configuration."""
    dkim = None
    if config.get("CAMPAIGN_DKIM_KEY_FILE"):
        key = _read_key(config["CAMPAIGN_DKIM_KEY_FILE"])
        domain = (
            config.get("CAMPAIGN_DKIM_DOMAIN")
            or envelope_address(config["CAMPAIGN_MAIL_FROM"]).rpartition("@")[2]
        )
        dkim = (config["CAMPAIGN_DKIM_SELECTOR"], domain, key)
    return Settings(
        sender=config["CAMPAIGN_MAIL_FROM"],
        batch_size=int(config["CAMPAIGN_DISPATCH_BATCH"]),
        lease=timedelta(seconds=int(config["CAMPAIGN_DISPATCH_LEASE_SECONDS"])),
        dkim=dkim,
    )


def dispatch_due(db_session: Session, now: datetime) -> Report:
    """The clock's dispatch job: send what is due with the configured transport."""
    config = current_app.config
    return dispatch(
        db_session, current_clock(), transport_from_config(config), settings_from_config(config)
    )
