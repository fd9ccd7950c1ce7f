"""The webhooks job against a real receiver on 127.0.0.1: signed as Standard Webhooks says (an
independent implementation verifies), retried with back-off for three days, a 4xx final, a
hanging receiver given up at the timeout, a failing one switched off and its owner told."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook

from campaign.outbox.models import Message, MessageKind
from campaign.webhooks.delivery import Settings, deliver_due, retry_delay
from campaign.webhooks.emit import emit
from campaign.webhooks.models import DeliveryState, WebhookDelivery, WebhookSubscription
from campaign.webhooks.subscriptions import redeliver, rotate
from tests.conftest import START, Network
from tests.webhook_helpers import local_receiver, subscription

LOCAL = Settings(timeout=1.0, allowed=frozenset({"http", "private"}))


def _enrolled(session: Session, network: Network, now: datetime) -> None:
    data = {"participant_id": 7, "organisation_id": network.alpha.id, "pilot_group_id": None}
    emit(
        session, campaign_id=network.campaign.id, organisation_id=network.alpha.id,
        event_type="participant.enrolled", data=data, now=now,
    )  # fmt: skip
    session.commit()


def _delivery(session: Session) -> WebhookDelivery:
    session.expire_all()
    return session.scalars(select(WebhookDelivery)).one()


def test_a_delivery_is_signed_as_standard_webhooks_says(
    app: Flask, session: Session, network: Network
) -> None:
    now = datetime.now(UTC)  # the independent verifier compares the timestamp with its clock
    with local_receiver() as receiver, app.app_context():
        hook = subscription(session, network, network.alpha.id, receiver.url)
        _enrolled(session, network, now)
        assert deliver_due(session, now, LOCAL) == {"succeeded": 1}
    (got,) = receiver.received
    verified = Webhook(hook.secret).verify(got.body, got.headers)
    assert verified == {
        "type": "participant.enrolled",
        "timestamp": now.isoformat().replace("+00:00", "Z"),
        "data": {
            "campaign_id": network.campaign.id, "participant_id": 7,
            "organisation_id": network.alpha.id, "pilot_group_id": None, "import_id": None,
        },
    }  # fmt: skip
    delivery = _delivery(session)
    assert got.headers["webhook-id"] == delivery.webhook_id
    assert got.headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert got.headers["content-type"] == "application/json"
    assert delivery.state is DeliveryState.SUCCEEDED and delivery.last_status == 200
    assert delivery.delivered_at == now and delivery.response_ms is not None


def test_after_rotation_both_secrets_sign_for_a_day(
    app: Flask, session: Session, network: Network
) -> None:
    now = datetime.now(UTC)
    with local_receiver() as receiver, app.app_context():
        hook = subscription(session, network, None, receiver.url)
        old = hook.secret
        new = rotate(session, hook, network.lead, now)
        _enrolled(session, network, now)
        deliver_due(session, now, LOCAL)
    (got,) = receiver.received
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        Webhook(secret).verify(got.body, got.headers)  # raises if no signature matches
    assert hook.previous_secret_until == now + timedelta(hours=24)


def test_a_failing_receiver_is_retried_with_back_off_and_recovers(
    app: Flask, session: Session, network: Network
) -> None:
    with local_receiver(status=500) as receiver, app.app_context():
        subscription(session, network, network.alpha.id, receiver.url)
        _enrolled(session, network, START)
        assert deliver_due(session, START, LOCAL) == {"retrying": 1}
        delivery = _delivery(session)
        assert delivery.last_status == 500 and delivery.attempts == 1
        assert delivery.next_attempt_at == START + timedelta(seconds=30)
        assert "HTTP 500" in delivery.last_error
        assert deliver_due(session, START + timedelta(seconds=29), LOCAL) == {}  # not yet due
        receiver.status = 204
        assert deliver_due(session, START + timedelta(seconds=30), LOCAL) == {"succeeded": 1}
    assert len(receiver.received) == 2
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1  # the same message
    hook = session.scalars(select(WebhookSubscription)).one()
    assert hook.failures_in_a_row == 0 and hook.failing_since is None


def test_the_back_off_schedule_and_the_give_up_after_three_days() -> None:
    delays = [retry_delay(n) for n in range(1, 9)]
    assert delays[:5] == [
        timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=8),
        timedelta(minutes=32), timedelta(minutes=128),
    ]  # fmt: skip
    assert delays[6:] == [timedelta(hours=12)] * 2  # at most 12 hours apart


def test_a_delivery_is_given_up_after_three_days_of_failures(
    app: Flask, session: Session, network: Network
) -> None:
    moments = []
    with local_receiver(status=503) as receiver, app.app_context():
        subscription(session, network, network.alpha.id, receiver.url)
        _enrolled(session, network, START)
        now = START
        while _delivery(session).state is not DeliveryState.FAILED:
            moments.append(now)
            deliver_due(session, now, LOCAL)
            now = _delivery(session).next_attempt_at
    assert moments[-1] - moments[0] <= timedelta(days=3)
    assert moments[-1] + retry_delay(len(moments)) > START + timedelta(days=3)
    assert len(receiver.received) == len(moments) == 12  # the last at 71 h 22 min


def test_a_4xx_is_final_at_once_but_408_and_429_are_retried(
    app: Flask, session: Session, network: Network
) -> None:
    for status, state in ((404, DeliveryState.FAILED), (429, DeliveryState.RETRYING),
                          (408, DeliveryState.RETRYING), (410, DeliveryState.FAILED)):  # fmt: skip
        with local_receiver(status=status) as receiver, app.app_context():
            hook = subscription(session, network, network.alpha.id, receiver.url)
            _enrolled(session, network, START)
            deliver_due(session, START, LOCAL)
            session.expire_all()
            (delivery,) = session.scalars(
                select(WebhookDelivery).where(WebhookDelivery.subscription_id == hook.id)
            )
            assert (delivery.state, delivery.last_status) == (state, status)
            hook.is_enabled = False  # out of the way of the next status
            session.commit()


def test_a_hanging_receiver_is_given_up_at_the_timeout_and_retried(
    app: Flask, session: Session, network: Network
) -> None:
    with local_receiver() as receiver, app.app_context():
        receiver.hang = 3.0
        subscription(session, network, network.alpha.id, receiver.url)
        _enrolled(session, network, START)
        started = datetime.now(UTC)
        assert deliver_due(session, START, LOCAL) == {"retrying": 1}
        assert datetime.now(UTC) - started < timedelta(seconds=2.5)
        delivery = _delivery(session)
        assert delivery.last_status is None and "No answer within 1 seconds" in delivery.last_error
        receiver.hang = 0
        assert deliver_due(session, delivery.next_attempt_at, LOCAL) == {"succeeded": 1}


def test_a_redirect_is_not_followed(app: Flask, session: Session, network: Network) -> None:
    with local_receiver(status=307) as receiver, app.app_context():
        subscription(session, network, network.alpha.id, receiver.url)
        _enrolled(session, network, START)
        assert deliver_due(session, START, LOCAL) == {"retrying": 1}
    assert len(receiver.received) == 1


def test_a_receiver_failing_for_three_days_is_switched_off_and_its_owner_told(
    app: Flask, session: Session, network: Network
) -> None:
    with local_receiver(status=500) as receiver, app.app_context():
        hook = subscription(session, network, network.alpha.id, receiver.url)
        _enrolled(session, network, START)
        now = START
        while hook.is_enabled:
            deliver_due(session, now, LOCAL)
            session.expire_all()
            delivery = _delivery(session)
            if delivery.state is DeliveryState.FAILED:  # events keep coming; so do failures
                redeliver(session, delivery, None, now)
                session.commit()
            now = delivery.next_attempt_at
            hook = session.get(WebhookSubscription, hook.id)
        assert now - START >= timedelta(days=3) and hook.disabled_reason == "failing"
        attempts = len(receiver.received)
        _enrolled(session, network, now)
        assert deliver_due(session, now + timedelta(days=1), LOCAL) == {}  # nothing goes now
    assert len(receiver.received) == attempts
    (notice,) = session.scalars(select(Message).where(Message.kind == MessageKind.NOTICE))
    assert notice.recipient == network.rep_alpha.email
    assert notice.subject == "En webhook i Testöverenskommelsen har stängts av"
    assert receiver.url in notice.text_body and "HTTP 500" in notice.text_body
    assert f"/webhooks/{hook.id}" in notice.text_body


def test_a_claimed_delivery_is_not_sent_twice_while_its_lease_runs(
    app: Flask, session: Session, network: Network
) -> None:
    from campaign.webhooks.delivery import claim

    with local_receiver() as receiver, app.app_context():
        subscription(session, network, network.alpha.id, receiver.url)
        _enrolled(session, network, START)
        assert len(claim(session, START, LOCAL)) == 1
        session.commit()
        assert deliver_due(session, START + timedelta(seconds=60), LOCAL) == {}
        assert deliver_due(session, START + timedelta(minutes=3), LOCAL) == {"succeeded": 1}
    assert len(receiver.received) == 1
    assert json.loads(receiver.received[0].body)["type"] == "participant.enrolled"
