"""The dispatcher: claim due messages with a lease, send them over one connection, record each.

Claim (claims.py): a batch of what is due at the `now` the dispatcher is given, leased to it.
Filter (limits.py): suppressed addresses, stopped participants, closed campaigns and campaign
rate limits.
Send: each message goes over the same connection. Record (outcomes.py): each outcome is
committed as soon as the server has answered, so a crash resends at most the messages in
flight (two), with their own Message-IDs. A run ends when nothing is due or its time budget
(seconds of wall time) is spent; it never reads the clock for what is due.
"""

from __future__ import annotations

import functools
import hashlib
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

from campaign.outbox import verp
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
    """How the dispatcher sends: as whom, how many at a time, for how long, and the DKIM key."""

    sender: str
    return_path: str = ""  # the VERP template (campaign/outbox/verp.py); "" uses the default
    verp_key: bytes = b""
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
    run = _Run(db_session, now, settings, policy, Report())
    started = time.monotonic()
    connection: Connection | None = None
    try:
        while (spent := time.monotonic() - started) < settings.time_budget_seconds:
            batch = _next_batch(run, leased_at=now + timedelta(seconds=spent))
            if batch is None:
                break
            if not batch:
                continue
            connection = connection or _connect(run, transport, batch)
            if connection is None:
                break
            connection = _send_batch(run, connection, batch)
    finally:
        if connection is not None:
            connection.close()
    return run.report


@dataclass(frozen=True)
class _Run:
    """One run of the dispatcher: what it works with, and the report of what it did."""

    db_session: Session
    now: datetime  # what is due is judged at this moment, however long the run takes
    settings: Settings
    policy: Policy
    report: Report


def _next_batch(run: _Run, leased_at: datetime) -> list[Row[Any]] | None:
    """Claim a batch and return what of it may go now (the rest is cancelled or handed back);
    None when nothing is due, or every campaign in the batch is at its rate limit for now."""
    db_session, settings, policy, report = run.db_session, run.settings, run.policy, run.report
    batch = claim(db_session, run.now, settings.batch_size, settings.lease, policy, leased_at)
    if not batch:
        return None
    batch = without_the_stopped(db_session, batch, run.now, policy, report)
    batch = within_rate_limits(db_session, batch, run.now, policy, report)
    return None if not batch and report.deferred else batch


def _connect(run: _Run, transport: Transport, batch: list[Row[Any]]) -> Connection | None:
    """Open a connection to the mail server; if it fails, hand the batch back and say why."""
    try:
        return transport.connect()
    except ConnectFailed as error:
        release(run.db_session, batch, error.answer)
        run.report.connect_error = error.answer
        log.warning("mail server unreachable, %d messages wait: %s", len(batch), error.answer)
        return None


def _send_batch(run: _Run, connection: Connection, batch: list[Row[Any]]) -> Connection | None:
    """Send a batch, one message in flight at a time, each outcome committed as it comes.

    A second thread talks to the server while the next message is composed and the last answer
    recorded, so the connection never waits for the database; a crash resends at most two.
    """
    envelope = functools.partial(_return_path, run.settings)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="smtp") as line:
        in_flight: tuple[Row[Any], Future[str]] | None = None
        for index in range(len(batch) + 1):
            upcoming = batch[index] if index < len(batch) else None
            data = _wire_bytes(upcoming, run.settings, run.now) if upcoming else b""
            if in_flight is not None and _lost(run, in_flight, batch[index:]):
                connection.close()
                return None
            finished, in_flight = in_flight, None
            if upcoming is not None:
                sending = line.submit(
                    connection.send, envelope(upcoming.id), upcoming.recipient, data
                )
                in_flight = (upcoming, sending)
            if finished is not None:
                _record(run, *finished)
    return connection


def _return_path(settings: Settings, row_id: int) -> str:
    """Return a message's own envelope sender (VERP), so that a bounce names the message."""
    template = settings.return_path or verp.default_template(envelope_address(settings.sender))
    return verp.return_path(row_id, template, settings.verp_key)


def _record(run: _Run, message: Row[Any], outcome: Future[str]) -> None:
    """Record the server's answer to a message, committed at once."""
    settle(run.db_session, message, outcome, run.now, run.report)
    run.db_session.commit()


def _lost(run: _Run, in_flight: tuple[Row[Any], Future[str]], rest: list[Row[Any]]) -> bool:
    """If the connection broke under the message in flight, retry it, hand back the rest and
    return True."""
    error = in_flight[1].exception()
    if not isinstance(error, ConnectionLost):
        return False
    retry(run.db_session, in_flight[0], error.answer, run.now, run.report)
    release(run.db_session, rest, error.answer)
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
    """Return the bytes of a key file, read once."""
    with open(path, "rb") as handle:
        return handle.read()


def settings_from_config(config: Mapping[str, Any]) -> Settings:
    """Return the dispatcher settings of an app's configuration."""
    return Settings(
        sender=config["CAMPAIGN_MAIL_FROM"],
        return_path=config.get("CAMPAIGN_RETURN_PATH") or "",
        verp_key=verp_key(config),
        batch_size=int(config["CAMPAIGN_DISPATCH_BATCH"]),
        lease=timedelta(seconds=int(config["CAMPAIGN_DISPATCH_LEASE_SECONDS"])),
        dkim=_dkim(config),
    )


def verp_key(config: Mapping[str, Any]) -> bytes:
    """Return the key that signs return-path tokens, derived from the app's secret key."""
    secret = str(config.get("SECRET_KEY") or config.get("CAMPAIGN_SECRET_KEY") or "")
    return hashlib.sha256(b"campaign-verp:" + secret.encode()).digest()


def _dkim(config: Mapping[str, Any]) -> tuple[str, str, bytes] | None:
    """Return the DKIM selector, domain (by default the sender's) and key; None without a key."""
    if not config.get("CAMPAIGN_DKIM_KEY_FILE"):
        return None
    key = _read_key(config["CAMPAIGN_DKIM_KEY_FILE"])
    domain = (
        config.get("CAMPAIGN_DKIM_DOMAIN")
        or envelope_address(config["CAMPAIGN_MAIL_FROM"]).rpartition("@")[2]
    )
    return config["CAMPAIGN_DKIM_SELECTOR"], domain, key


def dispatch_due(db_session: Session, now: datetime) -> Report:
    """The dispatch job: send what is due at `now` with the configured transport and policy."""
    app = current_app
    transport, settings = transport_from_config(app.config), settings_from_config(app.config)
    return dispatch(db_session, now, transport, settings, policy_of(app))
