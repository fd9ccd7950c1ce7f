"""SSRF: only https receivers on public addresses are called, when a receiver is saved and again
at each delivery against the address connected to; CAMPAIGN_WEBHOOKS_ALLOW lifts it for tests."""

from __future__ import annotations

import ipaddress

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.webhooks import receivers
from campaign.webhooks.delivery import Settings, deliver_due
from campaign.webhooks.models import DeliveryState, WebhookDelivery
from campaign.webhooks.sending import post
from campaign.webhooks.subscriptions import send_test
from tests.conftest import START, Network
from tests.webhook_helpers import local_receiver, subscription


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("https://127.0.0.1/hook", "127.0.0.1 is inside a network"),
        ("https://10.1.2.3/hook", "10.1.2.3 is inside a network"),
        ("https://192.168.0.1/hook", "inside a network"),
        ("https://169.254.169.254/latest/meta-data", "169.254.169.254 is inside a network"),
        ("https://[::1]/hook", "::1 is inside a network"),
        ("https://[::ffff:127.0.0.1]/hook", "inside a network"),
        ("https://0.0.0.0/hook", "inside a network"),
        ("https://224.0.0.1/hook", "inside a network"),
        ("https://localhost/hook", "inside a network"),  # a name resolving to 127.0.0.1
        ("http://93.184.215.14/hook", "must start with https://"),
        ("ftp://93.184.215.14/hook", "must start with https://"),
        ("https://user:secret@93.184.215.14/hook", "user name or password"),
        ("https://no-such-host.invalid/hook", "could not be found"),
        ("https://93.184.215.14:x/hook", "not a URL"),
    ],
)
def test_a_receiver_inside_the_network_or_without_https_is_refused(url: str, says: str) -> None:
    with pytest.raises(receivers.Refused) as refused:
        receivers.check(url, ())
    assert says in str(refused.value.args[0])


def test_a_public_https_address_is_accepted() -> None:
    assert receivers.check(" https://93.184.215.14/hook ", ()) == "https://93.184.215.14/hook"


def test_the_setting_allows_http_and_private_addresses_for_tests() -> None:
    assert receivers.check("http://127.0.0.1:8080/hook", {"http", "private"})
    with pytest.raises(receivers.Refused):
        receivers.check("http://127.0.0.1:8080/hook", {"private"})
    with pytest.raises(receivers.Refused):
        receivers.check("http://127.0.0.1:8080/hook", {"http"})


def test_every_internal_range_is_refused() -> None:
    for text in ("100.64.0.1", "172.16.0.1", "fe80::1", "fc00::1", "240.0.0.1", "::"):
        with pytest.raises(receivers.Refused):
            receivers.refuse_internal(ipaddress.ip_address(text))


def test_a_delivery_checks_the_address_again_and_sends_nothing_inside(
    app: Flask, session: Session, network: Network
) -> None:
    """Saved while allowed (or resolving elsewhere then): at delivery the address connected to
    is checked again, and the request never leaves."""
    with local_receiver() as receiver, app.app_context():
        hook = subscription(
            session, network, network.alpha.id, receiver.url.replace("127.0.0.1", "localhost")
        )
        send_test(session, hook, None, START)
        session.commit()
        strict = Settings(timeout=1.0, allowed=frozenset({"http"}))
        assert deliver_due(session, START, strict) == {"retrying": 1}
        delivery = session.scalars(select(WebhookDelivery)).one()
        assert delivery.state is DeliveryState.RETRYING and delivery.last_status is None
        assert "is inside a network" in delivery.last_error
    assert receiver.received == []


def test_post_refuses_without_connecting() -> None:
    with local_receiver() as receiver:
        answer = post(receiver.url, b"{}", {}, 1.0, ())
    assert answer.status is None and "https://" in answer.error
    assert receiver.received == []
