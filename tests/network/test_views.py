"""The lead administrator's overview, a member's page, its facts form and adding a member."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.audit import AuditEvent
from campaign.network.models import Campaign, Membership, MembershipStatus, Organisation
from tests.conftest import Network, csrf_token, sign_in
from tests.urls import staff


def _membership(session: Session, organisation: Organisation) -> Membership:
    session.expire_all()
    return session.scalars(
        select(Membership).where(Membership.organisation_id == organisation.id)
    ).one()


def test_overview_lists_members_by_kind(client: FlaskClient, network: Network) -> None:
    sign_in(client, "lead@alpha.se")
    page = client.get(staff("/network")).get_data(as_text=True)
    assert "Testöverenskommelsen" in page
    table = page[page.index("<table") :]
    assert table.index("Kommuner") < table.index(">Alpha<") < table.index("Högskolor")
    assert table.index("Högskolor") < table.index(">Beta<")
    assert "Adobe Connect" in page and "Delar av personalen" in page
    assert "Deltar informellt" in page  # Beta's status
    assert "varav 1 har skrivit på" in page


def test_rep_edits_own_facts_but_not_lead_only_fields(
    client: FlaskClient, network: Network, session: Session
) -> None:
    sign_in(client, "rep@beta.se")
    form = client.get(staff("/organisations/beta/facts")).get_data(as_text=True)
    assert 'name="status"' not in form and 'name="enrolment_target"' not in form
    response = client.post(
        staff("/organisations/beta/facts"),
        data={
            "csrf_token": csrf_token(client, staff("/organisations/beta/facts")),
            "meeting_software": " Teams ",
            "software_comment": "Alla anställda",
            "people_reached": "250",
            "people_with_access": "",
            "tips_md": "- Börja med någon du känner",
            "contact_name": "Bo Bengtsson",
            "contact_email": "Bo@Beta.se",
            "guide_url": "https://intranat.beta.se/teams",
            "status": "signed",
            "enrolment_target": "999",
        },
    )
    assert response.status_code == 302
    membership = _membership(session, network.beta)
    assert membership.meeting_software == "Teams"
    assert membership.people_reached == 250 and membership.people_with_access is None
    assert membership.contact_email == "bo@beta.se"
    assert membership.guide_url == "https://intranat.beta.se/teams"
    assert membership.status is MembershipStatus.INFORMAL  # not the rep's to decide
    assert membership.enrolment_target is None
    audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "member.facts_changed"))
    assert "meeting_software" in audit.one().details["fields"]
    page = client.get(staff("/organisations/beta")).get_data(as_text=True)
    assert "Börja med någon du känner" in page and "Teams" in page


def test_lead_admin_sets_status_and_target(
    client: FlaskClient, network: Network, session: Session
) -> None:
    sign_in(client, "lead@alpha.se")
    client.post(
        staff("/organisations/beta/facts"),
        data={
            "csrf_token": csrf_token(client, staff("/network")),
            "status": "signed",
            "enrolment_target": "40",
            "meeting_software": "Adobe Connect",
        },
    )
    membership = _membership(session, network.beta)
    assert membership.status is MembershipStatus.SIGNED and membership.enrolment_target == 40


def test_invalid_facts_are_explained_and_nothing_is_saved(
    client: FlaskClient, network: Network, session: Session
) -> None:
    sign_in(client, "rep@beta.se")
    response = client.post(
        staff("/organisations/beta/facts"),
        data={
            "csrf_token": csrf_token(client, "/account"),
            "meeting_software": "Changed",
            "people_reached": "-5",
            "contact_email": "not-an-address",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Inget sparades" in page
    assert 'id="people_reached-error"' in page and 'id="contact_email-error"' in page
    assert _membership(session, network.beta).meeting_software == "Adobe Connect"


def test_markdown_from_staff_cannot_carry_scripts(client: FlaskClient, network: Network) -> None:
    sign_in(client, "rep@beta.se")
    client.post(
        staff("/organisations/beta/facts"),
        data={
            "csrf_token": csrf_token(client, "/account"),
            "work_done_md": "Vi **testade**. <script>alert(1)</script> [x](javascript:alert(2)) "
            '<img src=x onerror="alert(3)">',
        },
    )
    page = client.get(staff("/organisations/beta")).get_data(as_text=True)
    assert "<strong>testade</strong>" in page
    assert "<script>alert(1)" not in page and "javascript:" not in page and "onerror" not in page


def test_lead_admin_adds_a_member(client: FlaskClient, network: Network, session: Session) -> None:
    sign_in(client, "lead@alpha.se")
    token = csrf_token(client, staff("/network/members/new"))
    response = client.post(
        staff("/network/members/new"),
        data={
            "csrf_token": token,
            "name": "Öckerö kommun",
            "short_name": "Öckerö",
            "slug": "",
            "kind": "municipality",
            "status": "informal",
            "meeting_software": "Lync",
            "software_comment": "Alla anställda (installeras vid förfrågan)",
        },
    )
    assert response.headers["Location"] == staff("/organisations/ockero")
    page = client.get(staff("/network")).get_data(as_text=True)
    assert "Öckerö" in page and "installeras vid förfrågan" in page
    again = client.post(
        staff("/network/members/new"),
        data={
            "csrf_token": token,
            "name": "Öckerö igen",
            "short_name": "Öckerö",
            "kind": "municipality",
            "status": "signed",
        },
    )
    assert "En annan organisation använder redan det adressnamnet." in again.get_data(as_text=True)
    assert session.scalars(select(Organisation).where(Organisation.slug == "ockero")).one()


def test_no_campaign_yet_explains_what_to_do(
    client: FlaskClient, network: Network, session: Session
) -> None:
    session.delete(network.campaign)
    network.lead.organisation = None  # an operator, who would create the first campaign
    session.commit()
    sign_in(client, "lead@alpha.se")
    assert client.get("/").headers["Location"] == "/campaigns"
    page = client.get("/campaigns").get_data(as_text=True)
    assert "Ingen överenskommelse har skapats" in page and "campaign demo" in page
    assert client.get(staff("/network")).status_code == 404
    assert client.get(staff("/organisations/alpha")).status_code == 404
    rep = client.application.test_client()
    sign_in(rep, "rep@beta.se")
    page = rep.get("/campaigns").get_data(as_text=True)
    assert "Din organisation deltar inte i någon överenskommelse än." in page


def test_lead_admin_changes_the_campaign_settings(
    client: FlaskClient, network: Network, session: Session
) -> None:
    sign_in(client, "lead@alpha.se")
    token = csrf_token(client, staff("/network/settings"))
    form = {
        "csrf_token": token,
        "name": "Resfria möten 2014",
        "starts_on": "2014-01-01",
        "ends_on": "2015-06-30",
        "timezone": "Europe/Stockholm",
        "language": "sv",
        "rate_limit_per_minute": "120",
        "co2_kg_per_km": "0.12",
        "cost_per_km": "2.5",
        "cost_per_hour": "350",
        "retention_months": "12",
    }
    assert client.post(staff("/network/settings"), data=form).status_code == 302
    session.expire_all()
    campaign = session.get(Campaign, network.campaign.id)
    assert campaign.rate_limit_per_minute == 120 and campaign.ends_on.isoformat() == "2015-06-30"
    assert (campaign.co2_kg_per_km, campaign.cost_per_km, campaign.cost_per_hour) == (
        0.12, 2.5, 350.0,
    )  # fmt: skip
    negative = client.post(staff("/network/settings"), data={**form, "cost_per_km": "-1"})
    assert negative.status_code == 200
    session.expire_all()
    assert session.get(Campaign, network.campaign.id).cost_per_km == 2.5
    assert "Högst 120 mejl i minuten." in client.get(staff("/network")).get_data(as_text=True)
    bad = client.post(
        staff("/network/settings"),
        data={**form, "timezone": "Mars/Olympus", "ends_on": "2013-01-01"},
    )
    page = bad.get_data(as_text=True)
    assert "Okänd tidszon" in page and "kan inte sluta innan den börjar" in page
    client.post(staff("/network/settings"), data={**form, "rate_limit_per_minute": ""})
    session.expire_all()
    assert session.get(Campaign, network.campaign.id).rate_limit_per_minute is None


def test_the_audit_log_shows_staff_actions_to_the_lead_admin_only(
    client: FlaskClient, network: Network, session: Session
) -> None:
    sign_in(client, "rep@beta.se")
    page = staff("/organisations/beta/facts")
    client.post(page, data={"csrf_token": csrf_token(client, page), "meeting_software": "Zoom"})
    assert client.get(staff("/network/audit")).status_code == 403
    lead = client.application.test_client()
    sign_in(lead, "lead@alpha.se")
    log = lead.get(staff("/network/audit")).get_data(as_text=True)
    changed = "<td>Ändrade en medlems uppgifter</td>"  # the action and its fields, in words
    assert changed in log and "Ändrat: Mjukvara för webbmöten" in log
    assert "meeting_software" not in log and "member.facts_changed</" not in log
    assert "<td>rep@beta.se</td>" in log
    only_alpha = lead.get(staff("/network/audit?org=alpha")).get_data(as_text=True)
    assert changed not in only_alpha
    assert "<td>lead@alpha.se</td>" in only_alpha  # the lead's login, as Alpha's
    logins = lead.get(staff("/network/audit?action=login")).get_data(as_text=True)
    assert changed not in logins
    assert logins.count("<td>Loggade in</td>") == 2
