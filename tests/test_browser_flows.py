"""The main flows in the real browser, as the people who use them would go through them.

The lead admin signs in, creates a pilot group and a practice meeting; Alpha's representative
imports the group's participants from a CSV file and sends the invitations; the clock ticks and
the mail lands in the Maildir; a participant opens the links in their mail, answers the
questionnaire and says yes to the meeting; the lead admin downloads the report. Every page on
the way is checked with axe-core.
"""

from __future__ import annotations

import mailbox
import re
import subprocess
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.enrolment.models import Participant, PilotGroup
from campaign.events.models import Event, Invitation, Rsvp
from campaign.jobs import tick
from campaign.surveys.models import Response
from tests.browser import Browser, Live, audit, sign_in
from tests.conftest import PASSWORD, Network
from tests.urls import staff

PEOPLE = (
    "E-post;Namn;Titel\n"
    "asa.oberg@alpha.se;Åsa Öberg;Miljöstrateg\n"
    "erik.lund@alpha.se;Erik Lund;Handläggare\n"
    "maria.nilsson@alpha.se;Maria Nilsson;Enhetschef\n"
    # Participants' data must not break out of the pages it is shown on.
    "pelle.hack@alpha.se;<img src=x onerror=alert('namn')>;<script>alert('titel')</script>\n"
)


def _submit(page: Any) -> None:
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_load_state()


def _sign_out(page: Any) -> None:
    page.get_by_role("button", name="Logga ut").click()
    page.wait_for_load_state()


def _mail_to(live: Live, address: str) -> list[Any]:
    """The mail in the app's Maildir addressed to `address`, parsed."""
    folder = mailbox.Maildir(live.app.config["CAMPAIGN_MAILDIR"], create=False)
    parser = BytesParser(policy=policy.default)
    found = [parser.parsebytes(folder.get_bytes(key)) for key in folder.iterkeys()]
    return [mail for mail in found if mail["To"] and address in str(mail["To"])]


def _link(live: Live, mails: list[Any], path: str) -> str:
    """The first link to `path` in the plain-text parts of `mails`."""
    pattern = re.compile(re.escape(live.url) + re.escape(path) + r"[^\s>)\]]+")
    for mail in mails:
        text = mail.get_body(preferencelist=("plain",)).get_content()
        match = pattern.search(text)
        if match:
            return match.group(0)
    raise AssertionError(f"no {path} link in {[str(m['Subject']) for m in mails]}")


def _lead_creates_a_group_and_a_meeting(page: Any, network: Network) -> None:
    sign_in(page, network.lead.email, PASSWORD)
    assert page.url.endswith(staff("/network"))
    audit(page)

    page.goto(staff("/organisations/alpha/groups/new"))
    audit(page)
    page.locator("#name").fill("Miljöförvaltningen")
    page.locator("#kind").select_option("project_group")
    page.locator("#starts_on").fill("2014-03-03")
    _submit(page)
    assert page.get_by_text("Miljöförvaltningen").first.is_visible()
    audit(page)

    page.goto(staff("/organisations/alpha/events/new"))
    audit(page)
    page.locator("#kind").select_option("practice_meeting")
    page.locator("#title").fill("Prova-på-möte i Lync")
    page.locator("#description_md").fill(
        "Vi provar **ljud och bild** tillsammans. <script>alert('beskrivning')</script>"
        " [Klicka](javascript:alert('länk'))"
    )
    page.locator("#day").fill("2014-03-12")
    page.locator("#starts").fill("09:00")
    page.locator("#ends").fill("10:00")
    page.locator("#join_url").fill("https://meet.alpha.se/prova")
    page.locator("#capacity").fill("2")
    page.locator("#audience").select_option("pilot_group")
    page.locator("#pilot_group").select_option(label="Miljöförvaltningen")
    _submit(page)
    page.get_by_role("heading", name="Prova-på-möte i Lync").wait_for()
    audit(page)
    _sign_out(page)


def _rep_imports_and_invites(page: Any, network: Network) -> None:
    sign_in(page, network.rep_alpha.email, PASSWORD)
    page.goto(staff("/organisations/alpha/imports/new"))
    audit(page)
    page.locator("#pilot_group").select_option(label="Miljöförvaltningen")
    page.locator("#file").set_input_files(
        files=[{"name": "provgrupp.csv", "mimeType": "text/csv", "buffer": PEOPLE.encode()}]
    )
    _submit(page)
    # The file is read in the background; the page's script shows the preview when it is done.
    page.locator("#agreed").wait_for()
    assert page.get_by_text("asa.oberg@alpha.se").is_visible()
    audit(page)
    page.locator("#agreed").check()
    page.get_by_role("button", name=re.compile("Importera 4 nya")).click()
    page.wait_for_load_state()
    audit(page)

    page.goto(staff("/organisations/alpha/participants"))
    for address in ("asa.oberg@alpha.se", "erik.lund@alpha.se", "maria.nilsson@alpha.se"):
        assert page.get_by_text(address).is_visible()
    assert page.get_by_text("<img src=x onerror=alert('namn')>").is_visible()  # shown as text
    audit(page)

    page.goto(staff("/organisations/alpha/events"))
    page.get_by_role("link", name="Prova-på-möte i Lync").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Skicka inbjudan till 4 personer").click()
    page.wait_for_load_state()
    audit(page)
    _sign_out(page)


def _participant_answers_and_comes(page: Any, live: Live, session: Session) -> None:
    mails = _mail_to(live, "asa.oberg@alpha.se")
    page.goto(_link(live, mails, "/q/"))
    assert page.locator("html").get_attribute("lang") == "sv"
    page.get_by_role("heading", name="Innan du börjar").wait_for()
    audit(page)
    # A required answer missing: the server says which, and keeps what was typed.
    page.locator("#trips_per_month").fill("6")
    _submit(page)
    assert page.locator("[role=alert]").first.is_visible()
    assert page.locator("#trips_per_month").input_value() == "6"
    audit(page)
    page.get_by_label("Varje månad").check()
    page.locator("input[name=expectation][value='4']").check()
    page.locator("#hopes").fill("Färre resor till Göteborg.")
    _submit(page)
    assert page.locator(".flash-success").is_visible()
    audit(page)

    page.goto(_link(live, mails, "/rsvp/"))
    page.get_by_role("heading", name="Prova-på-möte i Lync").wait_for()
    assert page.get_by_text("Klicka").is_visible()
    assert page.locator("a[href^='javascript']").count() == 0
    audit(page)
    page.get_by_role("button", name="Ja, jag kommer").click()
    page.wait_for_load_state()
    assert page.locator(".flash-success").is_visible()
    audit(page)

    person = session.scalars(
        select(Participant).where(Participant.email == "asa.oberg@alpha.se")
    ).one()
    answers = session.scalars(select(Response.answers)).one()
    assert answers["trips_per_month"] == 6 and answers["experience"] == "monthly"
    assert answers["expectation"] == 4 and answers["hopes"] == "Färre resor till Göteborg."
    invitation = session.scalars(
        select(Invitation).where(Invitation.participant_id == person.id)
    ).one()
    assert invitation.rsvp is Rsvp.ACCEPTED


def _lead_downloads_the_report(page: Any, network: Network, tmp_path: Path) -> None:
    sign_in(page, network.lead.email, PASSWORD)
    page.goto(staff("/report"))
    audit(page)
    row = page.locator("tr", has_text="PDF")
    with page.expect_download() as download:
        row.get_by_role("link").first.click()
    saved = tmp_path / "slutrapport.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    try:
        text = subprocess.run(
            ["pdftotext", str(saved), "-"], capture_output=True, text=True, check=True
        ).stdout
    except FileNotFoundError:
        pytest.skip("needs pdftotext (poppler-utils) to read the report back")
    assert "Alpha" in text and "Beta" in text


def test_from_the_first_sign_in_to_the_report(
    live: Live, network: Network, session: Session, browser: Browser, tmp_path: Path
) -> None:
    staff = browser.page()
    _lead_creates_a_group_and_a_meeting(staff, network)
    assert session.scalars(select(PilotGroup.name)).all() == ["Miljöförvaltningen"]
    assert session.scalars(select(Event.title)).all() == ["Prova-på-möte i Lync"]

    _rep_imports_and_invites(staff, network)
    session.expire_all()
    assert len(session.scalars(select(Participant)).all()) == 4

    # The clock: the welcome, the baseline questionnaire and the invitations go out.
    assert all(tick(live.app).values())
    _participant_answers_and_comes(browser.page(), live, session)

    _lead_downloads_the_report(staff, network, tmp_path)
