"""The role and organisation a sign-in's claim gives, against a real OpenID provider
(node-oidc-provider on 127.0.0.1, its groups claim changed as the municipality's directory
would change it): made by the same rules as every other change of a role. The last lead
administrator keeps the role (and is told why), a demotion or a move ends the person's other
sessions, a move stops their API tokens, an operator is not changed, and each change or
refusal is audited with the claim that asked for it."""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from campaign import db
from campaign.accounts import roles
from campaign.accounts.models import IdentityLink, Role, User
from campaign.api.tokens import create, revoke
from campaign.db import engine_of
from campaign.network.models import Organisation
from campaign.timing import clock_of
from tests.api_helpers import call
from tests.conftest import FIXTURE_HASH, START, Network, SecondCampaign, csrf_token, sign_in
from tests.oidc import flows
from tests.oidc.provider import Provider
from tests.urls import staff

ALPHA = "/api/v1/campaigns/test/members/alpha/participants"
BETA = "/api/v1/campaigns/test/members/beta/participants"
LAST_LEAD = (
    "Testkommunens konto gör dig nu till representant, Alpha kommun, men du är den sista"
    " administratören för den ledande organisationen som kan logga in i Testöverenskommelsen."
)


@pytest.fixture
def app(sso_app: Flask) -> Flask:
    return sso_app


def _signed_in_elsewhere(app: Flask, email: str) -> FlaskClient:
    """Return another browser where the account signed in with its password."""
    other = app.test_client()
    sign_in(other, email)
    return other


def _signed_out(client: FlaskClient) -> bool:
    answer = client.get("/account")
    return answer.status_code == 302 and answer.headers["Location"].startswith("/login")


def _with_claim(client: FlaskClient, provider: Provider, login: str, **claims: object) -> str:
    """Sign `login` in with these claims in their ID token; return the page one lands on."""
    callback = flows.callback(client, login)
    provider.tamper(claims=claims)
    answer = client.get(callback, follow_redirects=True)
    assert answer.status_code == 200, answer.text
    return answer.text


def _second_lead(session: Session, network: Network) -> User:
    """Another lead administrator of Alpha, invited and without a password (as one the single
    sign-on makes): not one who can sign in, until linked to the provider."""
    user = User(email="lo@alpha.se", name="Lo Ledare", role=Role.LEAD_ADMIN,
                organisation=network.alpha, password_hash=None, created_at=START)  # fmt: skip
    session.add(user)
    session.commit()
    return user


def _link(session: Session, user: User, provider: Provider) -> None:
    session.add(IdentityLink(user=user, issuer=provider.issuer, subject="lo", created_at=START,
                             last_used_at=START))  # fmt: skip
    session.commit()


def test_a_claim_that_would_demote_the_last_lead_admin_keeps_the_role(
    client: FlaskClient, app: Flask, network: Network, session: Session, provider: Provider
) -> None:
    other = _signed_in_elsewhere(app, network.lead.email)
    page = _with_claim(client, provider, "lead", groups=["campaign-alpha"])  # lead group gone
    assert LAST_LEAD in page and "tills du har gjort någon annan till administratör" in page
    session.refresh(network.lead)
    assert (network.lead.role, network.lead.organisation_id) == (Role.LEAD_ADMIN, network.alpha.id)
    assert client.get(staff("/network/settings")).status_code == 200  # signed in, still lead
    assert not _signed_out(other)  # nothing changed, so the other session goes on
    [kept] = flows.events(session, "account.sso_role_kept")
    assert (kept.actor_id, kept.campaign_id) == (network.lead.id, network.campaign.id)
    assert kept.details == {
        "kept": "lead_admin@alpha", "claimed": "member_rep@alpha",
        "kept_because": "last_lead_admin", "claim": "groups", "claim_value": "campaign-alpha",
    }  # fmt: skip
    assert "account.sso_role_changed" not in flows.actions(session)
    log = client.get(staff("/network/audit?action=account.sso_role_kept")).text
    assert "Behöll sin roll trots anspråket från den enkla inloggningen" in log
    assert "den sista administratören för den ledande organisationen som kan logga in" in log
    assert "Värde i anspråket" in log and "campaign-alpha" in log


def test_a_claim_demotes_a_lead_admin_once_another_can_sign_in(
    client: FlaskClient, app: Flask, network: Network, session: Session, provider: Provider
) -> None:
    second = _second_lead(session, network)
    page = _with_claim(client, provider, "lead", groups=["campaign-alpha"])
    assert LAST_LEAD in page  # the other one cannot sign in yet
    _link(session, second, provider)  # now they can, through the provider
    other = _signed_in_elsewhere(app, network.lead.email)
    page = _with_claim(client, provider, "lead", groups=["campaign-alpha"])
    assert "Testkommunens konto har gjort dig till representant, Alpha kommun." in page
    session.refresh(network.lead)
    assert network.lead.role is Role.MEMBER_REP
    assert _signed_out(other)  # the rights shrank: every other session has ended
    assert client.get("/account").status_code == 200  # but not the one signing in
    assert client.get(staff("/network/settings")).status_code == 403
    [changed] = flows.events(session, "account.sso_role_changed")
    assert (changed.actor_id, changed.campaign_id) == (network.lead.id, network.campaign.id)
    assert changed.target == f"user:{network.lead.id}"
    assert changed.details == {
        "before": "lead_admin@alpha", "after": "member_rep@alpha", "claim": "groups",
        "claim_value": "campaign-alpha",
    }  # fmt: skip


def test_a_move_to_another_member_ends_other_sessions_and_stops_the_tokens(
    client: FlaskClient, app: Flask, network: Network, session: Session, provider: Provider
) -> None:
    now = clock_of(app).now()
    made = {"actor": network.rep_beta, "scopes": ["read"], "days": 30, "now": now}
    token = create(session, network.rep_beta, name="Personalkatalogen", **made).plaintext
    revoke(create(session, network.rep_beta, name="Gammal", **made).token, now)
    session.commit()
    api = app.test_client()
    assert call(api, "GET", BETA, token).status_code == 200
    assert call(api, "GET", ALPHA, token).status_code == 404
    other = _signed_in_elsewhere(app, network.rep_beta.email)
    page = _with_claim(client, provider, "rep", groups=["campaign-alpha"])  # moved in HR
    assert "Testkommunens konto har gjort dig till representant, Alpha kommun." in page
    stopped = "Din API-token fungerar inte längre: den skapades för Beta högskola. Skapa en ny."
    assert stopped in page
    session.refresh(network.rep_beta)
    assert network.rep_beta.organisation_id == network.alpha.id
    assert _signed_out(other)
    assert client.get(staff("/organisations/alpha")).status_code == 200
    assert client.get(staff("/organisations/beta")).status_code == 404
    for member in (ALPHA, BETA):  # Beta's systems hold the token: it reaches no member now
        assert call(api, "GET", member, token).status_code == 401
    [revoked] = flows.events(session, "api_token.revoked")  # the revoked one not again
    assert revoked.actor_id == network.rep_beta.id
    assert revoked.details["how"] == "moved by single sign-on"
    [moved] = flows.events(session, "account.sso_role_changed")
    assert (moved.details["before"], moved.details["after"]) == (
        "member_rep@beta",
        "member_rep@alpha",
    )
    fresh = create(session, network.rep_beta, name="Ny", **made).plaintext
    session.commit()
    assert call(api, "GET", ALPHA, fresh).status_code == 200  # a new one is Alpha's
    assert call(api, "GET", BETA, fresh).status_code == 404
    lead = _signed_in_elsewhere(app, network.lead.email)
    log = lead.get(staff("/network/audit?action=api_token.revoked")).text
    assert "den enkla inloggningen flyttade kontot till en annan organisation" in log


def test_promotion_by_claim_still_works_and_starts_afresh(
    client: FlaskClient, app: Flask, network: Network, session: Session
) -> None:
    other = _signed_in_elsewhere(app, network.rep_alpha.email)
    answer = flows.sign_in_through(client, "promoted")  # rep@alpha.se, in the lead group now
    assert answer.status_code == 302
    session.refresh(network.rep_alpha)
    assert network.rep_alpha.role is Role.LEAD_ADMIN
    assert client.get(staff("/network/settings")).status_code == 200
    assert _signed_out(other)  # no session signed in before gains the rights
    [changed] = flows.events(session, "account.sso_role_changed")
    assert changed.details == {
        "before": "member_rep@alpha", "after": "lead_admin@alpha", "claim": "groups",
        "claim_value": "campaign-lead",
    }  # fmt: skip
    log = client.get(staff("/network/audit?action=account.sso_role_changed")).text
    assert "Fick en annan roll eller organisation genom den enkla inloggningen" in log
    again = flows.sign_in_through(client, "promoted")  # the same claim changes nothing more
    assert again.status_code == 302
    assert len(flows.events(session, "account.sso_role_changed")) == 1


def test_an_operator_is_not_changed_by_a_claim(
    client: FlaskClient,
    network: Network,
    second_campaign: SecondCampaign,
    session: Session,
    provider: Provider,
) -> None:
    operator = second_campaign.operator
    page = _with_claim(client, provider, "lead", email=operator.email, groups=["campaign-lead"])
    assert "ditt konto är driftansvarigt för alla överenskommelser" in page
    session.refresh(operator)
    assert (operator.role, operator.organisation_id) == (Role.LEAD_ADMIN, None)
    [kept] = flows.events(session, "account.sso_role_kept")
    assert kept.campaign_id is None and kept.details["kept_because"] == "not_here"
    assert client.get(staff("/network/settings")).status_code == 200


def test_the_people_page_counts_a_lead_admin_who_signs_in_through_the_provider(
    app: Flask, network: Network, session: Session, provider: Provider
) -> None:
    second = _second_lead(session, network)
    lead = _signed_in_elsewhere(app, network.lead.email)
    path = staff(f"/people/{network.lead.id}/remove")
    data = {"csrf_token": csrf_token(lead, staff("/people")), "confirmed": "yes"}
    lead.post(path, data=data)
    session.refresh(network.lead)
    assert network.lead.role is Role.LEAD_ADMIN  # no other lead who can sign in
    _link(session, second, provider)
    lead.post(path, data=data)
    session.refresh(network.lead)
    assert network.lead.role is Role.MEMBER_REP


def test_two_lead_admins_whose_claims_demote_both_at_once_leave_one(
    app: Flask, network: Network, session: Session
) -> None:
    """A directory that moves the whole lead group: both leads sign in at the same moment. The
    second change waits for the first (their rows are locked) and finds no other lead left."""
    if engine_of(app).dialect.name != "postgresql":
        pytest.skip("SQLite has no row locks: this is PostgreSQL's")
    second = User(email="lo@alpha.se", name="Lo Ledare", role=Role.LEAD_ADMIN,
                  organisation=network.alpha, password_hash=FIXTURE_HASH,
                  created_at=START)  # fmt: skip
    session.add(second)
    session.commit()
    outcome: dict[str, str] = {}
    flushed, release = threading.Event(), threading.Event()

    def demote(user_id: int, first: bool) -> None:
        with db.open_session(app) as own:
            user, alpha = own.get_one(User, user_id), own.get_one(Organisation, network.alpha.id)
            try:
                roles.reassign(own, user, alpha, Role.MEMBER_REP, actor=user, now=START,
                               action="account.sso_role_changed")  # fmt: skip
                own.flush()
                if first:  # written, not committed: the other sign-in comes now
                    flushed.set()
                    release.wait(10)
                own.commit()
                outcome[user.email] = "demoted"
            except roles.Refused as refused:
                outcome[user.email] = refused.reason

    earlier = threading.Thread(target=demote, args=(network.lead.id, True))
    earlier.start()
    assert flushed.wait(10)
    later = threading.Thread(target=demote, args=(second.id, False))
    later.start()
    later.join(1)
    assert later.is_alive()  # it waits for the first change to commit
    release.set()
    earlier.join(10)
    later.join(10)
    assert outcome == {"lead@alpha.se": "demoted", "lo@alpha.se": "last_lead_admin"}
    session.expire_all()
    assert session.get_one(User, second.id).role is Role.LEAD_ADMIN
