"""The records of routine traffic, kept a stated while and then dropped, so that no table grows
without end: webhook deliveries and the audit's rows of API use.

- A webhook delivery that is over (delivered, or given up) goes DELIVERIES_KEPT after its last
  attempt: the delivery log shows a month. One still open for a receiver that is switched off
  goes DELIVERIES_KEPT after it was due (switched on, it would be a month late anyway).
- `api.request` ("Used the API", one row per request a token makes) goes API_REQUESTS_KEPT after
  the request. The audit has no retention of its own (every other action stays), but a program
  calling every few seconds makes a million of these a year; three months answer "who used
  this token, and for what" when a token leaks, with the token's last use kept on the token.
- A refused use of a real token (`api.scope_refused`, `api.token_refused`) is a signal worth
  longer: it goes REFUSALS_KEPT after it happened.

Set-based (one DELETE per kind, on the indexed moment), in the caller's transaction; the
`retention` job runs it with the campaigns' purge (due.run_due).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, and_, delete, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Delete

from campaign.audit import AuditEvent
from campaign.webhooks.models import DeliveryState, WebhookDelivery, WebhookSubscription

DELIVERIES_KEPT = timedelta(days=30)
API_REQUESTS_KEPT = timedelta(days=90)
REFUSALS_KEPT = timedelta(days=365)
REFUSALS = ("api.scope_refused", "api.token_refused")
OVER = (DeliveryState.SUCCEEDED, DeliveryState.FAILED)
OPEN = (DeliveryState.PENDING, DeliveryState.RETRYING)


def forget_old_traffic(db_session: Session, now: datetime) -> dict[str, int]:
    """Drop the deliveries and API audit rows past their time at `now`; return how many."""
    return {
        "webhook_deliveries": _count(db_session, _old_deliveries(now - DELIVERIES_KEPT)),
        "api_requests": _count(db_session, _old_audit(("api.request",), now - API_REQUESTS_KEPT)),
        "api_refusals": _count(db_session, _old_audit(REFUSALS, now - REFUSALS_KEPT)),
    }


def _old_deliveries(before: datetime) -> Delete:
    """The deliveries over before `before` (delivered, or given up, at their last attempt: the
    attempt due at next_attempt_at), and the open ones of switched-off receivers due then."""
    switched_off = select(WebhookSubscription.id).where(WebhookSubscription.is_enabled.is_(False))
    last_attempt = func.coalesce(WebhookDelivery.delivered_at, WebhookDelivery.next_attempt_at)
    return delete(WebhookDelivery).where(
        WebhookDelivery.next_attempt_at < before,
        or_(
            and_(WebhookDelivery.state.in_(OVER), last_attempt < before),
            and_(
                WebhookDelivery.state.in_(OPEN),
                WebhookDelivery.subscription_id.in_(switched_off),
            ),
        ),
    )


def _old_audit(actions: tuple[str, ...], before: datetime) -> Delete:
    """The audit rows of `actions` that happened before `before`."""
    return delete(AuditEvent).where(AuditEvent.occurred_at < before, AuditEvent.action.in_(actions))


def _count(db_session: Session, statement: Delete) -> int:
    """Run a DELETE on the database's rows only; return how many it dropped."""
    result = db_session.execute(statement.execution_options(synchronize_session=False))
    return cast(CursorResult[Any], result).rowcount  # a DELETE gives a cursor result
