"""The dispatcher: claim due messages with a lease, send them over a pool of connections,
record each.

Claim (claims.py): a batch of what is due at the clock's `now`, leased to this dispatcher.
Filter (limits.py): suppressed addresses, stopped participants, closed campaigns and campaign
rate limits.
Send (pool.py): while the next message is composed, up to CAMPAIGN_SMTP_CONNECTIONS others are
on the wire, each on its own session. Record (outcomes.py): each outcome is committed as soon as
the server has answered (the answers that came in together share one commit), so a crash
resends at most the messages in flight, one per session, each with its own Message-ID.
A run ends when nothing is due or its time budget (seconds of wall time) is spent. What is due is
judged by the clock it is given (read again before each batch, so a long run also takes what
has come due meanwhile), never by reading the system's time itself.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import queue
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Row
from sqlalchemy.orm import Session

from campaign import timing
from campaign.outbox import verp
from campaign.outbox.claims import claim, renew
from campaign.outbox.compose import compose, envelope_address
from campaign.outbox.limits import within_rate_limits, without_the_stopped
from campaign.outbox.outcomes import Report, record_sent, release, retry, settle
from campaign.outbox.policy import Policy, policy_of
from campaign.outbox.pool import Outcome, Pool
from campaign.outbox.signing import dkim_sign
from campaign.outbox.transports import (
    ConnectFailed,
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
    connections: int = 2  # sessions one run keeps open to the mail server at most


def dispatch(
    db_session: Session,
    now: datetime,
    transport: Transport,
    settings: Settings,
    policy: Policy,
    clock: Callable[[], datetime] | None = None,
) -> Report:
    """Send what is due until none is left or the time budget is spent.

    What is due is judged at `clock()` before each batch, or at `now` while the clock is behind
    it (a run for a moment to come, or no clock given). Leases run from that moment, or from
    `now` moved on by the wall time the run has spent if that is later, so that a long run
    never hands out a lease that has already run out.
    """
    run = _Run(db_session, settings, policy, Report(), _moments(now, clock), now, time.monotonic())
    with Pool(transport, settings.connections) as pool:
        while time.monotonic() - run.started < settings.time_budget_seconds:
            leased = time.monotonic()
            batch = _next_batch(run, run.clock(), run.leased_from())
            if batch is None:
                break
            if not batch:
                continue
            if not _connect(run, pool, batch):
                break
            _send_batch(run, pool, batch, _Lease(run, batch[0].claim_token, leased))
    return run.report


def _moments(now: datetime, clock: Callable[[], datetime] | None) -> Callable[[], datetime]:
    """Return what tells the run's present: the clock once it has passed `now`, else `now`."""
    if clock is None:
        return lambda: now
    return lambda: max(now, clock())


@dataclass(frozen=True)
class _Run:
    """One run of the dispatcher: what it works with, and the report of what it did."""

    db_session: Session
    settings: Settings
    policy: Policy
    report: Report
    clock: Callable[[], datetime]  # what is due, and when a message went, is judged by it
    now: datetime
    started: float  # time.monotonic() at the start

    def leased_from(self) -> datetime:
        """Return the moment a lease taken now runs from: the clock's, or `now` moved on by
        the wall time spent if that is later (a clock that stands still in a test)."""
        spent = timedelta(seconds=time.monotonic() - self.started)
        return max(self.clock(), self.now + spent)


def _next_batch(run: _Run, now: datetime, leased_at: datetime) -> list[Row[Any]] | None:
    """Claim a batch due at `now` and return what of it may go now (the rest is cancelled or
    handed back); None when nothing is due, or every campaign in the batch is at its rate limit
    for now."""
    db_session, settings, policy, report = run.db_session, run.settings, run.policy, run.report
    batch = claim(db_session, now, settings.batch_size, settings.lease, policy, leased_at)
    if not batch:
        return None
    batch = without_the_stopped(db_session, batch, now, policy, report)
    batch = within_rate_limits(db_session, batch, now, policy, report)
    return None if not batch and report.deferred else batch


def _connect(run: _Run, pool: Pool, batch: list[Row[Any]]) -> bool:
    """Open as many sessions as the batch can use; if none opens, hand the batch back, say why
    and return False."""
    try:
        pool.open(len(batch))
    except ConnectFailed as error:
        release(run.db_session, batch, error.answer)
        run.report.connect_error = error.answer
        log.warning("mail server unreachable, %d messages wait: %s", len(batch), error.answer)
        return False
    return True


_LOST = "connection lost: the rest of the batch waits for the next"


def _send_batch(run: _Run, pool: Pool, batch: list[Row[Any]], lease: _Lease) -> None:
    """Send a batch, one message in flight per session, each outcome committed as it comes.
    If the server breaks a session, the rest of the batch is handed back at once (the next
    batch opens new sessions).

    Each message is composed while the ones before it are on the wire, so the sessions never
    wait for the database or the composing, and a crash resends at most one per session.
    """
    envelope = functools.partial(_return_path, run.settings)
    in_flight, lost = 0, False
    for index, message in enumerate(batch):
        if not lease.holds(message.id):
            continue  # its lease ran out under a slow batch, and another dispatcher took it
        data = _wire_bytes(message, run.settings, run.clock())
        recorded, lost = _record(run, pool, block=not pool.idle)
        in_flight -= recorded
        if lost:
            release(run.db_session, [m for m in batch[index:] if lease.holds(m.id)], _LOST)
            break
        pool.send(message, envelope(message.id), message.recipient, data)
        in_flight += 1
    while in_flight:
        in_flight -= _record(run, pool, block=True)[0]


class _Lease:
    """This dispatcher's lease of a batch, renewed when half of it has passed.

    Half of it counts from the claim (`leased`, monotonic), not from the first send: waiting
    for the campaign's rate-limit lock behind three other workers once took longer than a
    2-second lease, another worker took the batch as abandoned, and both sent it."""

    def __init__(self, run: _Run, token: str, leased: float) -> None:
        self.run, self.token = run, token
        self.seconds = run.settings.lease.total_seconds()
        self.renew_at = leased + self.seconds / 2
        self.ours: set[int] | None = None  # None: every message of the batch

    def holds(self, message_id: int) -> bool:
        """Whether the message is still this dispatcher's to send (renewing if it is time)."""
        if time.monotonic() >= self.renew_at:
            until = self.run.leased_from() + self.run.settings.lease
            self.ours = renew(self.run.db_session, self.token, until)
            self.renew_at = time.monotonic() + self.seconds / 2
        return self.ours is None or message_id in self.ours


def _record(run: _Run, pool: Pool, *, block: bool) -> tuple[int, bool]:
    """Record the answers that have come (waiting for one if `block`) in one commit; return
    how many, and whether the server broke a session under one."""
    outcomes = _arrived(pool, block)
    if not outcomes:
        return 0, False
    now, lost = run.clock(), False
    sent = [(o.key, o.answer) for o in outcomes if o.error is None]
    record_sent(run.db_session, sent, now, run.report)
    for outcome in outcomes:
        pool.finished(outcome)
        if isinstance(outcome.error, ConnectionLost):
            retry(run.db_session, outcome.key, outcome.error.answer, now, run.report)
            lost = True
        elif outcome.error is not None:
            settle(run.db_session, outcome.key, outcome.error, now, run.report, run.policy)
    run.db_session.commit()
    return len(outcomes), lost


def _arrived(pool: Pool, block: bool) -> list[Outcome]:
    """Return the outcomes that have come, waiting for the first if `block`."""
    arrived = []
    try:
        arrived.append(pool.done.get(block=block))
        while True:
            arrived.append(pool.done.get_nowait())
    except queue.Empty:
        pass
    return arrived


def _return_path(settings: Settings, row_id: int) -> str:
    """Return a message's own envelope sender (VERP), so that a bounce names the message."""
    template = settings.return_path or verp.default_template(envelope_address(settings.sender))
    return verp.return_path(row_id, template, settings.verp_key)


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
        connections=int(config["CAMPAIGN_SMTP_CONNECTIONS"]),
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
    clock = timing.clock_of(app)
    return dispatch(db_session, now, transport, settings, policy_of(app), clock.now)
