"""Signing in and out, CSRF on every form, hardened session cookies, one's own account."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.accounts.models import User
from campaign.audit import AuditEvent
from campaign.security import verify_password
from tests.conftest import PASSWORD, Network, csrf_token, sign_in
from tests.urls import staff


def _login(client: FlaskClient, email: str, password: str, next_url: str = ""):  # type: ignore[no-untyped-def]
    url = f"/login?next={next_url}" if next_url else "/login"
    return client.post(
        url, data={"email": email, "password": password, "csrf_token": csrf_token(client)}
    )


def test_login_page_is_swedish_by_default(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="sv">' in page
    assert "Logga in" in page and "E-postadress" in page and "Lösenord" in page


def test_login_and_logout(client: FlaskClient, network: Network, session: Session) -> None:
    response = _login(client, "LEAD@alpha.se ", PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get(staff("/network")).status_code == 200
    assert client.get("/logout").status_code == 405  # signing out changes state: POST only
    response = client.post("/logout", data={"csrf_token": csrf_token(client, staff("/network"))})
    assert response.headers["Location"] == "/login"
    assert client.get(staff("/network")).status_code == 302
    actions = session.scalars(select(AuditEvent.action)).all()
    assert actions == ["login"]
    user = session.scalars(select(User).where(User.email == "lead@alpha.se")).one()
    assert user.last_login_at is not None


def test_wrong_password_and_unknown_address_get_the_same_answer(
    client: FlaskClient, network: Network
) -> None:
    wrong = _login(client, "lead@alpha.se", "not the password")
    unknown = _login(client, "nobody@alpha.se", "not the password")
    assert wrong.status_code == unknown.status_code == 200
    assert "E-postadressen eller lösenordet är fel." in wrong.get_data(as_text=True)
    assert "E-postadressen eller lösenordet är fel." in unknown.get_data(as_text=True)
    assert client.get(staff("/network")).status_code == 302


def test_disabled_account_cannot_sign_in(
    client: FlaskClient, network: Network, session: Session
) -> None:
    network.lead.is_enabled = False
    session.commit()
    assert _login(client, "lead@alpha.se", PASSWORD).status_code == 200
    assert client.get(staff("/network")).status_code == 302


def test_form_without_csrf_token_is_refused(client: FlaskClient, network: Network) -> None:
    response = client.post("/login", data={"email": "lead@alpha.se", "password": PASSWORD})
    assert response.status_code == 400
    assert "Formuläret har gått ut" in response.get_data(as_text=True)
    assert client.get(staff("/network")).status_code == 302


def test_csrf_token_of_another_session_is_refused(
    app: Flask, client: FlaskClient, network: Network
) -> None:
    foreign_token = csrf_token(app.test_client())
    response = client.post(
        "/login", data={"email": "lead@alpha.se", "password": PASSWORD, "csrf_token": foreign_token}
    )
    assert response.status_code == 400


def test_signed_in_forms_need_csrf_too(client: FlaskClient, network: Network) -> None:
    sign_in(client, "rep@alpha.se")
    response = client.post(staff("/organisations/alpha/facts"), data={"meeting_software": "X"})
    assert response.status_code == 400


def test_session_cookie_is_hardened(client: FlaskClient, network: Network) -> None:
    response = _login(client, "lead@alpha.se", PASSWORD)
    cookie = next(
        v
        for k, v in response.headers.items()
        if k == "Set-Cookie" and v.startswith("campaign_session=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_next_goes_to_local_pages_only(client: FlaskClient, network: Network) -> None:
    response = _login(client, "lead@alpha.se", PASSWORD, next_url=staff("/organisations/beta"))
    assert response.headers["Location"] == staff("/organisations/beta")
    for evil in ("//evil.example", "https://evil.example/", "/\\evil.example"):
        client.post("/logout", data={"csrf_token": csrf_token(client, staff("/network"))})
        response = _login(client, "lead@alpha.se", PASSWORD, next_url=evil)
        assert response.headers["Location"] == "/", evil


def test_change_password(client: FlaskClient, network: Network, session: Session) -> None:
    sign_in(client, "rep@beta.se")
    token = csrf_token(client, "/account")
    new = "a much longer new password"
    response = client.post(
        "/account",
        data={
            "password-csrf_token": token,
            "password-current_password": "wrong",
            "password-new_password": new,
            "password-confirm_password": new,
        },
    )
    assert "Det nuvarande lösenordet är fel." in response.get_data(as_text=True)
    response = client.post(
        "/account",
        data={
            "password-csrf_token": token,
            "password-current_password": PASSWORD,
            "password-new_password": "short",
            "password-confirm_password": "short",
        },
    )
    assert response.status_code == 200
    assert 'id="password-new_password-error"' in response.get_data(as_text=True)
    response = client.post(
        "/account",
        data={
            "password-csrf_token": token,
            "password-current_password": PASSWORD,
            "password-new_password": new,
            "password-confirm_password": new,
        },
    )
    assert response.status_code == 302
    session.expire_all()
    assert verify_password(session.get(User, network.rep_beta.id).password_hash, new)


def test_language_switch_and_profile(
    client: FlaskClient, network: Network, session: Session
) -> None:
    response = client.post(
        "/language", data={"language": "en", "next": "/login", "csrf_token": csrf_token(client)}
    )
    assert response.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in page and "Sign in" in page and "Logga in" not in page
    sign_in(client, "rep@beta.se")
    page = client.get("/account").get_data(as_text=True)
    assert "Ändra" not in page and "Byt lösenord" in page  # the account's own language: sv
    client.post(
        "/account",
        data={
            "profile-csrf_token": csrf_token(client, "/account"),
            "profile-name": "Bertil Rep",
            "profile-language": "en",
        },
    )
    page = client.get("/account").get_data(as_text=True)
    assert "Change password" in page and "Bertil Rep" in page
    session.expire_all()
    assert session.get(User, network.rep_beta.id).language == "en"


def test_security_headers_on_every_page(client: FlaskClient) -> None:
    for path in ("/login", "/healthz", "/no-such-page"):
        headers = client.get(path).headers
        assert "script-src 'self'" in headers["Content-Security-Policy"], path
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], path
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert "Strict-Transport-Security" not in headers  # plain http: HSTS would lock it out


def test_https_deployments_send_hsts_and_secure_cookies(database_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import close_app, make_app

    app = make_app(database_url, tmp_path, CAMPAIGN_BASE_URL="https://kampanj.example.se")
    try:
        response = app.test_client().get("/login")
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
        session_cookie = next(
            c for c in response.headers.getlist("Set-Cookie") if c.startswith("campaign_session=")
        )
        assert "Secure" in session_cookie
    finally:
        close_app(app)


def test_failed_logins_lock_the_address_for_a_while(
    app: Flask, client: FlaskClient, network: Network
) -> None:
    from datetime import timedelta

    for _ in range(5):
        assert _login(client, "rep@alpha.se", "wrong password").status_code == 200
    locked = _login(client, "rep@alpha.se", PASSWORD)  # even the right password waits
    assert locked.status_code == 429
    text = "För många misslyckade försök. Försök igen om 15 minuter, kl. 10.15."
    assert text in locked.get_data(as_text=True)
    # An address without an account is locked the same way: the lock reveals nothing.
    for _ in range(5):
        _login(client, "nobody@alpha.se", "wrong password")
    assert _login(client, "nobody@alpha.se", "x").status_code == 429
    # Others are not affected, and the lock ends after 15 minutes.
    assert _login(app.test_client(), "rep@beta.se", PASSWORD).status_code == 302
    app.extensions["campaign.clock"].advance(timedelta(minutes=15, seconds=1))
    assert _login(client, "rep@alpha.se", PASSWORD).status_code == 302


def test_one_client_trying_many_addresses_is_locked(
    app: Flask, client: FlaskClient, network: Network
) -> None:
    for n in range(20):
        _login(client, f"guess{n}@alpha.se", "wrong password")
    assert _login(client, "lead@alpha.se", PASSWORD).status_code == 429
    other = app.test_client()
    response = other.post(
        "/login",
        data={"email": "lead@alpha.se", "password": PASSWORD, "csrf_token": csrf_token(other)},
        environ_base={"REMOTE_ADDR": "192.0.2.44"},
    )
    assert response.status_code == 302  # from another client the lead admin signs in
