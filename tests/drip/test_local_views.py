"""The representative's page of their own wording: steps with places, a form per place and
language, the shared text read-only, previews; bad input told in a sentence; scope; audit."""

from __future__ import annotations

from datetime import date

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.audit import AuditEvent
from campaign.drip.local import LocalParagraph
from campaign.network.models import Membership
from tests.conftest import Network, csrf_token, sign_in
from tests.outbox_helpers import participant
from tests.urls import staff

PAGE = staff("/organisations/alpha/wording/pilot-group/01")


def _post(client: FlaskClient, url: str, target: str, text: str) -> str:
    data = {"csrf_token": csrf_token(client, url), "target": target, f"{target}-text": text}
    response = client.post(url, data=data, follow_redirects=True)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_steps_with_places_are_listed(client: FlaskClient, network: Network) -> None:
    sign_in(client, "rep@alpha.se")
    page = client.get(staff("/organisations/alpha/wording")).get_data(as_text=True)
    assert "Välkommen till provgruppen för webbmöten, Åsa!" in page
    assert staff("/organisations/alpha/wording/pilot-group/03") in page
    assert "/wording/pilot-group/05" not in page  # no place there
    organisation = client.get(staff("/organisations/alpha")).get_data(as_text=True)
    assert staff("/organisations/alpha/wording") in organisation


def test_a_representative_writes_and_previews_a_paragraph(
    client: FlaskClient, network: Network, session: Session
) -> None:
    sign_in(client, "rep@alpha.se")
    page = client.get(PAGE).get_data(as_text=True)
    assert '<mark class="local-place">Ert stycke: help</mark>' in page  # the shared text
    assert 'id="help-sv-text"' in page and 'id="help-en-text"' in page
    page = _post(client, PAGE, "help-sv", "Ring **Alphas** support: 0303-12 34 56.\r\n")
    assert "Ert stycke är sparat." in page
    assert "Ring **Alphas** support: 0303-12 34 56.\n\nVi hörs snart!" in page  # plain text
    html = client.get(PAGE + "/sv/html").get_data(as_text=True)
    assert "<strong>Alphas</strong>" in html
    english = client.get(PAGE + "/en/html").get_data(as_text=True)
    assert "Talk to you soon!" in english and "Alphas" not in english
    row = session.scalars(select(LocalParagraph)).one()
    assert (row.step_ident, row.place, row.language) == ("01", "help", "sv")
    assert row.text == "Ring **Alphas** support: 0303-12 34 56."
    assert row.updated_by == network.rep_alpha.id
    event = session.scalars(select(AuditEvent).where(AuditEvent.action.like("member.%"))).one()
    assert event.action == "member.wording_changed" and event.campaign_id == network.campaign.id
    assert event.details["place"] == "help" and event.target == "pilot-group/01"
    assert "Ert stycke är borttaget." in _post(client, PAGE, "help-sv", "")
    session.expire_all()
    assert session.scalars(select(LocalParagraph)).all() == []


def test_bad_input_is_told_and_nothing_is_saved(
    client: FlaskClient, network: Network, session: Session
) -> None:
    sign_in(client, "rep@alpha.se")
    long = _post(client, PAGE, "help-sv", "x" * 2001)
    assert "Ett stycke får vara högst 2\u00a0000 tecken långt; det här har 2\u00a0001." in long
    assert "Inget sparades." in long
    tags = _post(client, PAGE, "help-sv", "<b>hej</b>")
    assert "HTML-taggar" in tags and "&lt;b&gt;hej&lt;/b&gt;</textarea>" in tags  # kept to fix
    html = _post(client, PAGE, "help-en", "<script>alert(1)</script>")
    assert "HTML-taggar som &lt;p&gt; är inte tillåtna" in html
    assert (
        '<li><a href="#help-en-text">Ert stycke vid ”help” <span lang="en">(English)</span></a>'
        in html
    )
    jinja = _post(client, PAGE, "help-sv", "Hej {{ participant.name }}")
    assert "fylls inte i" in jinja
    unknown = _post(client, PAGE, "nowhere-sv", "Hej")
    assert "Steget har ingen sådan plats; ingenting sparades." in unknown
    assert session.scalars(select(LocalParagraph)).all() == []
    assert client.get(staff("/organisations/alpha/wording/pilot-group/05")).status_code == 404
    assert client.get(PAGE + "/de/html").status_code == 404


def test_the_preview_as_one_of_ones_own_participants(
    client: FlaskClient, network: Network, session: Session
) -> None:
    from campaign.enrolment.models import PilotGroup, PilotGroupKind
    from tests.conftest import START

    group = PilotGroup(
        campaign_id=network.campaign.id, organisation_id=network.alpha.id, name="Chefer",
        kind=PilotGroupKind.SELECTED_MANAGERS, sequence_name="pilot-group", created_at=START,
        starts_on=date(2014, 3, 3),
    )  # fmt: skip
    session.add(group)
    person = participant(session, network, "karin@alpha.se", name="Karin Ek")
    person.pilot_group = group
    participant(session, network, "bo@beta.se", name="Bo Beta", org="beta")
    session.commit()
    sign_in(client, "rep@alpha.se")
    page = client.get(PAGE + "?participant=karin@alpha.se").get_data(as_text=True)
    assert "Hej Karin!" in page and "Alpha kommun" in page
    page = client.get(PAGE + "?participant=bo@beta.se").get_data(as_text=True)
    assert "Ingen av era aktiva deltagare i en provgrupp har den här adressen." in page
    assert "Bo Beta" not in page
    _post(client, PAGE, "help-sv", "Alphas egen hjälp.")
    client.get("/logout")
    sign_in(client, "lead@alpha.se")  # the lead's preview of the step as Karin has it too
    lead = client.get(staff("/sequences/pilot-group/sv/01?participant=karin@alpha.se"))
    assert "Alphas egen hjälp." in lead.get_data(as_text=True)
    assert "Alphas egen hjälp." not in client.get(staff("/sequences/pilot-group/sv/01")).get_data(
        as_text=True
    )  # the sample has no member


def test_the_lead_edits_any_members_paragraph_and_others_cannot(
    client: FlaskClient, network: Network, session: Session
) -> None:
    beta_page = staff("/organisations/beta/wording/pilot-group/01")
    sign_in(client, "rep@alpha.se")
    assert client.get(beta_page).status_code in (403, 404)
    client.get("/logout")
    sign_in(client, "lead@alpha.se")
    assert "Ert stycke är sparat." in _post(client, beta_page, "help-en", "Beta's helpdesk.")
    row = session.scalars(select(LocalParagraph)).one()
    assert session.get(Membership, row.membership_id).organisation_id == network.beta.id
    assert row.updated_by == network.lead.id and row.text == "Beta's helpdesk."


def test_markdown_autolinks_are_not_html(
    client: FlaskClient, network: Network, session: Session
) -> None:
    sign_in(client, "rep@alpha.se")
    for refused in ('<a href="https://x.se">x</a>', "rad<br/>rad", "<!-- dold -->"):
        assert "HTML-taggar" in _post(client, PAGE, "help-sv", refused), refused
    text = "Guiden: <https://intranat.alpha.se/lync>, frågor till <it@alpha.se>; 3 < 5."
    assert "Ert stycke är sparat." in _post(client, PAGE, "help-sv", text)
    html = client.get(PAGE + "/sv/html").get_data(as_text=True)
    assert 'href="https://intranat.alpha.se/lync"' in html
    assert session.scalars(select(LocalParagraph.text)).one() == text
