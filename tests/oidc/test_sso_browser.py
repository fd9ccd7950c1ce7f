"""Single sign-on in the real browser: chromium presses "Logga in med …", signs in at the
OpenID provider (node-oidc-provider on 127.0.0.1), consents, and is back in the service with
the role the provider's groups give: the lead administrator on the campaign's lead pages, a
representative on their own member's only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from campaign.timing import FixedClock, install_clock
from tests.browser import Live, audit, served
from tests.conftest import Network, make_app
from tests.oidc.provider import running_provider
from tests.smtp import free_port
from tests.urls import staff


@pytest.fixture
def live(database_url: str, tmp_path: Path) -> Iterator[Live]:
    """The service over real HTTP with single sign-on, and its provider, both on 127.0.0.1."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with running_provider(tmp_path, [f"{url}/login/sso/callback"]) as provider:
        app = make_app(database_url, tmp_path, CAMPAIGN_BASE_URL=url, **provider.settings())
        now = datetime.fromtimestamp(int(datetime.now(UTC).timestamp()), UTC)
        install_clock(app, FixedClock(now))  # the provider's tokens are of today
        with served(app, port) as live:
            yield live


def _sign_in_at_provider(page: Any, live: Live, login: str) -> None:
    """Press the service's button, sign in at the provider and consent."""
    page.goto("/login")
    audit(page)
    before = len(page.seen.errors)
    page.get_by_role("link", name="Logga in med Testkommunens konto").click()
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(lambda url: url.startswith(live.url) and "/login" not in url)
    page.wait_for_load_state()
    # The provider's development pages ask for a web font on the internet, which this sandbox
    # cannot resolve; the service's own pages load nothing from elsewhere (CSP 'self').
    seen = page.seen.errors
    seen[before:] = [e for e in seen[before:] if "ERR_NAME_NOT_RESOLVED" not in e]


def test_the_lead_admin_signs_in_through_the_provider(
    browser_page: Any, live: Live, network: Network
) -> None:
    page = browser_page
    _sign_in_at_provider(page, live, "lead")
    assert page.url.endswith(staff("/network")), page.url
    audit(page)
    assert page.goto(staff("/network/settings")).status == 200  # a lead administrator's page


def test_a_representative_signs_in_to_their_own_member(
    browser_page: Any, live: Live, network: Network
) -> None:
    page = browser_page
    _sign_in_at_provider(page, live, "rep")
    assert page.goto(staff("/organisations/beta")).status == 200
    audit(page)
    assert page.goto(staff("/organisations/alpha")).status == 404
    assert page.goto(staff("/network/settings")).status == 403
