"""Single sign-on against a real OpenID provider (node-oidc-provider on 127.0.0.1), through
the Flask test client: who gets which account and role, and what is refused (a token for
another client, an expired one, a replayed state or nonce) with a clear sentence and no
session."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from campaign import config_sso, create_app
from campaign.accounts.models import IdentityLink, Role, User
from campaign.audit import AuditEvent
from campaign.config import ConfigError
from campaign.timing import FixedClock, clock_of, install_clock
from tests.conftest import PASSWORD, Network, close_app, csrf_token, make_app, sign_in
from tests.oidc.provider import Provider, running_provider, through_provider
from tests.urls import staff

BASE = "http://127.0.0.1:5000"  # the service's address in the test client
UNVERIFIED = "Inloggningen med Testkommunens konto avvisades"
NO_ACCOUNT = "Det finns inget konto här för personen"


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    with running_provider(tmp_path_factory.mktemp("oidc"), [f"{BASE}/login/sso/callback"]) as p:
        yield p


@pytest.fixture
def app(database_url: str, tmp_path: Path, provider: Provider) -> Iterator[Flask]:
    """The service with single sign-on, its clock at today's time (the provider's tokens')."""
    app = make_app(database_url, tmp_path, CAMPAIGN_BASE_URL=BASE, **provider.settings())
    install_clock(app, FixedClock(datetime.fromtimestamp(int(datetime.now(UTC).timestamp()), UTC)))
    yield app
    close_app(app)


def _start(client: FlaskClient) -> str:
    """Follow the sign-in link; return the provider's address the service sends one to."""
    answer = client.get("/login/sso")
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def _callback(client: FlaskClient, login: str) -> str:
    """Start, sign `login` in at the provider and consent; return the service's callback path."""
    return through_provider(_start(client), login, BASE)[len(BASE) :]


def _sign_in(client: FlaskClient, login: str) -> TestResponse:
    return client.get(_callback(client, login))


def _actions(session: Session) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_the_lead_admin_signs_in_and_is_linked(
    client: FlaskClient, network: Network, session: Session
) -> None:
    answer = _sign_in(client, "lead")
    assert answer.status_code == 302
    assert client.get(staff("/network")).status_code == 200  # the campaign's lead page
    link = session.scalar(select(IdentityLink))
    assert link is not None and (link.user_id, link.subject) == (network.lead.id, "lead")
    session.refresh(network.lead)
    assert network.lead.last_login_at is not None
    assert _actions(session) == ["account.sso_linked", "login"]


def test_a_link_finds_its_account_whatever_its_address_becomes(
    client: FlaskClient, network: Network, session: Session, app: Flask
) -> None:
    _sign_in(client, "lead")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    network.lead.email = "lea.lead@alpha.se"
    session.commit()
    assert _sign_in(client, "lead").status_code == 302
    assert client.get(staff("/network")).status_code == 200
    assert session.scalars(select(User.email)).all().count("lea.lead@alpha.se") == 1


def test_a_representative_sees_only_their_member(client: FlaskClient, network: Network) -> None:
    _sign_in(client, "rep")
    assert client.get(staff("/organisations/beta")).status_code == 200
    assert client.get(staff("/organisations/alpha")).status_code == 404
    assert client.get(staff("/network/settings")).status_code == 403


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "another-client", "azp": "campaign"},  # Authlib alone would take this one
        {"aud": ["another-client"]},
        {"iss": "http://127.0.0.1:1"},
    ],
)
def test_a_token_for_another_client_or_from_another_issuer_is_refused(
    client: FlaskClient, network: Network, provider: Provider, session: Session, claims: dict
) -> None:
    callback = _callback(client, "lead")
    provider.tamper(claims=claims)
    answer = client.get(callback)
    assert answer.status_code == 400 and UNVERIFIED in answer.text
    assert client.get("/account").status_code == 302  # no session
    assert "login" not in _actions(session)


def test_an_expired_token_is_refused(client: FlaskClient, network: Network, app: Flask) -> None:
    callback = _callback(client, "lead")
    clock = clock_of(app)
    assert isinstance(clock, FixedClock)
    clock.advance(timedelta(hours=2))  # the provider's ID tokens live an hour
    answer = client.get(callback)
    assert answer.status_code == 400 and UNVERIFIED in answer.text
    assert client.get("/account").status_code == 302


def test_a_replayed_state_is_refused(client: FlaskClient, network: Network, app: Flask) -> None:
    _start(client)  # a flow whose state this session keeps, unused
    callback = _callback(client, "lead")
    with client.session_transaction() as cookie:
        copied = dict(cookie)  # what an onlooker might keep of this session
    assert client.get(callback).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    again = client.get(callback)  # the state was spent at its first use
    assert again.status_code == 400 and UNVERIFIED in again.text
    assert client.get("/account").status_code == 302
    other = app.test_client()
    with other.session_transaction() as cookie:
        cookie.update(copied)  # the state is there again, but the code is spent
    assert other.get(callback).status_code == 400
    assert other.get("/account").status_code == 302


def test_a_replayed_nonce_is_refused(
    client: FlaskClient, network: Network, provider: Provider
) -> None:
    _sign_in(client, "lead")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    callback = _callback(client, "lead")
    provider.tamper(replay=True)  # the last ID token again, with the last sign-in's nonce
    answer = client.get(callback)
    assert answer.status_code == 400 and UNVERIFIED in answer.text
    assert client.get("/account").status_code == 302


def test_an_account_is_created_only_for_a_configured_domain_with_a_mapped_role(
    app: Flask, network: Network, session: Session
) -> None:
    assert _sign_in(app.test_client(), "newcomer").status_code == 302
    created = session.scalar(select(User).where(User.email == "ny@beta.se"))
    assert created is not None and created.role is Role.MEMBER_REP
    assert created.organisation_id == network.beta.id and created.password_hash is None
    assert "account.created_by_sso" in _actions(session)
    for login in ("stranger", "ungrouped"):  # gamma.se is not configured; no mapped group
        answer = _sign_in(app.test_client(), login)
        assert answer.status_code == 403 and NO_ACCOUNT in answer.text
    emails = set(session.scalars(select(User.email)))
    assert not {"someone@gamma.se", "nobody@beta.se"} & emails


def test_an_unverified_address_links_nothing(
    client: FlaskClient, network: Network, session: Session
) -> None:
    answer = _sign_in(client, "unverified")  # rep@beta.se's address, not verified
    assert answer.status_code == 403 and NO_ACCOUNT in answer.text
    assert session.scalar(select(IdentityLink)) is None


def test_the_claim_sets_the_role_at_each_sign_in(
    client: FlaskClient, network: Network, session: Session
) -> None:
    assert _sign_in(client, "promoted").status_code == 302  # rep@alpha.se, now in the lead group
    session.refresh(network.rep_alpha)
    assert network.rep_alpha.role is Role.LEAD_ADMIN
    assert client.get(staff("/network/settings")).status_code == 200
    assert "account.sso_role_changed" in _actions(session)


def test_a_disabled_account_is_refused(
    client: FlaskClient, network: Network, session: Session
) -> None:
    network.rep_beta.is_enabled = False
    session.commit()
    answer = _sign_in(client, "rep")
    assert answer.status_code == 403 and "Ditt konto här är avstängt" in answer.text
    assert client.get("/account").status_code == 302


def test_the_providers_error_text_never_reaches_the_page(
    client: FlaskClient, network: Network
) -> None:
    _start(client)
    answer = client.get(
        "/login/sso/callback?error=access_denied&error_description=%3Cscript%3Eevil%3C/script%3E"
    )
    assert answer.status_code == 400 and UNVERIFIED in answer.text
    main = answer.text.split("<main", 1)[1].split("</main>", 1)[0]
    assert "evil" not in main and "access_denied" not in main and "<script>" not in answer.text


def test_the_login_page_offers_the_provider(client: FlaskClient) -> None:
    page = client.get("/login").text
    assert "Logga in med Testkommunens konto" in page and 'name="password"' in page


@pytest.fixture
def sso_only(database_url: str, tmp_path: Path, provider: Provider) -> Iterator[Flask]:
    settings = {**provider.settings(), "CAMPAIGN_PASSWORD_LOGIN": "off"}
    app = make_app(database_url, tmp_path / "sso-only", CAMPAIGN_BASE_URL=BASE, **settings)
    yield app
    close_app(app)


def test_password_login_switched_off(sso_only: Flask, network: Network) -> None:
    client = sso_only.test_client()
    page = client.get("/login").text
    assert "Logga in med Testkommunens konto" in page and 'name="password"' not in page
    token = csrf_token(client)
    answer = client.post(
        "/login", data={"email": network.lead.email, "password": PASSWORD, "csrf_token": token}
    )
    off = "Inloggning med lösenord är avstängd här. Logga in med Testkommunens konto i stället."
    assert answer.status_code == 403 and off in answer.text
    assert client.get("/account").status_code == 302
    for path in ("/password/forgot", "/password/reset/anything", "/invitation/anything"):
        refused = client.get(path)
        assert refused.status_code == 403 and off in refused.text, path
    with sso_only.app_context():
        sso_only.config["CAMPAIGN_PASSWORD_LOGIN"] = "on"  # in as a person who has a password
        sign_in(client, network.lead.email)
        sso_only.config["CAMPAIGN_PASSWORD_LOGIN"] = "off"
    assert 'name="password-new_password"' not in client.get("/account").text
    changed = {"csrf_token": csrf_token(client, "/account"), "password-current_password": PASSWORD,
               "password-new_password": "another long password", "password-confirm_password":
               "another long password"}  # fmt: skip
    assert off in client.post("/account", data=changed).text


def test_too_many_failed_sign_ins_lock_the_client(client: FlaskClient, network: Network) -> None:
    for _try in range(20):
        assert client.get("/login/sso/callback?code=x&state=forged").status_code == 400
    answer = client.get("/login/sso/callback?code=x&state=forged")
    assert answer.status_code == 429 and "För många misslyckade försök" in answer.text


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"CAMPAIGN_OIDC_ISSUER": "https://idp.example.se"}, "CAMPAIGN_OIDC_CLIENT_ID"),
        ({"CAMPAIGN_PASSWORD_LOGIN": "off"}, "CAMPAIGN_PASSWORD_LOGIN"),
        ({"CAMPAIGN_PASSWORD_LOGIN": "nej"}, "CAMPAIGN_PASSWORD_LOGIN"),
        ({"CAMPAIGN_OIDC_ISSUER": "idp.example.se"}, "CAMPAIGN_OIDC_ISSUER"),
        ({"CAMPAIGN_OIDC_ROLES": "admins=boss of alpha"}, "CAMPAIGN_OIDC_ROLES"),
        ({"CAMPAIGN_OIDC_DOMAINS": "kungalv"}, "CAMPAIGN_OIDC_DOMAINS"),
    ],
)
def test_a_bad_setting_stops_start_up_naming_it(
    tmp_path: Path, settings: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigError, match=named):
        create_app({"INSTANCE_PATH": str(tmp_path), "CAMPAIGN_DATABASE_URL": "sqlite://",
                    "CAMPAIGN_SECRET_KEY": "x", **settings})  # fmt: skip


def test_the_role_mapping_reads_in_the_order_written() -> None:
    assert config_sso.roles(
        "a=lead_admin of alpha;\n b = member_rep of beta; a=member_rep of x"
    ) == {
        "a": ("lead_admin", "alpha"),
        "b": ("member_rep", "beta"),
    }
