"""The dispatcher: claim due messages with a lease, send them over one connection, record each.

Claim (claims.py): a batch of what is due at the `now` the dispatcher is given, leased to it.
Filter (limits.py): suppressed addresses, stopped participants and campaign rate limits.
Send: each message goes over the same connection. Record (outcomes.py): each outcome is
committed as soon as the server has answered, so a crash resends at most the messages in
flight (two), with their own Message-IDs. A run ends when nothing is due or its time budget
(seconds of wall time) is spent; it never reads the clock for what is due.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Row
from sqlalchemy.orm import Session

from campaign.outbox.claims import claim
from campaign.outbox.compose import compose, dkim_sign, envelope_address
from campaign.outbox.limits import within_rate_limits, without_the_stopped
from campaign.outbox.outcomes import Report, release, retry, settle
from campaign.outbox.policy import Policy, policy_of
from campaign.outbox.transports import (
    ConnectFailed,
    Connection,
    ConnectionLost,
    Transport,
    transport_from_config,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    sender: str
    batch_size: int = 200
    lease: timedelta = timedelta(minutes=5)
    time_budget_seconds: float = 50.0  # wall time one run may spend sending
    dkim: tuple[str, str, bytes] | None = None  # selector, domain, private key


def dispatch(
    db_session: Session, now: datetime, transport: Transport, settings: Settings, policy: Policy
) -> Report:
    """Send what is due at `now` until none is left or the time budget is spent.

    Leases run from `now` moved on by the wall time the run has spent, so that a long run
    never hands out a lease that has already run out.
    """
    report, started = Report(), time.monotonic()
    connection: Connection | None = None
    try:
        while (spent := time.monotonic() - started) < settings.time_budget_seconds:
            leased_at = now + timedelta(seconds=spent)
            batch = claim(db_session, now, settings.batch_size, settings.lease, policy, leased_at)
            if not batch:
                break
            batch = _sendable(db_session, batch, now, policy, report)
            if not batch:
                if report.deferred:
                    break  # every campaign in this batch is at its rate limit for now
                continue
            connection = connection or _connect(db_session, transport, batch, report)
            if connection is None:
                break
            connection = _send_batch(db_session, now, connection, batch, settings, report)
    finally:
        if connection is not None:
            connection.close()
    return report


def _sendable(
    db_session: Session, batch: list[Row[Any]], now: datetime, policy: Policy, report: Report
) -> list[Row[Any]]:
    """Return what of a claimed batch may go now; the rest is cancelled or handed back."""
    batch = without_the_stopped(db_session, batch, policy, report)
    return within_rate_limits(db_session, batch, now, policy, report)


def _connect(
    db_session: Session, transport: Transport, batch: list[Row[Any]], report: Report
) -> Connection | None:
    """Open a connection to the mail server; if it fails, hand the batch back and say why."""
    try:
        return transport.connect()
    except ConnectFailed as error:
        release(db_session, batch, error.answer)
        report.connect_error = error.answer
        log.warning("mail server unreachable, %d messages wait: %s", len(batch), error.answer)
        return None


def _send_batch(
    db_session: Session,
    now: datetime,
    connection: Connection,
    batch: list[Row[Any]],
    settings: Settings,
    report: Report,
) -> Connection | None:
    """Send a batch, one message in flight at a time, each outcome committed as it comes.

    A second thread talks to the server while the next message is composed and the last answer
    recorded, so the connection never waits for the database; a crash resends at most two.
    """
    envelope = envelope_address(settings.sender)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="smtp") as line:
        in_flight: tuple[Row[Any], Future[str]] | None = None
        for index in range(len(batch) + 1):
            upcoming = batch[index] if index < len(batch) else None
            data = _wire_bytes(upcoming, settings, now) if upcoming else b""
            if in_flight is not None and _lost(db_session, in_flight, batch[index:], now, report):
                connection.close()
                return None
            finished, in_flight = in_flight, None
            if upcoming is not None:
                sending = line.submit(connection.send, envelope, upcoming.recipient, data)
                in_flight = (upcoming, sending)
            if finished is not None:
                settle(db_session, *finished, now, report)
                db_session.commit()  # recorded as soon as the server has answered
    return connection


def _lost(
    db_session: Session,
    in_flight: tuple[Row[Any], Future[str]],
    rest: list[Row[Any]],
    now: datetime,
    report: Report,
) -> bool:
    """If the connection broke under the message in flight, retry it, hand back the rest and
    return True."""
    error = in_flight[1].exception()
    if not isinstance(error, ConnectionLost):
        return False
    retry(db_session, in_flight[0], error.answer, now, report)
    release(db_session, rest, error.answer)
    return True


def _wire_bytes(message: Row[Any], settings: Settings, now: datetime) -> bytes:
    """Return the message as sent, dated `now`, DKIM-signed if configured."""
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
    """The dispatch job: send what is due at `now` with the configured transport and policy."""
    app = current_app
    transport, settings = transport_from_config(app.config), settings_from_config(app.config)
    return dispatch(db_session, now, transport, settings, policy_of(app))
