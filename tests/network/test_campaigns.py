"""Several campaigns side by side: the list of one's campaigns, the switcher, the start page,
and each campaign's own outbox, audit log and suppressed addresses."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.audit import AuditEvent
from campaign.outbox.models import SuppressionReason
from campaign.outbox.queue import suppress
from tests.conftest import START, Network, SecondCampaign, csrf_token, sign_in
from tests.outbox_helpers import participant, queue_welcome
from tests.urls import staff


def _signed_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    sign_in(client, email)
    return client


def test_the_list_of_campaigns_names_each_with_its_period_and_ones_role(
    app: Flask, network: Network, second_campaign: SecondCampaign
) -> None:
    page = _signed_in(app, "lead@alpha.se").get("/campaigns").get_data(as_text=True)
    assert page.index("Andra överenskommelsen") < page.index("Testöverenskommelsen")  # latest first
    assert "1 februari 2014 till 30 juni 2015" in page
    assert "Administratör för den ledande organisationen" in page  # in "test"
    assert "Representant för Alpha kommun" in page  # in "other"
    assert f'href="{staff("/network")}"' in page
    assert f'href="{staff("/organisations/alpha", "other")}"' in page
    operator = _signed_in(app, "operator@example.se").get("/campaigns").get_data(as_text=True)
    assert operator.count("Administratör för den ledande organisationen") == 2
    beta = _signed_in(app, "rep@beta.se").get("/campaigns").get_data(as_text=True)
    assert "Testöverenskommelsen" in beta and "Andra överenskommelsen" not in beta


def test_the_start_page_is_the_campaign_used_last_or_the_only_one(
    app: Flask, network: Network, second_campaign: SecondCampaign
) -> None:
    lead = _signed_in(app, "lead@alpha.se")
    assert lead.get("/").headers["Location"] == "/campaigns"  # two, and none used yet
    assert lead.get(staff("/organisations/alpha", "other")).status_code == 200
    assert lead.get("/").headers["Location"] == staff("/organisations/alpha", "other")
    assert lead.get(staff("/dashboard")).status_code == 200
    assert lead.get("/").headers["Location"] == staff("/network")
    assert lead.get(staff("/network", "nowhere")).status_code == 404  # remembers no such one
    assert lead.get("/").headers["Location"] == staff("/network")
    only = _signed_in(app, "rep@gamma.se")  # of one campaign
    assert only.get("/").headers["Location"] == staff("/organisations/gamma", "other")


def test_the_switcher_lists_ones_campaigns_when_there_are_several(
    app: Flask, network: Network, second_campaign: SecondCampaign
) -> None:
    page = _signed_in(app, "lead@alpha.se").get(staff("/network")).get_data(as_text=True)
    switcher = page[page.index('<details class="campaign-switch">') : page.index("</details>")]
    assert "<summary>Testöverenskommelsen</summary>" in switcher
    assert f'<a href="{staff("/network")}" aria-current="true">' in switcher
    assert f'<a href="{staff("/organisations/alpha", "other")}" >Andra' in switcher
    account = _signed_in(app, "lead@alpha.se").get("/account").get_data(as_text=True)
    assert "<summary>Dina överenskommelser</summary>" in account
    for email in ("rep@beta.se", "lead@gamma.se"):
        single = _signed_in(app, email).get("/account").get_data(as_text=True)
        assert "campaign-switch" not in single


def test_a_representative_of_two_campaigns_sees_each_ones_data_under_its_own_address(
    app: Flask, network: Network, second_campaign: SecondCampaign, session: Session
) -> None:
    with app.app_context():
        mine = participant(session, network, "anna@alpha.se")
        queue_welcome(session, mine, START)
        session.commit()
    rep = _signed_in(app, "rep@alpha.se")
    here = rep.get(staff("/organisations/alpha/participants")).get_data(as_text=True)
    there = rep.get(staff("/organisations/alpha/participants", "other")).get_data(as_text=True)
    assert "anna@alpha.se" in here and "anna@alpha.se" not in there
    assert "anna@alpha.se" in rep.get(staff("/outbox")).get_data(as_text=True)
    assert "anna@alpha.se" not in rep.get(staff("/outbox", "other")).get_data(as_text=True)
    facts = rep.get(staff("/organisations/alpha", "other")).get_data(as_text=True)
    assert "Zoom" in facts and "Lync" not in facts


def test_each_campaign_has_its_own_audit_log(
    app: Flask, network: Network, second_campaign: SecondCampaign, session: Session
) -> None:
    gamma = _signed_in(app, "lead@gamma.se")
    facts = staff("/organisations/alpha/facts", "other")
    answer = gamma.post(
        facts,
        data={
            "csrf_token": csrf_token(gamma, facts),
            "meeting_software": "Jitsi",
            "status": "signed",
        },
    )
    assert answer.status_code == 302
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "member.facts_changed"))
    assert event.one().campaign_id == second_campaign.campaign.id
    theirs = gamma.get(staff("/network/audit", "other")).get_data(as_text=True)
    assert "member.facts_changed" in theirs and "lead@gamma.se" in theirs
    ours = _signed_in(app, "lead@alpha.se").get(staff("/network/audit")).get_data(as_text=True)
    assert "member.facts_changed" not in ours
    # Sign-ins belong to no campaign: each campaign shows those of its members' staff.
    assert "rep@gamma.se" not in ours and "lead@alpha.se" in ours


def test_an_address_only_another_campaign_knows_is_not_shown_as_suppressed(
    app: Flask, network: Network, second_campaign: SecondCampaign, session: Session
) -> None:
    with app.app_context():
        participant(session, network, "anna@alpha.se")
        suppress(session, "anna@alpha.se", SuppressionReason.HARD_BOUNCE, "550", START)
        suppress(session, "nobody@nowhere.se", SuppressionReason.HARD_BOUNCE, "550", START)
        session.commit()
    ours = _signed_in(app, "lead@alpha.se").get(staff("/outbox/suppressions"))
    assert "anna@alpha.se" in ours.get_data(as_text=True)
    theirs = _signed_in(app, "lead@gamma.se").get(staff("/outbox/suppressions", "other"))
    assert "anna@alpha.se" not in theirs.get_data(as_text=True)
    assert "nobody@nowhere.se" in theirs.get_data(as_text=True)  # no campaign's: everyone's
    operator = _signed_in(app, "operator@example.se").get(staff("/outbox/suppressions", "other"))
    assert "anna@alpha.se" in operator.get_data(as_text=True)


def test_an_organisation_of_another_campaign_joins_by_its_name_and_address_name(
    app: Flask, network: Network, second_campaign: SecondCampaign, session: Session
) -> None:
    gamma = _signed_in(app, "lead@gamma.se")
    page = staff("/network/members/new", "other")
    form = {"csrf_token": csrf_token(gamma, page), "short_name": "Beta", "slug": "beta",
            "kind": "university", "status": "signed"}  # fmt: skip
    other_name = gamma.post(page, data={**form, "name": "Beta kommun"}).get_data(as_text=True)
    assert "En annan organisation använder redan det adressnamnet." in other_name
    joined = gamma.post(page, data={**form, "name": "beta  HÖGSKOLA"})
    assert joined.headers["Location"] == staff("/organisations/beta", "other")
    assert "BETA-SECRET-TIP" not in gamma.get(joined.headers["Location"]).get_data(as_text=True)
    again = gamma.post(page, data={**form, "name": "Beta högskola"}).get_data(as_text=True)
    assert "Beta högskola är redan medlem." in again
    # Beta's representative now works in both, each with its own facts.
    assert _signed_in(app, "rep@beta.se").get("/").headers["Location"] == "/campaigns"
