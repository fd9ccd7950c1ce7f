"""Milestone pages: the lead administrator sets the campaign's and any member's, a
representative their own member's only; every change is audited; dates read in Swedish."""

from __future__ import annotations

from datetime import date

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.audit import AuditEvent
from campaign.milestones.models import Milestone
from tests.conftest import Network, csrf_token, sign_in
from tests.urls import staff

CAMPAIGN_PAGE = staff("/milestones")
ALPHA_PAGE = staff("/organisations/alpha/milestones")


def _signed_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    sign_in(client, email)
    return client


def _post(client: FlaskClient, url: str, **data: str):  # type: ignore[no-untyped-def]
    return client.post(url, data={"csrf_token": csrf_token(client), **data})


def _milestones(session: Session) -> list[tuple[int | None, str, date]]:
    session.expire_all()
    rows = session.scalars(select(Milestone).order_by(Milestone.id))
    return [(m.organisation_id, m.name, m.day) for m in rows]


def test_the_lead_admin_sets_and_changes_a_campaign_milestone(
    app: Flask, network: Network, session: Session
) -> None:
    client = _signed_in(app, "lead@alpha.se")
    response = _post(
        client, CAMPAIGN_PAGE, name="teams", day="2027-03-01", description="Teams införs"
    )
    assert response.status_code == 302
    page = client.get(CAMPAIGN_PAGE).get_data(as_text=True)
    assert "Milstolpen teams är den 1 mars 2027." in page
    assert "Teams införs" in page
    _post(client, CAMPAIGN_PAGE, name="Teams", day="2027-04-12")  # the same name, a new day
    assert _milestones(session) == [(None, "teams", date(2027, 4, 12))]
    done = select(AuditEvent.details).where(AuditEvent.action == "milestone.set")
    actions = session.scalars(done)
    assert [d["before"] for d in actions] == [None, "2027-03-01"]


def test_a_bad_name_or_day_saves_nothing_and_says_why(
    app: Flask, network: Network, session: Session
) -> None:
    client = _signed_in(app, "lead@alpha.se")
    response = _post(client, CAMPAIGN_PAGE, name="Teams på Ale", day="1. mars")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Inget sparades" in page
    assert "Ett milstolpsnamn har bara små bokstäver" in page
    assert 'aria-invalid="true"' in page
    assert _milestones(session) == []


def test_a_representative_sets_their_own_members_milestone_over_the_campaigns(
    app: Flask, network: Network, session: Session
) -> None:
    lead = _signed_in(app, "lead@alpha.se")
    _post(lead, CAMPAIGN_PAGE, name="teams", day="2027-03-01")
    rep = _signed_in(app, "rep@alpha.se")
    assert _post(rep, ALPHA_PAGE, name="teams", day="2027-05-03").status_code == 302
    page = rep.get(ALPHA_PAGE).get_data(as_text=True)
    assert "3 maj 2027" in page and "1 mars 2027" in page
    assert "medlemmens eget datum gäller" in page
    assert _milestones(session) == [
        (None, "teams", date(2027, 3, 1)),
        (network.alpha.id, "teams", date(2027, 5, 3)),
    ]
    # The campaign's milestones are the lead administrator's; Alpha's are not Beta's.
    assert rep.get(CAMPAIGN_PAGE).status_code == 403
    beta = _signed_in(app, "rep@beta.se")
    assert _post(beta, ALPHA_PAGE, name="teams", day="2027-01-01").status_code == 404
    assert _post(beta, ALPHA_PAGE, remove="teams").status_code == 404
    assert len(_milestones(session)) == 2
    # The lead administrator sees Alpha's own on the campaign's page.
    assert "Milstolpar för Alpha kommun" in lead.get(CAMPAIGN_PAGE).get_data(as_text=True)


def test_removing_a_milestone_is_audited(app: Flask, network: Network, session: Session) -> None:
    rep = _signed_in(app, "rep@alpha.se")
    _post(rep, ALPHA_PAGE, name="teams", day="2027-05-03")
    response = _post(rep, ALPHA_PAGE, remove="teams")
    assert response.status_code == 302
    assert "Milstolpen teams är borttagen." in rep.get(ALPHA_PAGE).get_data(as_text=True)
    assert _milestones(session) == []
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "milestone.removed")
    ).one()
    assert event.organisation_id == network.alpha.id and event.campaign_id == network.campaign.id
    # Removing one that is not there changes nothing.
    assert _post(rep, ALPHA_PAGE, remove="nothing").status_code == 302


def test_the_audit_log_names_milestone_changes(app: Flask, network: Network) -> None:
    lead = _signed_in(app, "lead@alpha.se")
    _post(lead, CAMPAIGN_PAGE, name="teams", day="2027-03-01")
    page = lead.get(staff("/network/audit")).get_data(as_text=True)
    assert "Angav en milstolpes datum" in page and "Milstolpe teams" in page
