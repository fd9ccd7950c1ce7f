"""The webhook pages: set up (the secret shown once), rotate, switch off and on, test, send again,
delete, each audited; an address refused with a sentence; and the scope of every route."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.audit import AuditEvent
from campaign.webhooks.emit import queue
from campaign.webhooks.models import DeliveryState, WebhookDelivery, WebhookSubscription
from tests.conftest import START, Network, csrf_token, sign_in
from tests.urls import staff
from tests.webhook_helpers import subscription

SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]+")


def _signed_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    sign_in(client, email)
    return client


def _post(client: FlaskClient, path: str, **data: object) -> object:
    return client.post(staff(path), data={"csrf_token": csrf_token(client), **data})


def _actions(session: Session) -> list[str]:
    session.expire_all()
    found = session.scalars(
        select(AuditEvent.action).where(AuditEvent.action.like("webhook.%")).order_by(AuditEvent.id)
    )
    return list(found)


def test_a_representative_sets_up_their_members_webhook_and_sees_the_secret_once(
    app: Flask, session: Session, network: Network
) -> None:
    client = _signed_in(app, network.rep_alpha.email)
    page = client.get(staff("/organisations/alpha/webhooks")).get_data(as_text=True)
    assert "Webhooks för Alpha kommun" in page and "participant.enrolled" in page
    response = _post(
        client, "/organisations/alpha/webhooks", url=" http://127.0.0.1:9/in ",
        events=["participant.enrolled", "rsvp.changed"],
    )  # fmt: skip
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "Kopiera dess hemlighet nu" in body
    hook = session.scalars(select(WebhookSubscription)).one()
    assert SECRET.search(body).group(0) == hook.secret
    assert (hook.organisation_id, hook.url) == (network.alpha.id, "http://127.0.0.1:9/in")
    assert hook.events == {"participant.enrolled", "rsvp.changed"}
    assert hook.created_by_id == network.rep_alpha.id
    again = client.get(staff(f"/webhooks/{hook.id}")).get_data(as_text=True)
    assert hook.secret not in again and "whsec_" not in again
    listed = client.get(staff("/organisations/alpha/webhooks")).get_data(as_text=True)
    assert "http://127.0.0.1:9/in" in listed and hook.secret not in listed
    assert _actions(session) == ["webhook.created"]


def test_an_address_inside_the_network_is_refused_with_a_sentence_and_nothing_saved(
    app: Flask, session: Session, network: Network
) -> None:
    app.config["CAMPAIGN_WEBHOOKS_ALLOW"] = None  # production: https on public addresses only
    client = _signed_in(app, network.lead.email)
    for url, says in (
        ("https://10.0.0.5/in", "Adressen 10.0.0.5 ligger i ett internt nät"),
        ("https://localhost/in", "ligger i ett internt nät"),
        ("http://93.184.215.14/in", "Adressen måste börja med https://"),
    ):
        response = _post(client, "/webhooks", url=url, events=["import.applied"])
        assert response.status_code == 200 and says in response.get_data(as_text=True)
    response = _post(client, "/webhooks", url="https://93.184.215.14/in")
    assert "Välj minst en händelse." in response.get_data(as_text=True)
    assert session.scalars(select(WebhookSubscription)).all() == []


def test_rotate_switch_off_and_on_test_send_again_and_delete_are_audited(
    app: Flask, session: Session, network: Network
) -> None:
    hook = subscription(session, network, None, "http://127.0.0.1:9/all")
    old = hook.secret
    done = queue(
        session,
        hook,
        "test",
        {"campaign_id": network.campaign.id, "subscription_id": hook.id},
        START,
    )
    done.state, done.attempts = DeliveryState.FAILED, 3
    session.commit()
    client = _signed_in(app, network.lead.email)
    rotated = _post(client, f"/webhooks/{hook.id}/change", action="rotate").get_data(as_text=True)
    session.expire_all()
    hook = session.get(WebhookSubscription, hook.id)
    assert SECRET.search(rotated).group(0) == hook.secret != old and hook.previous_secret == old
    _post(client, f"/webhooks/{hook.id}/change", action="disable")
    session.expire_all()
    assert not session.get(WebhookSubscription, hook.id).is_enabled
    _post(client, f"/webhooks/{hook.id}/change", action="enable")
    _post(client, f"/webhooks/{hook.id}/change", action="test")
    _post(client, f"/webhooks/{hook.id}/deliveries/{done.id}/redeliver")
    session.expire_all()
    assert session.get(WebhookDelivery, done.id).state is DeliveryState.PENDING
    assert len(session.scalars(select(WebhookDelivery)).all()) == 2  # the test event
    assert _post(client, f"/webhooks/{hook.id}/change", action="nonsense").status_code == 400
    response = _post(client, f"/webhooks/{hook.id}/change", action="delete")
    assert response.headers["Location"].endswith(staff("/webhooks"))
    session.expire_all()
    assert session.scalars(select(WebhookSubscription)).all() == []
    assert _actions(session) == [
        "webhook.secret_rotated", "webhook.disabled", "webhook.enabled", "webhook.test_sent",
        "webhook.redelivered", "webhook.deleted",
    ]  # fmt: skip


def test_the_delivery_log_is_paged_latest_first(
    app: Flask, session: Session, network: Network
) -> None:
    hook = subscription(session, network, network.alpha.id, "http://127.0.0.1:9/in")
    for n in range(55):
        queue(
            session, hook, "test", {"campaign_id": network.campaign.id, "subscription_id": n}, START
        )
    session.commit()
    last = session.scalars(select(WebhookDelivery.webhook_id).order_by(WebhookDelivery.id)).all()
    client = _signed_in(app, network.rep_alpha.email)
    first = client.get(staff(f"/webhooks/{hook.id}")).get_data(as_text=True)
    second = client.get(staff(f"/webhooks/{hook.id}?page=2")).get_data(as_text=True)
    assert last[-1] in first and last[0] not in first
    assert last[0] in second and "Sida 2 av 2" in second


def test_a_representative_never_reaches_another_members_or_the_campaigns_webhooks(
    app: Flask, session: Session, network: Network
) -> None:
    wide = subscription(session, network, None, "https://hooks.example.se/CAMPAIGN-WIDE")
    alphas = subscription(session, network, network.alpha.id, "https://hooks.alpha.se/ALPHA")
    delivery = queue(
        session, alphas, "test", {"campaign_id": network.campaign.id, "subscription_id": 1}, START
    )
    session.commit()
    beta = _signed_in(app, network.rep_beta.email)
    alpha = _signed_in(app, network.rep_alpha.email)
    for client, hook in ((beta, alphas), (beta, wide), (alpha, wide)):
        assert client.get(staff(f"/webhooks/{hook.id}")).status_code == 404
        for action in ("delete", "disable", "rotate", "test"):
            changed = _post(client, f"/webhooks/{hook.id}/change", action=action)
            assert changed.status_code == 404
    resent = _post(beta, f"/webhooks/{alphas.id}/deliveries/{delivery.id}/redeliver")
    assert resent.status_code == 404
    assert beta.get(staff("/organisations/alpha/webhooks")).status_code == 404
    assert alpha.get(staff("/webhooks")).status_code == 403
    own = alpha.get(staff("/organisations/alpha/webhooks")).get_data(as_text=True)
    assert "ALPHA" in own and "CAMPAIGN-WIDE" not in own
    theirs = beta.get(staff("/organisations/beta/webhooks")).get_data(as_text=True)
    assert "ALPHA" not in theirs and "CAMPAIGN-WIDE" not in theirs
    # Another member's delivery is not reachable through one's own receiver either.
    betas = subscription(session, network, network.beta.id, "https://hooks.beta.se/in")
    session.commit()
    crossed = _post(beta, f"/webhooks/{betas.id}/deliveries/{delivery.id}/redeliver")
    assert crossed.status_code == 404
    session.expire_all()
    assert session.get(WebhookSubscription, alphas.id).is_enabled
    assert session.get(WebhookSubscription, wide.id).previous_secret is None
    assert _actions(session) == []
    lead = _signed_in(app, network.lead.email).get(staff("/webhooks")).get_data(as_text=True)
    assert "CAMPAIGN-WIDE" in lead and "ALPHA" in lead
