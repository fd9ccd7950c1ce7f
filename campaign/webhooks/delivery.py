"""The webhooks job: claim the due deliveries with a lease, POST each, record what came of it.

It runs apart from the mail dispatcher (its own job and lease), so a receiver that is slow or
down never slows the mail; a run sends a bounded number within a time budget, each attempt at
most CAMPAIGN_WEBHOOKS_TIMEOUT seconds. 2xx is delivered; a 4xx other than 408 and 429 is final
at once; anything else is tried again with exponential back-off for three days. A receiver that
has failed for three days, at least DISABLE_FAILURES attempts in a row, is disabled and its
owner told (notices.py).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from campaign.webhooks import signing
from campaign.webhooks.models import DeliveryState, WebhookDelivery, WebhookSubscription
from campaign.webhooks.notices import disable_failing
from campaign.webhooks.sending import Answer, post
from campaign.webhooks.settings import allowed

RETRY_FOR = timedelta(days=3)
FIRST_DELAY = timedelta(seconds=30)
LONGEST_DELAY = timedelta(hours=12)
DISABLE_AFTER = timedelta(days=3)
DISABLE_FAILURES = 10
RETRIED_STATUSES = (408, 429)
OPEN = (DeliveryState.PENDING, DeliveryState.RETRYING)


@dataclass(frozen=True)
class Settings:
    """How the job sends: the time an attempt may take, the receivers allowed, how many a run."""

    timeout: float = 10.0
    allowed: frozenset[str] = frozenset()
    batch: int = 50
    lease: timedelta = timedelta(minutes=2)
    time_budget_seconds: float = 40.0  # wall time one run may spend; the lease outlasts it


def settings_of(config: Mapping[str, Any]) -> Settings:
    """Return the job's settings from the app's configuration."""
    return Settings(
        timeout=float(config["CAMPAIGN_WEBHOOKS_TIMEOUT"]),
        allowed=allowed(config.get("CAMPAIGN_WEBHOOKS_ALLOW")),
    )


@dataclass
class Report:
    """What a run did, by outcome."""

    counts: Counter[str] = field(default_factory=Counter)


def retry_delay(attempts: int) -> timedelta:
    """Return the wait after failed attempt number `attempts`: 30 s, 2 min, 8 min, ... 12 h."""
    return min(FIRST_DELAY * 4 ** (attempts - 1), LONGEST_DELAY)


def deliver_due(db_session: Session, now: datetime, settings: Settings) -> dict[str, int]:
    """Send what is due at `now`, a batch at most, within the time budget; return the counts."""
    report = Report()
    claimed = claim(db_session, now, settings)
    db_session.commit()
    started = time.monotonic()
    for index, delivery_id in enumerate(claimed):
        if time.monotonic() - started >= settings.time_budget_seconds:
            _hand_back(db_session, claimed[index:])
            report.counts["handed_back"] += len(claimed) - index
            break
        report.counts[deliver(db_session, delivery_id, now, settings).value] += 1
        db_session.commit()
    return dict(report.counts)


def claim(db_session: Session, now: datetime, settings: Settings) -> list[int]:
    """Lease the due deliveries of enabled receivers (and those whose lease ran out) to this
    run; return their ids, the oldest first."""
    due = or_(
        and_(WebhookDelivery.state.in_(OPEN), WebhookDelivery.next_attempt_at <= now),
        and_(WebhookDelivery.state == DeliveryState.SENDING, WebhookDelivery.lease_until < now),
    )
    query = (
        select(WebhookDelivery.id)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .where(WebhookSubscription.is_enabled, due)
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(settings.batch)
    )
    ids = list(db_session.scalars(query))
    if ids:
        db_session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(ids))
            .values(state=DeliveryState.SENDING, lease_until=now + settings.lease)
        )
    return ids


def _hand_back(db_session: Session, ids: list[int]) -> None:
    """Give claimed deliveries back unsent, for the next run."""
    db_session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(ids), WebhookDelivery.state == DeliveryState.SENDING)
        .values(state=DeliveryState.RETRYING, lease_until=None)
    )
    db_session.commit()


def deliver(
    db_session: Session, delivery_id: int, now: datetime, settings: Settings
) -> DeliveryState:
    """Send one claimed delivery and record what came of it; return its new state."""
    delivery = db_session.get(WebhookDelivery, delivery_id)
    assert delivery is not None
    subscription = db_session.get(WebhookSubscription, delivery.subscription_id)
    assert subscription is not None
    body = body_of(delivery)
    headers = signing.headers(subscription, delivery.webhook_id, body, now)
    answer = post(subscription.url, body, headers, settings.timeout, settings.allowed)
    record(db_session, delivery, subscription, answer, now)
    return delivery.state


def body_of(delivery: WebhookDelivery) -> bytes:
    """Return the JSON body of a delivery: its type, when it happened, and its data."""
    envelope = {
        "type": delivery.event_type,
        "timestamp": delivery.occurred_at.isoformat().replace("+00:00", "Z"),
        "data": delivery.data,
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()


def record(
    db_session: Session,
    delivery: WebhookDelivery,
    subscription: WebhookSubscription,
    answer: Answer,
    now: datetime,
) -> None:
    """Write an attempt's outcome into the delivery, and the receiver's run of failures."""
    delivery.attempts += 1
    delivery.first_attempt_at = delivery.first_attempt_at or now
    delivery.last_status, delivery.response_ms = answer.status, answer.milliseconds
    delivery.lease_until = None
    if answer.status is not None and 200 <= answer.status < 300:
        delivery.state, delivery.delivered_at, delivery.last_error = (
            DeliveryState.SUCCEEDED,
            now,
            "",
        )
        subscription.failing_since, subscription.failures_in_a_row = None, 0
        return
    delivery.last_error = answer.error or f"The receiver answered HTTP {answer.status}."
    _failed(delivery, now)
    subscription.failing_since = subscription.failing_since or now
    subscription.failures_in_a_row += 1
    if is_failing_for_good(subscription, now):
        disable_failing(db_session, subscription, answer.status, now)


def _failed(delivery: WebhookDelivery, now: datetime) -> None:
    """Give a failed delivery up (a final 4xx, or three days of tries), or try it again later."""
    later = now + retry_delay(delivery.attempts)
    started = delivery.first_attempt_at or now
    if is_final(delivery.last_status) or later > started + RETRY_FOR:
        delivery.state = DeliveryState.FAILED
        return
    delivery.state, delivery.next_attempt_at = DeliveryState.RETRYING, later


def is_final(status: int | None) -> bool:
    """Whether an answer says that trying again is no use: a 4xx but 408 and 429."""
    return status is not None and 400 <= status < 500 and status not in RETRIED_STATUSES


def is_failing_for_good(subscription: WebhookSubscription, now: datetime) -> bool:
    """Whether the receiver has failed long and often enough in a row to be disabled."""
    since = subscription.failing_since
    long_enough = since is not None and now - since >= DISABLE_AFTER
    return long_enough and subscription.failures_in_a_row >= DISABLE_FAILURES
