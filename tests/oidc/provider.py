"""A real OpenID provider for the single sign-on tests: node-oidc-provider (installed by
`npm ci` in this folder; .ci/run does it), started on 127.0.0.1 with a configuration written
here: the service's client, a signing key made by the test, and the people who may sign in.

Without node the tests skip, unless CAMPAIGN_TEST_OIDC=required (as in .ci/run): then they fail.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests
from joserfc.jwk import RSAKey

from tests.smtp import free_port

HERE = Path(__file__).parent
CLIENT_ID, CLIENT_SECRET = "campaign", "test-client-secret"
ROLES = (
    "campaign-lead=lead_admin of alpha; campaign-alpha=member_rep of alpha;"
    " campaign-beta=member_rep of beta"
)
PEOPLE: dict[str, dict[str, Any]] = {
    "lead": {"email": "lead@alpha.se", "name": "Lea Lead", "groups": ["campaign-lead"]},
    "rep": {"email": "rep@beta.se", "name": "Bert Rep", "groups": ["campaign-beta"]},
    "newcomer": {"email": "ny@beta.se", "name": "Nora Ny", "groups": ["staff", "campaign-beta"]},
    "promoted": {"email": "rep@alpha.se", "name": "Alva Rep", "groups": ["campaign-lead"]},
    "stranger": {"email": "someone@gamma.se", "name": "Sam Främling", "groups": ["campaign-beta"]},
    "ungrouped": {"email": "nobody@beta.se", "name": "Nils Utan", "groups": ["staff"]},
    "unverified": {"email": "rep@beta.se", "name": "Bert Rep", "email_verified": False,
                   "groups": ["campaign-beta"]},
}  # fmt: skip


@dataclass
class Provider:
    issuer: str

    def settings(self) -> dict[str, str]:
        """The service's settings for this provider."""
        return {
            "CAMPAIGN_OIDC_ISSUER": self.issuer,
            "CAMPAIGN_OIDC_CLIENT_ID": CLIENT_ID,
            "CAMPAIGN_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "CAMPAIGN_OIDC_NAME": "Testkommunens konto",
            "CAMPAIGN_OIDC_SCOPES": "openid email profile groups",
            "CAMPAIGN_OIDC_ROLES": ROLES,
            "CAMPAIGN_OIDC_DOMAINS": "beta.se",
        }

    def tamper(self, **change: Any) -> None:
        """Make the provider's next ID token carry other claims, or be the previous one."""
        requests.post(f"{self.issuer}/__test__/tamper", json=change, timeout=5).raise_for_status()


def node() -> str:
    """Return the node program, or skip (fail where CAMPAIGN_TEST_OIDC=required)."""
    found = shutil.which("node")
    if found and (HERE / "node_modules" / "oidc-provider").is_dir():
        return found
    message = "needs node and `npm ci` in tests/oidc (.ci/run does both)"
    if os.environ.get("CAMPAIGN_TEST_OIDC") == "required":
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def running_provider(folder: Path, redirect_uris: list[str]) -> Iterator[Provider]:
    """Run the provider on a free port of 127.0.0.1 until the block ends."""
    program, port = node(), free_port()
    issuer = f"http://127.0.0.1:{port}"
    key = RSAKey.generate_key(2048, {"kid": "test-key", "use": "sig", "alg": "RS256"})
    people = {sub: {"email_verified": True, **claims} for sub, claims in PEOPLE.items()}
    client = {
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": redirect_uris,
        "grant_types": ["authorization_code"], "response_types": ["code"],
    }  # fmt: skip
    config = folder / "provider.json"
    config.write_text(json.dumps({"issuer": issuer, "port": port, "client": client,
                                  "jwk": key.as_dict(private=True), "people": people}))  # fmt: skip
    log = folder / "provider.log"
    with log.open("w") as output:
        process = subprocess.Popen([program, str(HERE / "provider.mjs"), str(config)],
                                   stdout=output, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        _wait_for_discovery(issuer, process, log)
        yield Provider(issuer)
    finally:
        process.terminate()
        process.wait(10)


def _wait_for_discovery(issuer: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Return once the provider answers its discovery document."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the OpenID provider stopped:\n{log.read_text()}")
        try:
            requests.get(f"{issuer}/.well-known/openid-configuration", timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.05)
    raise AssertionError(f"the OpenID provider did not start:\n{log.read_text()}")


def through_provider(authorize_url: str, login: str, back_to: str) -> str:
    """Sign `login` in at the provider and consent, as a browser would (its dev interactions:
    any password); return the URL it sends the browser back to (starting with `back_to`)."""
    browser, url = requests.Session(), authorize_url
    for _step in range(12):
        if url.startswith(back_to):
            return url
        answer = browser.get(url, allow_redirects=False, timeout=5)
        if not answer.is_redirect:
            answer = _submit(browser, url, answer.text, login)
        url = urljoin(url, answer.headers["location"])
    raise AssertionError(f"the provider never sent the browser back: {url}")


def _submit(browser: requests.Session, url: str, page: str, login: str) -> requests.Response:
    """Fill in the provider's login or consent form and send it."""
    action = re.search(r'action="([^"]+)"', page)
    prompt = re.search(r'name="prompt" value="(\w+)"', page)
    assert action and prompt, page
    data = {"prompt": prompt.group(1)}
    if prompt.group(1) == "login":
        data.update(login=login, password="any password")
    target = urljoin(url, html.unescape(action.group(1)))
    return browser.post(target, data=data, allow_redirects=False, timeout=5)
