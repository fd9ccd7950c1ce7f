"""The demo network: the 20 members of seed 004, and working demo accounts."""

from __future__ import annotations

import re
from datetime import date

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.demo.network import DEMO_SLUG
from campaign.enrolment.models import Participant
from campaign.enrolment.overview import member_rows
from campaign.network.members import campaign_with_slug
from campaign.network.models import Campaign, Membership, MembershipStatus, OrganisationKind
from tests.conftest import Runner, sign_in
from tests.urls import staff as staff_of


def staff(path: str) -> str:
    """Return the URL of a staff page of the demo campaign."""
    return staff_of(path, DEMO_SLUG)


def demo_campaign(session: Session) -> Campaign:
    """Return the demo campaign."""
    campaign = campaign_with_slug(session, DEMO_SLUG)
    assert campaign is not None, "the demo is not loaded"
    return campaign


# The overview table of seed 004 ("Översikt"), row by row.
SEED_TABLE = [
    ("Ale", "Lync", "Alla anställda"),
    ("Borås", "Lync", "För alla anställda sommaren 2015"),
    ("Dals-Ed", "Adobe, Lync", "Delar av personalen"),
    ("Essunga", "Lync", "Alla anställda"),
    ("Färgelanda", "Lync", "Testas hos IT-avdelningen"),
    ("Gullspång", "Lync", "Alla anställda"),
    ("Härryda", "Adobe Connect", "Delar av personalen"),
    ("Kungälv", "Lync", "Alla anställda"),
    ("Lilla Edet", "Lync", "Alla anställda"),
    ("Lysekil", "Lync", "Alla anställda (samt elever)"),
    ("Mariestad", "Lync", "Alla anställda"),
    ("Mölndal", "Lync", "Alla anställda (få licenser flerpartsmöte)"),
    ("Strömstad", "Lync", "Alla anställda"),
    ("Tanum", "Lync", "För alla anställda under 2015"),
    ("Vara", "Lync", "Alla anställda (installeras vid förfrågan)"),
    ("Åmål", "Adobe, Skype", "Alla anställda (installeras vid förfrågan)"),
    ("Öckerö", "Lync", "Alla anställda (installeras vid förfrågan)"),
    ("Högskolan i Borås", "Adobe Connect", "Alla anställda"),
    ("Högskolan i Skövde", "Adobe Connect", "Alla anställda"),
    ("Södra Älvsborgs sjukhus", "Lync", "Alla anställda"),
]

CREDENTIALS = re.compile(r"^\s+(lead_admin|member_rep)\s+(\S+@\S+)\s+(\S+)$", re.MULTILINE)


def _load(runner: Runner, *options: str) -> dict[str, tuple[str, str]]:
    result = runner.invoke("demo", *options)
    assert result.exit_code == 0, result.output
    return {role: (email, password) for role, email, password in CREDENTIALS.findall(result.output)}


def test_demo_reproduces_the_seed_overview_table(runner: Runner, session: Session) -> None:
    _load(runner, "--empty")
    campaign = demo_campaign(session)
    assert campaign is not None
    assert campaign.lead_organisation.short_name == "Kungälv"
    assert campaign.starts_on == date(2014, 1, 20)  # a Monday six weeks before the clock's now
    assert campaign.ends_on == date(2016, 1, 20)
    rows = member_rows(session, campaign)
    table = [
        (r.organisation.short_name, r.membership.meeting_software, r.membership.software_comment)
        for r in rows
    ]
    assert table == SEED_TABLE
    kinds = [r.organisation.kind for r in rows]
    assert kinds.count(OrganisationKind.MUNICIPALITY) == 17
    assert kinds.count(OrganisationKind.UNIVERSITY) == 2
    assert kinds.count(OrganisationKind.HOSPITAL) == 1
    informal = [
        r.organisation.short_name for r in rows if r.membership.status is MembershipStatus.INFORMAL
    ]
    assert len(informal) == 2  # "ett par av kommunerna" did not sign


def test_demo_carries_the_members_own_sections(runner: Runner, session: Session) -> None:
    _load(runner, "--empty")
    rows = {
        r.organisation.short_name: r.membership
        for r in member_rows(session, demo_campaign(session))
    }
    vara = rows["Vara"]
    assert vara.contact_name == "Maria Aronsson" and vara.contact_title == "miljöstrateg"
    assert "70 mils bilresa" in vara.work_done_md
    assert "- Ha support nära till hand i början." in vara.tips_md
    with_sections = [name for name, m in rows.items() if m.contact_name]
    assert len(with_sections) == 11


def test_demo_accounts_sign_in_and_reloading_changes_nothing_but_passwords(
    runner: Runner, session: Session, client: FlaskClient
) -> None:
    first = _load(runner, "--empty")
    people = session.scalar(select(func.count()).select_from(Participant))
    again = runner.invoke("demo")  # not --empty: the demo is loaded, nothing is added
    assert "is loaded already: kept as it is" in again.output, again.output
    second = {r: (e, p) for r, e, p in CREDENTIALS.findall(again.output)}
    assert session.scalar(select(func.count()).select_from(Participant)) == people
    assert set(second) == {"lead_admin", "member_rep"}
    assert first["lead_admin"][1] != second["lead_admin"][1]
    assert session.scalar(select(func.count()).select_from(Membership)) == 20
    sign_in(client, *second["lead_admin"])
    page = client.get(staff("/network")).get_data(as_text=True)
    assert "Södra Älvsborgs sjukhus" in page and "Testas hos IT-avdelningen" in page
    rep = client.application.test_client()
    sign_in(rep, *second["member_rep"])
    assert rep.get("/").headers["Location"] == staff("/organisations/ale")
    assert rep.get(staff("/organisations/kungalv")).status_code == 404


def test_the_historic_network_keeps_the_agreement_period(runner: Runner, session: Session) -> None:
    result = runner.invoke("demo", "--historic", "--empty")
    assert result.exit_code == 0, result.output
    campaign = demo_campaign(session)
    assert (campaign.starts_on, campaign.ends_on) == (date(2013, 1, 1), date(2015, 3, 31))
    assert campaign.name == "Resfria möten – Smart Energi 2013–2015"
    assert session.scalar(select(func.count()).select_from(Participant)) == 0
