"""Single sign-on against a real OpenID provider (node-oidc-provider on 127.0.0.1), through
the Flask test client: who gets which account and role, and what is refused (a token for
another client, an expired one, a replayed state or nonce) with a clear sentence and no
session."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign import config_sso, create_app
from campaign.accounts.models import IdentityLink, Role, User
from campaign.config import ConfigError
from campaign.timing import FixedClock, clock_of
from tests.conftest import PASSWORD, Network, close_app, csrf_token, make_app, sign_in
from tests.oidc import flows
from tests.oidc.flows import BASE, NO_ACCOUNT, UNVERIFIED
from tests.oidc.provider import Provider
from tests.urls import staff


@pytest.fixture
def app(sso_app: Flask) -> Flask:
    return sso_app


def test_the_lead_admin_signs_in_and_is_linked(
    client: FlaskClient, network: Network, session: Session
) -> None:
    answer = flows.sign_in_through(client, "lead")
    assert answer.status_code == 302
    assert client.get(staff("/network")).status_code == 200  # the campaign's lead page
    link = session.scalar(select(IdentityLink))
    assert link is not None and (link.user_id, link.subject) == (network.lead.id, "lead")
    session.refresh(network.lead)
    assert network.lead.last_login_at is not None
    assert flows.actions(session) == ["account.sso_linked", "login"]


def test_a_link_finds_its_account_whatever_its_address_becomes(
    client: FlaskClient, network: Network, session: Session, app: Flask
) -> None:
    flows.sign_in_through(client, "lead")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    network.lead.email = "lea.lead@alpha.se"
    session.commit()
    assert flows.sign_in_through(client, "lead").status_code == 302
    assert client.get(staff("/network")).status_code == 200
    assert session.scalars(select(User.email)).all().count("lea.lead@alpha.se") == 1


def test_a_representative_sees_only_their_member(client: FlaskClient, network: Network) -> None:
    flows.sign_in_through(client, "rep")
    assert client.get(staff("/organisations/beta")).status_code == 200
    assert client.get(staff("/organisations/alpha")).status_code == 404
    assert client.get(staff("/network/settings")).status_code == 403


def test_a_token_signed_again_by_the_tests_provider_is_taken(
    client: FlaskClient, network: Network, provider: Provider, session: Session
) -> None:
    """The control of the refusals below: a token the provider's test hook has changed and
    signed again is taken when what changed is harmless, so each refusal is the claim's."""
    callback = flows.callback(client, "lead")
    provider.tamper(claims={"name": "Lea Omsignerad"})
    assert client.get(callback).status_code == 302
    assert client.get("/account").status_code == 200


@pytest.mark.parametrize(
    ("claims", "refused_for"),
    [
        ({"aud": "another-client", "azp": "campaign"}, "'aud'"),  # Authlib alone takes this
        ({"aud": ["another-client"]}, "'aud'"),
        ({"iss": "http://127.0.0.1:1"}, "'iss'"),
    ],
)
def test_a_token_for_another_client_or_from_another_issuer_is_refused(
    client: FlaskClient,
    network: Network,
    provider: Provider,
    session: Session,
    claims: dict,
    refused_for: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    callback = flows.callback(client, "lead")
    provider.tamper(claims=claims)
    answer = client.get(callback)
    assert answer.status_code == 400 and UNVERIFIED in answer.text
    assert f'InvalidClaimError "invalid_claim: Invalid claim: {refused_for}"' in (
        flows.refusal_logged(caplog)
    )
    assert client.get("/account").status_code == 302  # no session
    assert "login" not in flows.actions(session)


@pytest.mark.parametrize(("minutes", "taken"), [(61, True), (63, False)])
def test_an_expired_token_is_refused_by_the_services_clock(
    client: FlaskClient,
    network: Network,
    app: Flask,
    minutes: int,
    taken: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The provider's ID tokens live an hour, and Authlib allows clocks two minutes apart: a
    token a minute within that is taken, one a minute past it is refused for its expiry (not
    its issuing time, nonce or signature)."""
    callback = flows.callback(client, "lead")
    clock = clock_of(app)
    assert isinstance(clock, FixedClock)
    clock.advance(timedelta(minutes=minutes))
    answer = client.get(callback)
    if taken:
        assert answer.status_code == 302 and client.get("/account").status_code == 200
        return
    assert answer.status_code == 400 and UNVERIFIED in answer.text
    assert "ExpiredTokenError" in flows.refusal_logged(caplog)
    assert client.get("/account").status_code == 302


def test_a_replayed_state_is_refused(
    client: FlaskClient,
    network: Network,
    app: Flask,
    provider: Provider,
    caplog: pytest.LogCaptureFixture,
) -> None:
    flows.start(client)  # a flow whose state this session keeps, unused
    callback = flows.callback(client, "lead")
    with client.session_transaction() as cookie:
        copied = dict(cookie)  # what an onlooker might keep of this session
    provider.tamper(claims={"aud": "another-client"})
    assert client.get(callback).status_code == 400  # the first use fails after the state
    assert "'aud'" in flows.refusal_logged(caplog)
    again = client.get(callback)  # the state was spent at its first use, failed as it was
    assert again.status_code == 400 and UNVERIFIED in again.text
    assert "MismatchingStateError" in flows.refusal_logged(caplog)
    assert client.get("/account").status_code == 302
    other = app.test_client()
    with other.session_transaction() as cookie:
        cookie.update(copied)  # the state is there again (a cookie is no store that forgets)
    assert other.get(callback).status_code == 400
    assert "invalid_grant" in flows.refusal_logged(caplog)  # but the code is spent
    assert other.get("/account").status_code == 302
    assert flows.sign_in_through(client, "lead").status_code == 302  # a new flow goes through


def test_a_replayed_nonce_is_refused(
    client: FlaskClient, network: Network, provider: Provider, caplog: pytest.LogCaptureFixture
) -> None:
    flows.sign_in_through(client, "lead")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    callback = flows.callback(client, "lead")
    provider.tamper(replay=True)  # the last ID token again, with the last sign-in's nonce
    answer = client.get(callback)
    assert answer.status_code == 400 and UNVERIFIED in answer.text
    assert "InvalidClaimError \"invalid_claim: Invalid claim: 'nonce'\"" in (
        flows.refusal_logged(caplog)
    )
    assert client.get("/account").status_code == 302


def test_an_account_is_created_only_for_a_configured_domain_with_a_mapped_role(
    app: Flask, network: Network, session: Session
) -> None:
    assert flows.sign_in_through(app.test_client(), "newcomer").status_code == 302
    created = session.scalar(select(User).where(User.email == "ny@beta.se"))
    assert created is not None and created.role is Role.MEMBER_REP
    assert created.organisation_id == network.beta.id and created.password_hash is None
    assert "account.created_by_sso" in flows.actions(session)
    for login in ("stranger", "ungrouped"):  # gamma.se is not configured; no mapped group
        answer = flows.sign_in_through(app.test_client(), login)
        assert answer.status_code == 403 and NO_ACCOUNT in answer.text
    emails = set(session.scalars(select(User.email)))
    assert not {"someone@gamma.se", "nobody@beta.se"} & emails


def test_an_unverified_address_links_nothing(
    client: FlaskClient, network: Network, session: Session
) -> None:
    answer = flows.sign_in_through(client, "unverified")  # rep@beta.se's address, not verified
    assert answer.status_code == 403 and NO_ACCOUNT in answer.text
    assert session.scalar(select(IdentityLink)) is None


def test_the_claim_sets_the_role_at_each_sign_in(
    client: FlaskClient, network: Network, session: Session
) -> None:
    # rep@alpha.se, now in the lead group
    assert flows.sign_in_through(client, "promoted").status_code == 302
    session.refresh(network.rep_alpha)
    assert network.rep_alpha.role is Role.LEAD_ADMIN
    assert client.get(staff("/network/settings")).status_code == 200
    assert "account.sso_role_changed" in flows.actions(session)


def test_a_disabled_account_is_refused(
    client: FlaskClient, network: Network, session: Session
) -> None:
    network.rep_beta.is_enabled = False
    session.commit()
    answer = flows.sign_in_through(client, "rep")
    assert answer.status_code == 403 and "Ditt konto här är avstängt" in answer.text
    assert client.get("/account").status_code == 302


def test_the_providers_error_text_never_reaches_the_page(
    client: FlaskClient, network: Network
) -> None:
    flows.start(client)
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
