"""The retention as the lead administrator sets it, and as people are told of it."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.audit import AuditEvent
from campaign.enrolment import importing, joining
from campaign.enrolment.models import Consent
from campaign.network.models import Campaign
from campaign.outbox.models import Message, MessageKind
from tests.conftest import START, Network, csrf_token, sign_in
from tests.enrolment_helpers import group, read
from tests.outbox_helpers import participant
from tests.retention_helpers import WARNING_AT, run_retention
from tests.urls import staff

SETTINGS = {
    "name": "Testöverenskommelsen",
    "starts_on": "2014-01-01",
    "ends_on": "2015-03-31",
    "timezone": "Europe/Stockholm",
    "language": "sv",
    "rate_limit_per_minute": "600",
    "co2_kg_per_km": "0.133",
    "cost_per_km": "2.5",
}


def _lead(app: Flask) -> FlaskClient:
    client = app.test_client()
    sign_in(client, "lead@alpha.se")
    return client


def _save(client: FlaskClient, **changes: str) -> str:
    page = staff("/network/settings")
    data = {"csrf_token": csrf_token(client, page), **SETTINGS, **changes}
    answer = client.post(page, data=data, follow_redirects=True)
    return answer.get_data(as_text=True)


def test_the_lead_admin_sets_the_months_and_the_change_is_audited(
    app: Flask, session: Session, network: Network
) -> None:
    lead = _lead(app)
    page = lead.get(staff("/network/settings")).get_data(as_text=True)
    assert 'name="retention_months"' in page and 'value="12"' in page
    assert "sparas personuppgifterna till och med den 31 mars 2016" in page
    _save(lead, retention_months="18")
    session.expire_all()
    assert session.get(Campaign, network.campaign.id).retention_months == 18
    (event,) = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "campaign.settings_changed")
    )
    assert event.details["fields"] == ["retention_months"] and event.actor_label == "lead@alpha.se"
    assert "till och med den 30 september 2016" in lead.get(staff("/network/settings")).get_data(
        as_text=True
    )
    for wrong in ("-1", "121", "", "tolv"):
        assert "retention_months-error" in _save(lead, retention_months=wrong)
    session.expire_all()
    assert session.get(Campaign, network.campaign.id).retention_months == 18
    assert _lead(app).get(staff("/network/settings")).status_code == 200
    rep = app.test_client()
    sign_in(rep, "rep@alpha.se")
    assert rep.get(staff("/network/settings")).status_code == 403


def test_the_consent_texts_state_until_when_data_is_kept(
    app: Flask, session: Session, network: Network
) -> None:
    with app.app_context():
        target = group(session, network)
        joining.open_link(target)
        session.commit()
        token = joining.link_token(target)
    page = app.test_client().get(f"/join/{token}").get_data(as_text=True)
    assert "tills kampanjen slutar den 31 mars 2015" in page
    assert "sparas till och med den 31 mars 2016 och sedan raderas" in page
    english = app.test_client()
    english.post("/language", data={"csrf_token": csrf_token(english), "language": "en"})
    page = english.get(f"/join/{token}").get_data(as_text=True)
    assert "are kept until March 31, 2016 and then deleted" in page
    with app.app_context():
        job = read(session, target, b"E-post;Namn\nny@alpha.se;Ny Person\n")
        importing.apply_import(session, job, network.rep_alpha, START)
    (consent,) = session.scalars(select(Consent))
    assert "sparas till och med den 31 mars 2016 och sedan raderas" in consent.text


def test_a_longer_retention_after_the_warning_is_warned_of_again_when_it_nears(
    app: Flask, session: Session, network: Network
) -> None:
    participant(session, network, "asa@alpha.se")
    session.commit()
    assert run_retention(app, WARNING_AT)
    campaign = session.get(Campaign, network.campaign.id)
    assert campaign is not None
    campaign.retention_months = 24
    session.commit()
    assert run_retention(app, datetime(2016, 4, 1, 12, 0, tzinfo=UTC))
    session.expire_all()
    assert session.get(Campaign, network.campaign.id).purged_at is None
    assert run_retention(app, datetime(2017, 3, 1, 23, 0, tzinfo=UTC))
    keys = sorted(
        m.source_key
        for m in session.scalars(select(Message).where(Message.kind == MessageKind.NOTICE))
    )
    assert [k.split(":")[3] for k in keys] == ["2016-03-31", "2017-03-31"]


def test_a_campaign_met_long_after_its_purge_date_is_warned_first(
    app: Flask, session: Session, network: Network
) -> None:
    """A database that first runs the job years later (the demo, say) warns, and purges 30 days
    after, not at once. A campaign of nobody gets no mail about it."""
    assert run_retention(app, datetime(2026, 5, 4, 8, 0, tzinfo=UTC))
    assert session.scalars(select(Message)).all() == []
    session.expire_all()
    campaign = session.get(Campaign, network.campaign.id)
    assert campaign is not None and campaign.purged_at is None
    assert campaign.retention_warned_at == datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
    assert run_retention(app, datetime(2026, 6, 2, 21, 59, tzinfo=UTC))
    session.expire_all()
    assert session.get(Campaign, network.campaign.id).purged_at is None
    assert run_retention(app, datetime(2026, 6, 2, 22, 0, tzinfo=UTC))  # 3 June, Stockholm
    session.expire_all()
    assert session.get(Campaign, network.campaign.id).purged_at is not None
