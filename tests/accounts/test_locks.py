"""Sign-in locks: the locked person is told how long, in their language and the campaign's time,
and another lead administrator can lift a lock (even one on the lead administrator)."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.accounts.models import Role, User
from campaign.audit import AuditEvent
from campaign.security import hash_password
from tests.conftest import PASSWORD, START, Network, csrf_token, sign_in
from tests.urls import staff

ELSEWHERE = {"REMOTE_ADDR": "192.0.2.77"}


def _login(client: FlaskClient, email: str, password: str, **environ: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_token(client)},
        environ_base=environ,
    )


def _lock(client: FlaskClient, email: str, **environ: str) -> None:
    for _ in range(5):
        assert _login(client, email, "wrong password", **environ).status_code == 200
    assert _login(client, email, PASSWORD, **environ).status_code == 429


def _unlock(client: FlaskClient, kind: str, value: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/sign-in-locks")
    return client.post(
        "/sign-in-locks/unlock", data={"csrf_token": token, "kind": kind, "value": value}
    )


def test_the_lock_tells_how_long_in_the_persons_language_and_the_campaigns_time(
    app: Flask, client: FlaskClient, network: Network, session: Session
) -> None:
    network.campaign.timezone = "Europe/Helsinki"  # an hour ahead of the server's default
    session.commit()
    _lock(client, "rep@alpha.se")  # at 09:00 UTC, so until 09:15 UTC, 11.15 in Helsinki
    app.extensions["campaign.clock"].advance(timedelta(minutes=3))
    locked = _login(client, "rep@alpha.se", PASSWORD)
    assert locked.status_code == 429 and locked.headers["Retry-After"] == "720"
    text = "För många misslyckade försök. Försök igen om 12 minuter, kl. 11.15."
    assert text in locked.get_data(as_text=True)
    client.post("/language", data={"language": "en", "csrf_token": csrf_token(client)})
    app.extensions["campaign.clock"].advance(timedelta(minutes=11, seconds=30))
    locked = _login(client, "rep@alpha.se", PASSWORD)
    text = "Too many failed attempts. Try again in 1 minute, at 11:15."
    assert text in locked.get_data(as_text=True)


def test_another_lead_admin_unlocks_the_lead_admin(
    app: Flask, client: FlaskClient, network: Network, session: Session
) -> None:
    session.add(
        User(
            email="lead2@alpha.se",
            name="Lars Lead",
            role=Role.LEAD_ADMIN,
            organisation=network.alpha,
            password_hash=hash_password(PASSWORD),
            created_at=START,
        )
    )
    session.commit()
    _lock(client, "lead@alpha.se")

    colleague = app.test_client()
    sign_in(colleague, "lead2@alpha.se")
    assert 'href="/sign-in-locks"' in colleague.get(staff("/network")).get_data(as_text=True)
    page = colleague.get("/sign-in-locks").get_data(as_text=True)
    assert "lead@alpha.se" in page and "kl. 10.15, om 15 minuter" in page
    response = _unlock(colleague, "address", "lead@alpha.se")
    assert response.status_code == 302
    page = colleague.get("/sign-in-locks").get_data(as_text=True)
    assert "lead@alpha.se kan försöka logga in igen." in page
    assert "Inget är spärrat just nu." in page

    assert _login(client, "lead@alpha.se", PASSWORD).status_code == 302
    assert client.get(staff("/network")).status_code == 200
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "sign_in.address_unlocked")
    ).one()
    assert event.actor_label == "lead2@alpha.se" and event.target == "lead@alpha.se"
    assert event.details == {"failures": 5} and event.organisation_id == network.alpha.id


def test_a_representative_cannot_see_or_lift_locks(
    app: Flask, client: FlaskClient, network: Network
) -> None:
    _lock(client, "lead@alpha.se")
    rep = app.test_client()
    sign_in(rep, "rep@alpha.se")
    assert rep.get("/sign-in-locks").status_code == 403
    response = rep.post(
        "/sign-in-locks/unlock",
        data={"csrf_token": csrf_token(rep), "kind": "address", "value": "lead@alpha.se"},
    )
    assert response.status_code == 403
    assert _login(client, "lead@alpha.se", PASSWORD).status_code == 429  # still locked
    assert 'href="/sign-in-locks"' not in rep.get(staff("/organisations/alpha")).get_data(
        as_text=True
    )


def test_lifting_an_address_leaves_the_clients_lock_and_the_other_way_round(
    app: Flask, client: FlaskClient, network: Network
) -> None:
    guesser = app.test_client()
    _lock(guesser, "rep@beta.se", **ELSEWHERE)
    for n in range(15):  # 20 failures from one client lock the client too
        _login(guesser, f"guess{n}@beta.se", "wrong password", **ELSEWHERE)
    lead = app.test_client()
    sign_in(lead, "lead@alpha.se")
    page = lead.get("/sign-in-locks").get_data(as_text=True)
    assert "rep@beta.se" in page and "192.0.2.77" in page

    _unlock(lead, "address", "rep@beta.se")
    page = lead.get("/sign-in-locks").get_data(as_text=True)
    assert 'value="rep@beta.se"' not in page and 'value="192.0.2.77"' in page
    assert _login(app.test_client(), "rep@beta.se", PASSWORD).status_code == 302
    assert _login(guesser, "lead@alpha.se", PASSWORD, **ELSEWHERE).status_code == 429

    _unlock(lead, "client", "192.0.2.77")
    assert "Inget är spärrat just nu." in lead.get("/sign-in-locks").get_data(as_text=True)
    assert _login(guesser, "lead@alpha.se", PASSWORD, **ELSEWHERE).status_code == 302


def test_unlocking_what_is_not_locked_or_nonsense_says_so(
    app: Flask, network: Network, session: Session
) -> None:
    lead = app.test_client()
    sign_in(lead, "lead@alpha.se")
    response = _unlock(lead, "address", "nobody@alpha.se")
    assert response.status_code == 302
    assert "nobody@alpha.se är inte spärrad längre." in lead.get("/sign-in-locks").get_data(
        as_text=True
    )
    for kind, value in (("everything", "x"), ("address", ""), ("client", "x" * 400)):
        response = _unlock(lead, kind, value)
        assert response.status_code == 302, (kind, value)
        page = lead.get("/sign-in-locks").get_data(as_text=True)
        assert "Välj en spärr att häva i listan." in page
    actions = session.scalars(select(AuditEvent.action)).all()
    assert not [action for action in actions if action.startswith("sign_in.")]
