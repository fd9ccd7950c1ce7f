"""Every page of the app in the real browser, checked with axe-core (WCAG 2.1 AA).

The pages come from the URL map, as in the role matrix: a new page is checked without a line
here. Staff pages are opened as the lead admin and, where a member's representative may open
them, as Alpha's representative; the participants' pages through their signed links.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session

from campaign.accounts.scope import Access
from campaign.milestones.models import Milestone
from tests.accounts.test_scope import EXPECTED
from tests.browser import Live, audit, sign_in
from tests.conftest import PASSWORD, START, Network
from tests.routes import TOKEN_OF, routes, url_of
from tests.urls import staff

# Each role's pages: what its actor may open (the lead admin reaches everything else).
PAGES_OF = {
    "anonymous": (Access.PUBLIC,),
    "rep_alpha": (Access.ORGANISATION, Access.STAFF),
    "lead": (Access.LEAD_ADMIN, Access.ORGANISATION, Access.STAFF),
}
# Not pages: files, feeds and machine answers, and the mail preview frames (checked below).
NOT_PAGES = {
    "events.download",
    "events.feed",
    "events.rsvp_calendar",
    "enrolment.export_participants",
    "enrolment.participant_data",
    "enrolment.import_progress",
    "events.mailing_progress",
    "surveys.member_export",
    "surveys.network_export",
    "surveys.download",
    "report.download",
    "report.final_bundle",
    "health.healthz",
    "outbox.html",
    "drip.preview_html",
    "drip.draft_frame",
    "drip.export_sequence",
    "wording.preview_html",
    "mailtexts.preview",
    "inbound.raw",
    "network.logo",
}


def _pages(live: Live, actor: str, objects: dict[str, str]) -> list[str]:
    found = []
    for endpoint, rule, method in routes(live.app):
        if method != "GET" or endpoint in NOT_PAGES:
            continue
        if EXPECTED[endpoint] not in PAGES_OF[actor]:
            continue
        values = {**objects, "token": objects[TOKEN_OF.get(endpoint, "token")]}
        found.append(url_of(rule, values))
    return found


@pytest.mark.parametrize("actor", ["anonymous", "rep_alpha", "lead"])
def test_every_page_passes_axe(
    live: Live,
    network: Network,
    alpha_objects: dict[str, str],
    browser_page: Any,
    actor: str,
) -> None:
    if actor != "anonymous":
        sign_in(browser_page, getattr(network, actor).email, PASSWORD)
    pages = _pages(live, actor, alpha_objects)
    assert len(pages) >= {"anonymous": 8, "rep_alpha": 20, "lead": 35}[actor]
    for url in pages:
        response = browser_page.goto(url)
        assert response is not None and response.status in (200, 410), f"{url}: {response}"
        audit(browser_page)


def test_english_pages_pass_axe(live: Live, network: Network, browser_page: Any) -> None:
    sign_in(browser_page, network.lead.email, PASSWORD)
    browser_page.locator(".lang-switch button[value=en]").click()
    browser_page.wait_for_load_state()
    assert browser_page.locator("html").get_attribute("lang") == "en"
    for url in (
        staff("/network"),
        staff("/dashboard"),
        staff("/report"),
        staff("/organisations/alpha/events/new"),
        staff("/mail-texts"),
        staff("/mail-texts/event-invitation/en"),
    ):
        browser_page.goto(url)
        assert browser_page.locator("html").get_attribute("lang") == "en"
        audit(browser_page)


def test_the_milestone_pages_pass_axe_filled_in_and_with_errors(
    live: Live, network: Network, session: Session, browser_page: Any
) -> None:
    """Both milestone pages with milestones of the campaign and of Alpha, the form after a bad
    name and date (errors beside the fields), in Swedish and in English."""
    for whose, day in ((None, date(2027, 3, 1)), (network.alpha.id, date(2027, 5, 3))):
        session.add(
            Milestone(
                campaign_id=network.campaign.id, organisation_id=whose, name="teams", day=day,
                description="Teams införs", updated_at=START,
            )
        )  # fmt: skip
    session.commit()
    sign_in(browser_page, network.lead.email, PASSWORD)
    for url in (staff("/milestones"), staff("/organisations/alpha/milestones")):
        browser_page.goto(url)
        assert "1 mars 2027" in browser_page.content()
        audit(browser_page)
        browser_page.fill("#name", "Teams på Ale")
        browser_page.click("form.milestone-form button[type=submit]")
        browser_page.wait_for_load_state()
        assert browser_page.locator(".field-error").count() >= 2  # the name and the date
        audit(browser_page)
    browser_page.locator(".lang-switch button[value=en]").click()
    browser_page.wait_for_load_state()
    assert "March 1, 2027" in browser_page.content()
    audit(browser_page)


def test_the_own_wording_page_with_a_refused_paragraph_passes_axe(
    live: Live, network: Network, browser_page: Any
) -> None:
    sign_in(browser_page, network.rep_alpha.email, PASSWORD)
    browser_page.goto(staff("/organisations/alpha/wording/pilot-group/01"))
    browser_page.fill("#help-sv-text", "<script>alert(1)</script>")
    browser_page.click("#help-sv button[type=submit]")
    browser_page.wait_for_load_state()
    assert browser_page.locator("#help-sv-text[aria-invalid=true]").count() == 1
    audit(browser_page)
    browser_page.fill("#help-sv-text", "Ring **Alphas** support.")
    browser_page.click("#help-sv button[type=submit]")
    browser_page.wait_for_load_state()
    assert "Ring **Alphas** support." in browser_page.locator("pre.mail-text").first.inner_text()
    frame = browser_page.frame_locator("iframe.mail-preview").first
    assert frame.locator("strong").filter(has_text="Alphas").count() == 1
    audit(browser_page)


def test_questionnaire_editor_with_problems_and_its_phone_preview_pass_axe(
    live: Live, network: Network, alpha_objects: dict[str, str], browser_page: Any
) -> None:
    sign_in(browser_page, network.lead.email, PASSWORD)
    edit = staff(f"/questionnaires/{alpha_objects['questionnaire_id']}/edit")
    browser_page.goto(edit)
    browser_page.fill("#title-en", "")
    browser_page.locator("form.questionnaire-editor button[type=submit]").click()
    browser_page.wait_for_load_state()
    assert browser_page.locator("#title-error").count() == 1  # beside the field, and above
    audit(browser_page)
    browser_page.goto(staff(f"/questionnaires/{alpha_objects['questionnaire_id']}/preview"))
    phone = browser_page.locator("iframe.phone-frame")
    assert phone.bounding_box()["width"] == pytest.approx(375, abs=1)
    assert browser_page.frame_locator("iframe.phone-frame").locator("h1").count() == 1
    audit(browser_page)


def test_a_mail_text_is_previewed_and_refused_with_its_line_in_the_browser(
    live: Live, network: Network, browser_page: Any
) -> None:
    """The Preview button shows the form's draft in the frame; Save with an unknown placeholder
    shows the problem beside the field and at the top, axe-clean."""
    page = browser_page
    sign_in(page, network.lead.email, PASSWORD)
    page.goto(staff("/mail-texts/event-invitation/sv"))
    page.fill("#subject", "Kom till {{ title }}!")
    page.get_by_role("button", name="Förhandsvisa").click()
    frame = page.frame_locator("iframe[name=mail-text-preview]")
    assert "Kom till Övningsmöte i Teams!" in frame.locator("body").inner_text()
    page.fill("#body", "{{ greeting }}\n\n{{ förnamn }}")
    page.get_by_role("button", name="Spara").click()
    page.wait_for_load_state()
    assert "Rad 3:" in page.locator("#body-error").inner_text()
    assert page.locator("[role=alert]").count() >= 1
    audit(page)


def test_a_pause_in_typing_previews_the_mail_text(
    live: Live, network: Network, browser_page: Any
) -> None:
    """With JavaScript, the frame follows the form by itself (the vendored mail-text-preview.js)."""
    page = browser_page
    sign_in(page, network.lead.email, PASSWORD)
    page.goto(staff("/mail-texts/questionnaire/en"))
    page.fill("#subject", "Your answers, please: {{ title }}")
    frame = page.frame_locator("iframe[name=mail-text-preview]")
    frame.get_by_text("Your answers, please: How do you meet today?").wait_for(timeout=5000)


def test_the_announcement_form_with_counts_preview_and_errors_passes_axe(
    live: Live, network: Network, alpha_objects: dict[str, str], browser_page: Any
) -> None:
    """The form as it is used: counted, previewed, then sent with a broken placeholder."""
    sign_in(browser_page, network.lead.email, PASSWORD)
    browser_page.goto(staff("/announcements/new"))
    browser_page.locator("#subject_sv").fill("Nyheter för {{ organisation.name }}")
    browser_page.locator("#body_sv").fill("Hej {{ participant.first_name }}!")
    browser_page.locator("button[name=count]").first.click()
    browser_page.wait_for_load_state()
    assert browser_page.locator("#preview-heading").count() == 1
    audit(browser_page)
    browser_page.locator("#body_sv").fill("Hej {{ participant.shoe_size }}!")
    browser_page.locator("button[name=send]").click()
    browser_page.wait_for_load_state()
    assert browser_page.locator(".field-error").count() >= 1
    audit(browser_page)
