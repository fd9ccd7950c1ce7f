"""The real browser: Debian's chromium, driven by Playwright, against the app served on 127.0.0.1.

`live` serves a test app over HTTP; `browser_page` opens a page in a fresh browser context.
`audit(page)` runs axe-core (vendored in tests/vendor/) on the page as it stands and fails on
any serious or critical violation of WCAG 2.1 A/AA or axe's best practices. The page keeps the
app's Content-Security-Policy: axe is served to it from its own origin, so the policy is tested
too, and any script error, CSP refusal or dialog (an injected alert) fails the test.

When a test fails, every page it audited, and each page still open, is saved as a PNG in
test-artifacts/screenshots/.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.smtp import free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# As root in a sandbox with no network beyond the registries: no sandbox, no background calls.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_SCRIPT = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_URL = "/__test__/axe.min.js"  # served by the browser context itself, never by the app
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
SCREENSHOTS = Path(__file__).parent.parent / "test-artifacts" / "screenshots"


@dataclass
class Live:
    app: Flask
    url: str


@contextmanager
def served(app: Flask, port: int) -> Iterator[Live]:
    """Serve `app` over real HTTP on 127.0.0.1:`port` in a thread; close it afterwards."""
    from tests.conftest import close_app

    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Live(app, f"http://127.0.0.1:{port}")
    finally:
        server.shutdown()
        thread.join(10)
        close_app(app)


@pytest.fixture
def live(database_url: str, tmp_path: Path) -> Iterator[Live]:
    """The app served over real HTTP on 127.0.0.1; its mail goes to its instance Maildir."""
    from tests.conftest import make_app

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = make_app(database_url, tmp_path, CAMPAIGN_BASE_URL=url)
    with served(app, port) as live:
        yield live


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless chromium for the whole run."""
    if not Path(CHROMIUM).exists():
        message = "needs Debian's chromium (apt-get install chromium); .ci/run installs it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@dataclass
class Seen:
    """What the pages of one test showed: screenshots of audited pages and logged errors."""

    shots: list[tuple[str, bytes]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class Browser:
    """Opens pages, each in a fresh context (a person of their own: no cookies), in Swedish."""

    def __init__(self, chromium: Any, live: Live) -> None:
        self.chromium, self.live = chromium, live
        self.contexts: list[Any] = []
        self.seen = Seen()

    def page(self) -> Any:
        context = self.chromium.new_context(
            base_url=self.live.url, locale="sv-SE", accept_downloads=True
        )
        context.route(
            f"**{AXE_URL}",
            lambda route: route.fulfill(path=AXE_SCRIPT, content_type="application/javascript"),
        )
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        page = context.new_page()
        errors = self.seen.errors
        page.on("pageerror", lambda error: errors.append(f"script error: {error}"))
        page.on(
            "console",
            lambda message: (
                errors.append(f"console: {message.text}") if message.type == "error" else None
            ),
        )
        page.on(
            "dialog", lambda dialog: (errors.append(f"dialog: {dialog.message}"), dialog.dismiss())
        )
        page.seen = self.seen  # type: ignore[attr-defined]
        return page


@pytest.fixture
def browser(chromium: Any, live: Live, request: pytest.FixtureRequest) -> Iterator[Browser]:
    """The browser against the live app; on failure, screenshots of what the test saw."""
    opened = Browser(chromium, live)
    yield opened
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        pages = [page for context in opened.contexts for page in context.pages]
        _save_screenshots(request.node.name, opened.seen, pages)
    for context in opened.contexts:
        context.close()


@pytest.fixture
def browser_page(browser: Browser) -> Any:
    """One page in a fresh context."""
    return browser.page()


def _save_screenshots(test: str, seen: Seen, pages: list[Any]) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^\w.-]+", "_", test)
    shots = list(seen.shots)
    for page in pages:
        try:
            shots.append((f"open {page.url}", page.screenshot(full_page=True)))
        except Exception:  # a crashed page has no picture; the others still do
            continue
    for number, (where, png) in enumerate(shots, 1):
        (SCREENSHOTS / f"{stem}-{number:02d}.png").write_bytes(png)
        print(f"screenshot {SCREENSHOTS / f'{stem}-{number:02d}.png'}: {where}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the test item, so fixtures can tell a failure."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def audit(page: Any) -> None:
    """Fail on serious or critical axe-core violations, script errors or CSP refusals."""
    seen: Seen = page.seen
    seen.shots.append((page.url, page.screenshot(full_page=True)))
    assert not seen.errors, f"{page.url}: {seen.errors}"
    page.add_script_tag(url=AXE_URL)
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not serious, f"{page.url}:\n" + "\n".join(_describe(v) for v in serious)


def _describe(violation: dict[str, Any]) -> str:
    targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
    return f"- {violation['id']} ({violation['impact']}): {violation['help']} at {targets}"


def sign_in(page: Any, email: str, password: str) -> None:
    """Sign in through the login page, as a person would."""
    page.goto("/login")
    audit(page)
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
