"""The role matrix: every route of the app, in two campaigns, for anonymous, the lead admin of
each, an operator and member reps.

The table below names every endpoint with the access it must have. A route added without a
line here fails `test_every_route_has_an_expectation`, so no route escapes the matrix. Campaign
"test" (the `network` fixture's, led by Alpha, with Beta) holds one object of every kind of
Alpha's; campaign "other" (`second_campaign`, led by Gamma, with Alpha) must show none of them.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.test import TestResponse

from campaign.accounts.scope import IN_CAMPAIGN, Access
from campaign.enrolment.models import Participant, ParticipantStatus
from campaign.events import feeds
from campaign.network.models import Membership, Organisation
from tests.api_helpers import own_token_of
from tests.conftest import Network, SecondCampaign, csrf_token, sign_in
from tests.routes import TOKEN_OF, routes, url_of
from tests.urls import staff

EXPECTED: dict[str, Access] = {
    "drip.index": Access.LEAD_ADMIN,
    "drip.timeline": Access.LEAD_ADMIN,
    "drip.preview": Access.LEAD_ADMIN,
    "drip.preview_html": Access.LEAD_ADMIN,
    "drip.send_test": Access.LEAD_ADMIN,
    "drip.edit_step": Access.LEAD_ADMIN,
    "drip.new_step": Access.LEAD_ADMIN,
    "drip.draft_frame": Access.LEAD_ADMIN,
    "drip.move_step": Access.LEAD_ADMIN,
    "drip.remove_step": Access.LEAD_ADMIN,
    "drip.history": Access.LEAD_ADMIN,
    "drip.version": Access.LEAD_ADMIN,
    "drip.revert": Access.LEAD_ADMIN,
    "drip.export_sequence": Access.LEAD_ADMIN,
    "drip.import_sequence": Access.LEAD_ADMIN,
    "drip.progress": Access.ORGANISATION,
    "drip.schedule": Access.ORGANISATION,
    "outbox.index": Access.STAFF,
    "outbox.show": Access.STAFF,
    "outbox.html": Access.STAFF,
    "outbox.cancel": Access.STAFF,
    "outbox.retry": Access.STAFF,
    "outbox.send_test": Access.STAFF,
    "outbox.suppressions": Access.LEAD_ADMIN,
    "outbox.delete_suppression": Access.LEAD_ADMIN,
    "outbox.unsubscribe_page": Access.PUBLIC,
    "inbound.index": Access.STAFF,
    "inbound.show": Access.STAFF,
    "inbound.dismiss": Access.STAFF,
    "inbound.raw": Access.LEAD_ADMIN,
    "accounts.login": Access.PUBLIC,
    "accounts.sso_start": Access.PUBLIC,
    "accounts.sso_callback": Access.PUBLIC,
    "accounts.logout": Access.SIGNED_IN,
    "accounts.account": Access.SIGNED_IN,
    "accounts.set_language": Access.PUBLIC,
    "network.home": Access.PUBLIC,
    "network.campaigns": Access.SIGNED_IN,
    "network.overview": Access.LEAD_ADMIN,
    "network.new_member": Access.LEAD_ADMIN,
    "network.settings": Access.LEAD_ADMIN,
    "network.organisation": Access.ORGANISATION,
    "network.edit_facts": Access.ORGANISATION,
    "network.sender": Access.ORGANISATION,
    "milestones.campaign_milestones": Access.LEAD_ADMIN,
    "milestones.member_milestones": Access.ORGANISATION,
    "network.logo": Access.PUBLIC,
    "enrolment.email_domains": Access.ORGANISATION,
    "network.audit": Access.LEAD_ADMIN,
    "network.archive": Access.LEAD_ADMIN,
    "health.healthz": Access.PUBLIC,
    "accounts.accept_invitation": Access.PUBLIC,
    "accounts.reset_password": Access.PUBLIC,
    "accounts.forgot_password": Access.PUBLIC,
    "accounts.invite_representative": Access.LEAD_ADMIN,
    "accounts.resend_invitation": Access.LEAD_ADMIN,
    "accounts.representative_access": Access.LEAD_ADMIN,
    "accounts.people": Access.LEAD_ADMIN,
    "accounts.invite_lead_admin": Access.LEAD_ADMIN,
    "accounts.resend_to_person": Access.LEAD_ADMIN,
    "accounts.remove_lead_admin": Access.LEAD_ADMIN,
    "accounts.change_person": Access.LEAD_ADMIN,
    "accounts.hand_over": Access.LEAD_ADMIN,
    "accounts.sign_in_locks": Access.ANY_LEAD_ADMIN,
    "accounts.unlock_sign_in": Access.ANY_LEAD_ADMIN,
    "enrolment.groups": Access.ORGANISATION,
    "enrolment.new_group": Access.ORGANISATION,
    "enrolment.edit_group": Access.ORGANISATION,
    "enrolment.group_link": Access.ORGANISATION,
    "enrolment.delete_group": Access.ORGANISATION,
    "enrolment.pause_group": Access.ORGANISATION,
    "enrolment.participants": Access.ORGANISATION,
    "enrolment.export_participants": Access.ORGANISATION,
    "enrolment.new_participant": Access.ORGANISATION,
    "enrolment.participant": Access.ORGANISATION,
    "enrolment.edit_participant": Access.ORGANISATION,
    "enrolment.participant_status": Access.ORGANISATION,
    "enrolment.move_participant": Access.ORGANISATION,
    "enrolment.participant_data": Access.ORGANISATION,
    "enrolment.erase_participant": Access.ORGANISATION,
    "enrolment.new_import": Access.ORGANISATION,
    "enrolment.show_import": Access.ORGANISATION,
    "enrolment.import_progress": Access.ORGANISATION,
    "enrolment.apply_import": Access.ORGANISATION,
    "enrolment.discard_import": Access.ORGANISATION,
    "enrolment.join": Access.PUBLIC,
    "enrolment.join_confirm": Access.PUBLIC,
    "events.index": Access.ORGANISATION,
    "events.new": Access.ORGANISATION,
    "events.edit": Access.ORGANISATION,
    "events.show": Access.ORGANISATION,
    "events.invite": Access.ORGANISATION,
    "events.mailing_progress": Access.ORGANISATION,
    "events.cancel": Access.ORGANISATION,
    "events.attendance": Access.ORGANISATION,
    "events.download": Access.ORGANISATION,
    "events.feed": Access.PUBLIC,
    "events.replace_feed": Access.ORGANISATION,
    "events.rsvp": Access.PUBLIC,
    "events.rsvp_calendar": Access.PUBLIC,
    "surveys.answer": Access.PUBLIC,
    "surveys.member_index": Access.ORGANISATION,
    "surveys.member_results": Access.ORGANISATION,
    "surveys.member_export": Access.ORGANISATION,
    "surveys.index": Access.LEAD_ADMIN,
    "surveys.network_results": Access.LEAD_ADMIN,
    "surveys.network_export": Access.LEAD_ADMIN,
    "surveys.make_anonymous": Access.LEAD_ADMIN,
    "surveys.edit": Access.LEAD_ADMIN,
    "surveys.download": Access.LEAD_ADMIN,
    "surveys.copy": Access.LEAD_ADMIN,
    "surveys.sending": Access.LEAD_ADMIN,
    "surveys.preview": Access.LEAD_ADMIN,
    "surveys.preview_form": Access.LEAD_ADMIN,
    "report.index": Access.LEAD_ADMIN,
    "report.download": Access.LEAD_ADMIN,
    "report.final_bundle": Access.LEAD_ADMIN,
    "succession.next_campaign": Access.LEAD_ADMIN,
    "report.dashboard": Access.LEAD_ADMIN,
    "mailtexts.index": Access.LEAD_ADMIN,
    "mailtexts.edit": Access.LEAD_ADMIN,
    "mailtexts.preview": Access.LEAD_ADMIN,
    "mailtexts.reset_text": Access.LEAD_ADMIN,
    "report.member_dashboard": Access.ORGANISATION,
    "wording.steps": Access.ORGANISATION,
    "wording.step": Access.ORGANISATION,
    "wording.preview_html": Access.ORGANISATION,
    "announcements.index": Access.STAFF,
    "announcements.new": Access.STAFF,
    "announcements.show": Access.STAFF,
    "announcements.cancel": Access.STAFF,
    "accounts.tokens": Access.SIGNED_IN,
    "accounts.revoke_token": Access.SIGNED_IN,
    "accounts.person_tokens": Access.LEAD_ADMIN,
    "accounts.revoke_person_token": Access.LEAD_ADMIN,
    "webhooks.campaign_webhooks": Access.LEAD_ADMIN,
    "webhooks.member_webhooks": Access.ORGANISATION,
    "webhooks.show": Access.STAFF,
    "webhooks.change": Access.STAFF,
    "webhooks.redeliver": Access.STAFF,
}

# Routes of one object that belongs to Alpha: reachable like Alpha's own pages.
ALPHA_OBJECTS = {"outbox.show", "outbox.html", "outbox.cancel", "outbox.retry"}
ALPHA_OBJECTS |= {"inbound.show", "inbound.dismiss"}
ALPHA_OBJECTS |= {"announcements.show", "announcements.cancel"}
ALPHA_OBJECTS |= {"webhooks.show", "webhooks.change", "webhooks.redeliver"}
POST_DATA = {
    "outbox.unsubscribe_page": {"action": "pause"},
    "enrolment.group_link": {"action": "open"},
    "enrolment.participant_status": {"action": "pause"},
    "enrolment.pause_group": {"action": "pause", "until": "2014-08-15"},
    "enrolment.join_confirm": {"confirm": "yes"},
    "accounts.representative_access": {"action": "enable"},
    "accounts.unlock_sign_in": {"kind": "address", "value": "nobody@alpha.se"},
    "events.rsvp": {"answer": "accepted"},
    "webhooks.change": {"action": "test"},
}
ACTORS = ("anonymous", "lead", "rep_alpha", "rep_beta", "operator", "lead_gamma")
# What no page of another member, or of another campaign, may show of Alpha's in "test".
ALPHA_MARKERS = ("ALPHA-SECRET-TIP", "ALPHA-SECRET-SUBJECT", "anna@alpha.se")


def test_every_route_has_an_expectation(app: Flask) -> None:
    endpoints = {endpoint for endpoint, _, _ in routes(app)}
    assert endpoints == set(EXPECTED), "add new routes to EXPECTED with their access"


def test_every_view_declares_the_access_the_matrix_expects(app: Flask) -> None:
    for endpoint, policy in EXPECTED.items():
        assert getattr(app.view_functions[endpoint], "access", None) is policy, endpoint


def test_every_page_of_a_campaign_names_it_and_no_other_page_does(app: Flask) -> None:
    for endpoint, rule, _method in routes(app):
        in_campaign = EXPECTED[endpoint] in IN_CAMPAIGN
        assert rule.startswith("/campaigns/<campaign>/") is in_campaign, rule


def _user_of(network: Network, second: SecondCampaign, actor: str):  # type: ignore[no-untyped-def]
    return getattr(second if actor in ("operator", "lead_gamma", "rep_gamma") else network, actor)


def _email(network: Network, second: SecondCampaign | None, actor: str) -> str:
    if actor in ("operator", "lead_gamma", "rep_gamma"):
        assert second is not None
        return str(getattr(second, actor).email)
    return str(getattr(network, actor).email)


def _client_for(app: Flask, network: Network, actor: str, second: SecondCampaign | None = None):  # type: ignore[no-untyped-def]
    client = app.test_client()
    if actor != "anonymous":
        sign_in(client, _email(network, second, actor))
    return client


def _request(client, endpoint: str, url: str, method: str, values: dict[str, str]):  # type: ignore[no-untyped-def]
    data = None
    if method == "POST":
        data = {"csrf_token": csrf_token(client), **POST_DATA.get(endpoint, {})}
        if endpoint == "enrolment.move_participant":
            data["pilot_group"] = values["other_group_id"]
    return client.open(url, method=method, data=data)


@pytest.mark.parametrize("actor", ACTORS)
def test_role_matrix(
    app: Flask,
    network: Network,
    second_campaign: SecondCampaign,
    alpha_objects: dict[str, str],
    actor: str,
    session,
) -> None:  # type: ignore[no-untyped-def]
    """Each actor gets exactly what the route's access allows, on Alpha's pages and objects in
    campaign "test": the operator what its lead admin gets, Gamma's lead admin (of "other"
    only) a 404 for every page of "test"."""
    own_token = "1"
    if actor != "anonymous":
        own_token = own_token_of(session, _user_of(network, second_campaign, actor))
    for endpoint, rule, method in routes(app):
        client = _client_for(app, network, actor, second_campaign)
        values = {**alpha_objects, "token": alpha_objects[TOKEN_OF.get(endpoint, "token")]}
        values["own_token_id"] = own_token  # one's own token's route names one's own
        if endpoint == "enrolment.group_link":  # a new link would close the one tested above
            values["group_id"] = alpha_objects["other_group_id"]
        if endpoint == "events.feed":  # events.replace_feed may have replaced the fixture's
            session.expire_all()
            with app.app_context():
                values["token"] = feeds.token(session.get(Organisation, network.alpha.id))
        url = url_of(rule, values)
        response = _request(client, endpoint, url, method, values)
        body = response.get_data().decode(errors="replace")  # the final bundle is a ZIP
        allowed = _allowed(EXPECTED[endpoint], actor)
        if endpoint in ALPHA_OBJECTS and actor == "rep_beta":
            allowed = False
        where = f"{actor} {method} {url} -> {response.status_code}"
        # Whatever Beta's representative or Gamma's lead may open shows nothing of Alpha (the
        # participant's own signed link excepted: whoever holds it is shown that participant's
        # address).
        if actor in ("rep_beta", "lead_gamma") and endpoint not in TOKEN_OF:
            for marker in ALPHA_MARKERS:
                assert marker not in body, where
        if allowed:
            # The matrix cancels the meeting (events.cancel) before it reaches its attendance,
            # which a cancelled meeting refuses with 409: allowed, and nothing written.
            conflict = (409,) if endpoint == "events.attendance" and method == "POST" else ()
            assert response.status_code in (200, 302, *conflict), where
            if response.status_code == 302 and actor != "anonymous":
                assert "/login" not in response.headers["Location"] or endpoint.endswith(
                    "logout"
                ), where
        elif actor == "anonymous":
            assert response.status_code == 302, where
            assert response.headers["Location"].startswith("/login"), where
        else:
            assert response.status_code in (403, 404), where
            if actor == "lead_gamma":  # no part in "test": it is not there for them
                assert response.status_code == 404, where
            assert "ALPHA-SECRET-TIP" not in body, where
            assert "ALPHA-SECRET-SUBJECT" not in body, where
            assert "Alpha kommun" not in body, where


def _allowed(policy: Access, actor: str) -> bool:
    """Whether `actor` may call a route of this policy in campaign "test", on Alpha's pages."""
    if policy is Access.PUBLIC:
        return True
    if policy is Access.SIGNED_IN:
        return actor != "anonymous"
    if policy is Access.ANY_LEAD_ADMIN:
        return actor in ("lead", "operator", "lead_gamma")
    if policy is Access.STAFF:
        return actor in ("lead", "operator", "rep_alpha", "rep_beta")
    if policy is Access.LEAD_ADMIN:
        return actor in ("lead", "operator")
    return actor in ("lead", "operator", "rep_alpha")  # ORGANISATION, on Alpha's pages


# The URL parameters that name an object of one campaign: a participant, pilot group, import,
# meeting, message, questionnaire or saved version of a sequence. (Accounts, suppressed
# addresses and the shipped sequence files belong to none.)
CAMPAIGN_OBJECTS = (
    "participant_id", "group_id", "import_id", "event_id", "message_id", "questionnaire_id",
    "inbound_id", "version", "announcement_id", "webhook_id", "webhook_delivery_id",
)  # fmt: skip
B_ACTORS = ("lead", "rep_alpha", "rep_beta", "operator", "lead_gamma")


@pytest.mark.parametrize("actor", B_ACTORS)
def test_nothing_of_one_campaign_is_reachable_through_another(
    app: Flask,
    network: Network,
    second_campaign: SecondCampaign,
    alpha_objects: dict[str, str],
    actor: str,
    session,
) -> None:  # type: ignore[no-untyped-def]
    """Every page of campaign "other" with Alpha (a member of both) and the ids of Alpha's
    objects in "test": a route naming one is 404 for everyone, the operator and the lead admin
    of "test" too; no page shows any of them; in "other" Alpha's lead admin is Alpha's
    representative only, and Beta's representative (no member there) finds nothing."""
    checked = 0
    for endpoint, rule, method in routes(app):
        if EXPECTED[endpoint] not in IN_CAMPAIGN:
            continue
        client = _client_for(app, network, actor, second_campaign)
        url = url_of(rule, {**alpha_objects, "campaign": "other"})
        response = _request(client, endpoint, url, method, alpha_objects)
        where = f"{actor} {method} {url} -> {response.status_code}"
        body = response.get_data().decode(errors="replace")  # a ZIP too
        for marker in ALPHA_MARKERS:
            assert marker not in body, where
        if not _allowed_in_other(EXPECTED[endpoint], actor):  # refused before any lookup
            assert response.status_code == (404 if actor == "rep_beta" else 403), where
            checked += actor == "rep_beta"
        elif any(f"{name}>" in rule for name in CAMPAIGN_OBJECTS):
            assert response.status_code == 404, where
            checked += 1
        else:
            assert response.status_code in (200, 302), where
    assert checked >= (30 if actor in ("operator", "lead_gamma") else 20)
    _alpha_objects_untouched(session, alpha_objects)


def _allowed_in_other(policy: Access, actor: str) -> bool:
    """Whether `actor` may call a route of this policy in campaign "other", on Alpha's pages."""
    if actor in ("operator", "lead_gamma"):
        return True
    if actor == "rep_beta":
        return False
    return policy is not Access.LEAD_ADMIN  # Alpha's lead admin and rep: Alpha's representatives


def _alpha_objects_untouched(session, alpha_objects: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    from campaign.enrolment.models import PilotGroup
    from campaign.events.models import Event
    from campaign.outbox.inbound import InboundMessage
    from campaign.outbox.models import Message, MessageState
    from campaign.webhooks.models import WebhookSubscription

    session.expire_all()
    person = session.get(Participant, int(alpha_objects["participant_id"]))
    assert person.status is ParticipantStatus.ACTIVE and person.email == "anna@alpha.se"
    assert session.get(PilotGroup, int(alpha_objects["group_id"])) is not None
    assert session.get(PilotGroup, int(alpha_objects["other_group_id"])).enrolment_key is None
    assert not session.get(Event, int(alpha_objects["event_id"])).is_cancelled
    message = session.get(Message, int(alpha_objects["message_id"]))
    assert message.state is MessageState.QUEUED
    assert session.get(InboundMessage, int(alpha_objects["inbound_id"])).dismissed_at is None
    webhook = session.get(WebhookSubscription, int(alpha_objects["webhook_id"]))
    assert webhook.is_enabled and webhook.previous_secret is None


def test_rep_of_another_member_cannot_change_facts(app: Flask, network: Network, session) -> None:  # type: ignore[no-untyped-def]
    client = _client_for(app, network, "rep_beta")
    response = client.post(
        staff("/organisations/alpha/facts"),
        data={"csrf_token": csrf_token(client), "meeting_software": "Hijacked"},
    )
    assert response.status_code == 404
    session.expire_all()
    membership = session.scalars(
        select(Membership).where(Membership.organisation_id == network.alpha.id)
    ).one()
    assert membership.meeting_software == "Lync"


_CSRF = re.compile(r'name="csrf_token" value="[^"]*"')


def _page(response: TestResponse) -> str:
    return _CSRF.sub('name="csrf_token" value=""', response.get_data(as_text=True))


def test_unknown_organisation_and_foreign_one_look_the_same(app: Flask, network: Network) -> None:
    client = _client_for(app, network, "rep_beta")
    foreign = client.get(staff("/organisations/alpha"))
    missing = client.get(staff("/organisations/no-such-org"))
    assert foreign.status_code == missing.status_code == 404
    # Identical but for the page's own address (in the language switch) and the CSRF
    # token's timestamp, which moves on when the two requests straddle a second.
    assert _page(foreign).replace("alpha", "no-such-org") == _page(missing)


def test_unknown_campaign_and_foreign_one_look_the_same(
    app: Flask, network: Network, second_campaign: SecondCampaign
) -> None:
    client = _client_for(app, network, "lead_gamma", second_campaign)
    foreign = client.get(staff("/network", "test"))
    missing = client.get(staff("/network", "no-such-campaign"))
    assert foreign.status_code == missing.status_code == 404
    assert _page(foreign).replace("/test/", "/no-such-campaign/") == _page(missing)
    # A member of "other" only is no member of "test", even for the operator.
    operator = _client_for(app, network, "operator", second_campaign)
    assert operator.get(staff("/organisations/gamma", "test")).status_code == 404
    assert operator.get(staff("/organisations/beta", "other")).status_code == 404
    assert operator.get(staff("/organisations/gamma", "other")).status_code == 200


def test_alphas_lead_admin_is_only_alphas_representative_where_gamma_leads(
    app: Flask, network: Network, second_campaign: SecondCampaign
) -> None:
    client = _client_for(app, network, "lead", second_campaign)
    assert client.get(staff("/network")).status_code == 200
    assert client.get(staff("/network", "other")).status_code == 403
    assert client.get(staff("/organisations/gamma", "other")).status_code == 404
    page = client.get(staff("/organisations/alpha", "other")).get_data(as_text=True)
    assert "ALPHA-OTHER-TIP" in page and "ALPHA-SECRET-TIP" not in page
    assert "Bjud in en representant" not in page  # the lead administrator's button
    # As Alpha's representative there, Alpha's lead admin is listed among them.
    assert "lead@alpha.se" in page


def test_rep_sees_own_organisation(app: Flask, network: Network) -> None:
    client = _client_for(app, network, "rep_beta")
    page = client.get(staff("/organisations/beta")).get_data(as_text=True)
    assert "Beta högskola" in page and "BETA-SECRET-TIP" in page
    assert client.get("/").headers["Location"] == staff("/organisations/beta")


def test_undeclared_view_is_closed(app: Flask, network: Network) -> None:
    app.add_url_rule("/forgotten", "forgotten", lambda: "secret data")
    client = _client_for(app, network, "lead")
    response = client.get("/forgotten")
    assert response.status_code == 403
    assert "secret data" not in response.get_data(as_text=True)


# Routes naming an object of an organisation: with Beta in the URL and Alpha's object id, the
# lead admin and Beta's representative alike get 404, so no route reaches across members.
OBJECT_PARAMS = ("participant_id", "group_id", "import_id", "user_id", "message_id", "event_id")


@pytest.mark.parametrize("actor", ["lead", "rep_beta"])
def test_no_route_reaches_another_members_object(
    app: Flask, network: Network, alpha_objects: dict[str, str], actor: str, session
) -> None:  # type: ignore[no-untyped-def]
    checked = 0
    for endpoint, rule, method in routes(app):
        if "<org>" not in rule or not any(f"{p}>" in rule for p in OBJECT_PARAMS):
            continue
        if EXPECTED[endpoint] is Access.LEAD_ADMIN and actor != "lead":
            continue
        client = _client_for(app, network, actor)
        url = url_of(rule, {**alpha_objects, "org": network.beta.slug})
        data = None
        if method == "POST":
            data = {"csrf_token": csrf_token(client), **POST_DATA.get(endpoint, {})}
        response = client.open(url, method=method, data=data)
        assert response.status_code == 404, f"{actor} {method} {url} -> {response.status_code}"
        body = response.get_data().decode(errors="replace")  # the final bundle is a ZIP
        assert "anna@alpha.se" not in body and "Alpha-gruppen" not in body
        checked += 1
    assert checked >= 15
    session.expire_all()
    person = session.get(Participant, int(alpha_objects["participant_id"]))
    assert person.status is ParticipantStatus.ACTIVE and person.email == "anna@alpha.se"
