"""In the real browser (chromium, under the app's own Content-Security-Policy): the API
reference at /api/v1/docs draws every operation of the OpenAPI document with the vendored
Swagger UI and no CSP violation; the tokens page makes a token, shows it once, revokes it,
and passes axe-core."""

from __future__ import annotations

from typing import Any

from tests.browser import Live, audit, sign_in
from tests.conftest import PASSWORD, Network

# Collects every CSP violation the page reports, before any script of the page runs (an init
# script is the browser's own, not the page's: the CSP does not apply to it).
WATCH_CSP = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__violations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def _operations(live: Live) -> tuple[list[tuple[str, str]], list[str]]:
    """Return the document's operations (method, path) and its webhooks' event types."""
    document = live.app.test_client().get("/api/v1/openapi.json").get_json()
    paths = document["paths"].items()
    return [(method.upper(), path) for path, ops in paths for method in ops], list(
        document.get("webhooks", {})
    )


def test_the_reference_draws_every_operation_without_a_csp_violation(
    live: Live, browser_page: Any
) -> None:
    page = browser_page
    page.add_init_script(WATCH_CSP)
    response = page.goto("/api/v1/docs")
    assert response is not None and response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector("#api-reference .opblock")
    operations, webhooks = _operations(live)
    drawn = page.locator("#api-reference .opblock").count()
    assert drawn == len(operations) + len(webhooks) and len(operations) >= 4
    shown = page.locator("#api-reference .opblock-summary-path").all_inner_texts()
    paths = sorted(s.replace("\u200b", "") for s in shown if s.startswith("/"))
    assert paths == sorted(p for _m, p in operations)
    # An operation opens with its parameters and answers.
    page.locator("#api-reference .opblock-summary").first.click()
    page.wait_for_selector("#api-reference .responses-wrapper")
    assert page.evaluate("window.__violations") == []
    assert page.seen.errors == []  # no console error, no script error
    assert page.locator("main > h1").inner_text() == "API-referens"


def test_the_tokens_page_makes_shows_once_and_revokes(
    live: Live, network: Network, browser_page: Any
) -> None:
    page = browser_page
    page.add_init_script(WATCH_CSP)
    sign_in(page, network.rep_alpha.email, PASSWORD)
    page.goto("/account")
    page.get_by_role("link", name="Dina API-tokens").click()
    page.wait_for_load_state()
    audit(page)
    page.get_by_role("button", name="Skapa tokenen").click()  # nothing chosen: errors
    page.wait_for_load_state()
    assert page.locator(".field-error").count() >= 2
    audit(page)
    page.fill("#name", "Intranätet")
    page.get_by_label("Allt: läsa", exact=True).check()
    page.get_by_label("läsa och ändra (Deltagare)", exact=True).check()
    page.get_by_label("30 dagar").check()
    page.get_by_role("button", name="Skapa tokenen").click()
    page.wait_for_load_state()
    token = page.locator("#new-token").input_value()
    assert token.startswith("cmp_") and token not in page.url
    audit(page)
    page.goto("/account/tokens")
    assert token not in page.content() and "Intranätet" in page.content()
    page.get_by_role("button", name="Återkalla Intranätet").click()
    page.wait_for_load_state()
    audit(page)
    page.get_by_role("button", name="Återkalla", exact=True).click()
    page.wait_for_load_state()
    assert "återkallad" in page.locator("table.tokens").inner_text()
    audit(page)
    page.get_by_role("link", name="API-referensen").click()
    page.wait_for_selector("#api-reference .opblock")
    assert page.evaluate("window.__violations") == []
