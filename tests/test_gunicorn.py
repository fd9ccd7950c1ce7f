"""The web under gunicorn with several worker processes, behind a (pretend) reverse proxy.

Any worker serves any request of a signed-in session, no web worker runs the clock's jobs, and
the client's address comes from the proxy's X-Forwarded-For, so that the sign-in limits count
each person's address rather than the proxy's.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.jobs import JobLease
from tests.conftest import PASSWORD, Network
from tests.smtp import free_port
from tests.urls import staff

WORKERS = 3


@dataclass
class Served:
    url: str
    log: Path


@pytest.fixture
def gunicorn(database_url: str, tmp_path: Path, network: Network) -> Iterator[Served]:
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGN_")}
    environment.update(
        CAMPAIGN_DATABASE_URL=database_url,
        CAMPAIGN_SECRET_KEY="test-secret-key",
        CAMPAIGN_INSTANCE_PATH=str(tmp_path / "instance"),
        CAMPAIGN_TRUSTED_PROXIES="1",
    )
    log = tmp_path / "access.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS),
         "--bind", f"127.0.0.1:{port}", "--access-logfile", str(log),
         "--access-logformat", "%(p)s %(m)s %(U)s %(s)s", "campaign.wsgi:app"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "gunicorn.log").open("w"),
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"{url}/healthz", timeout=1)
                break
            except OSError:
                assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()
                time.sleep(0.1)
        yield Served(url, log)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


def _browser(client_address: str) -> urllib.request.OpenerDirector:
    """A client with its own cookies whose requests come through the proxy from an address."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    opener.addheaders = [("X-Forwarded-For", client_address)]
    return opener


def _sign_in(opener: urllib.request.OpenerDirector, url: str, email: str, password: str) -> str:
    """Post the login form; return the path it ends on."""
    page = opener.open(f"{url}/login").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    form = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": token})
    try:
        with opener.open(f"{url}/login", data=form.encode()) as response:
            return urllib.parse.urlsplit(response.url).path
    except urllib.error.HTTPError as error:
        return f"{error.code}"


def test_any_worker_serves_a_signed_in_session_and_none_runs_jobs(
    gunicorn: Served, network: Network, session: Session
) -> None:
    opener = _browser("198.51.100.7")
    assert _sign_in(opener, gunicorn.url, network.lead.email, PASSWORD) == staff("/network")

    def dashboard(_: int) -> tuple[int, str]:
        with opener.open(gunicorn.url + staff("/dashboard")) as response:
            return response.status, urllib.parse.urlsplit(response.url).path

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(dashboard, range(48)))
    assert answers == [(200, staff("/dashboard"))] * 48  # signed in whichever worker answered
    time.sleep(0.5)  # the access log is written after each answer
    served_by = {
        line.split()[0]
        for line in gunicorn.log.read_text().splitlines()
        if staff("/dashboard") in line
    }
    assert len(served_by) >= 2, served_by  # several processes shared the work
    # The web workers tick nothing: the jobs belong to `campaign worker`.
    assert session.scalar(select(func.count()).select_from(JobLease)) == 0


def test_sign_in_limits_count_the_forwarded_client_address(
    gunicorn: Served, network: Network
) -> None:
    guesser = _browser("203.0.113.9")
    for n in range(20):  # 20 failed tries from one client, each at another address
        assert _sign_in(guesser, gunicorn.url, f"guess{n}@alpha.se", "wrong password") == "/login"
    # That client is locked out, even with the right password...
    assert _sign_in(guesser, gunicorn.url, network.lead.email, PASSWORD) == "429"
    # ...but the same proxy forwards another person, who signs in.
    other = _browser("203.0.113.10")
    assert _sign_in(other, gunicorn.url, network.lead.email, PASSWORD) == staff("/network")
