"""Routine traffic does not pile up: the retention job drops webhook deliveries 30 days after
their last attempt (and the open ones of a switched-off receiver 30 days after they were due),
`api.request` audit rows after 90 days and refused uses of a token after a year, at the moments
of the injected clock, and nothing else of the audit."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.audit import AuditEvent, record
from campaign.retention.traffic import API_REQUESTS_KEPT, DELIVERIES_KEPT, REFUSALS_KEPT
from campaign.webhooks.emit import queue
from campaign.webhooks.models import DeliveryState, WebhookDelivery
from tests.api_helpers import call, token_for
from tests.conftest import START, Network
from tests.retention_helpers import run_retention
from tests.webhook_helpers import subscription

SECOND = timedelta(seconds=1)
ALPHA = "/api/v1/campaigns/test/members/alpha/participants"


def _deliveries(session: Session) -> set[str]:
    session.expire_all()
    return {d.event_type for d in session.scalars(select(WebhookDelivery))}


def _actions(session: Session) -> list[str]:
    session.expire_all()
    return sorted(session.scalars(select(AuditEvent.action)))


def _delivery(session: Session, hook, name: str, state: DeliveryState, due: datetime, **values):  # type: ignore[no-untyped-def]
    made = queue(session, hook, name, {"subscription_id": hook.id}, START)
    made.state, made.next_attempt_at = state, due
    for key, value in values.items():
        setattr(made, key, value)
    return made


def test_webhook_deliveries_go_30_days_after_their_last_attempt(
    app: Flask, session: Session, network: Network
) -> None:
    on = subscription(session, network, network.alpha.id, "https://hooks.alpha.se/in")
    off = subscription(session, network, network.beta.id, "https://hooks.beta.se/in")
    off.is_enabled = False
    later = START + timedelta(days=2)
    _delivery(session, on, "delivered", DeliveryState.SUCCEEDED, START, delivered_at=START)
    _delivery(session, on, "delivered_late", DeliveryState.SUCCEEDED, START, delivered_at=later)
    _delivery(session, on, "given_up", DeliveryState.FAILED, START, attempts=1)
    _delivery(session, on, "retrying", DeliveryState.RETRYING, START)
    _delivery(session, off, "waiting_off", DeliveryState.PENDING, START)
    session.commit()
    everything = {"delivered", "delivered_late", "given_up", "retrying", "waiting_off"}
    assert run_retention(app, START + DELIVERIES_KEPT)
    assert _deliveries(session) == everything  # 30 days to the second: still kept
    assert run_retention(app, START + DELIVERIES_KEPT + SECOND)
    # An open delivery of a receiver that is on is the webhooks job's (it gives up in 3 days).
    assert _deliveries(session) == {"delivered_late", "retrying"}
    assert run_retention(app, later + DELIVERIES_KEPT + SECOND)
    assert _deliveries(session) == {"retrying"}


def test_api_use_goes_after_90_days_a_refusal_after_a_year_the_rest_of_the_audit_stays(
    app: Flask, client: FlaskClient, session: Session, network: Network
) -> None:
    token = token_for(session, network.rep_alpha, ("read",))
    assert call(client, "GET", ALPHA, token).status_code == 200
    assert call(client, "POST", ALPHA, token, json={}).status_code == 403
    record(session, network.lead, "campaign.settings_changed", now=START, target="campaign:test")
    session.commit()
    kept = ["api.request", "api.scope_refused", "campaign.settings_changed"]
    assert _actions(session) == kept
    assert run_retention(app, START + API_REQUESTS_KEPT)
    assert _actions(session) == kept
    assert run_retention(app, START + API_REQUESTS_KEPT + SECOND)
    assert _actions(session) == ["api.scope_refused", "campaign.settings_changed"]
    assert run_retention(app, START + REFUSALS_KEPT + SECOND)
    assert _actions(session) == ["campaign.settings_changed"]  # the audit has no end otherwise
