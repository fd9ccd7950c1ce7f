"""Every page of the app in the real browser, checked with axe-core (WCAG 2.1 AA).

The pages come from the URL map, as in the role matrix: a new page is checked without a line
here. Staff pages are opened as the lead admin and, where a member's representative may open
them, as Alpha's representative; the participants' pages through their signed links.
"""

from __future__ import annotations

from typing import Any

import pytest

from campaign.accounts.scope import Access
from tests.accounts.test_scope import EXPECTED
from tests.browser import Live, audit, sign_in
from tests.conftest import PASSWORD, Network
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
    "report.download",
    "report.final_bundle",
    "health.healthz",
    "outbox.html",
    "drip.preview_html",
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
    ):
        browser_page.goto(url)
        assert browser_page.locator("html").get_attribute("lang") == "en"
        audit(browser_page)


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
