"""The quick start for real: `campaign serve --demo` in its own process, reached over HTTP; and
the sentence it stops with when it cannot listen where it is asked to."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from campaign.cli.demo import Account
from campaign.cli.serve import _listen, _quiet_unless, ready_box
from tests.conftest import Runner


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str]]:
    port = _free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGN_")}
    environment["CAMPAIGN_INSTANCE_PATH"] = str(tmp_path / "instance")
    log = (tmp_path / "serve.log").open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "campaign", "serve", "--demo", "--port", str(port)],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # loading the demo takes some seconds
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                if process.poll() is not None:
                    break
                time.sleep(0.1)
        log.seek(0)
        yield base, log.read()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def test_serve_with_demo_answers_and_ticks(served: tuple[str, str]) -> None:
    base, output = served
    assert "Loaded the demo campaign" in output, output
    box = output[output.index("+--") :]  # the box comes last, once the server listens
    assert f"The campaign web UI is ready: {base}/" in box, output
    assert re.search(r"\| +lead_admin\s+lead@demo\.example\s+\S+ +\|", box), output
    assert re.search(r"\| +member_rep\s+rep@demo\.example\s+\S+ +\|", box), output
    assert "Mail goes to the Maildir" in box and "/instance/maildir" in box, output
    assert " INFO " not in output and "alembic" not in output, output  # no migration chatter
    login = urllib.request.urlopen(f"{base}/login", timeout=5).read().decode()
    assert "Logga in" in login
    css = urllib.request.urlopen(f"{base}/static/campaign.css", timeout=5)
    assert css.status == 200 and b".skip-link" in css.read()
    for _ in range(50):  # the scheduler's jobs first run at start-up
        health = json.load(urllib.request.urlopen(f"{base}/healthz", timeout=5))
        if health["jobs"].get("dispatch", {}).get("last_run_at"):
            break
        time.sleep(0.1)
    assert health["status"] == "ok"
    assert health["jobs"]["dispatch"]["last_run_at"]


def test_a_port_in_use_is_a_sentence(runner: Runner) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = runner.invoke("serve", "--port", str(port))
    assert result.exit_code == 1, result.output
    assert f"Cannot serve on 127.0.0.1:{port}: the port is in use by another program" in (
        result.output
    )
    assert "Traceback" not in result.output and "Serving on" not in result.output


def test_a_host_that_does_not_resolve_is_a_sentence(runner: Runner) -> None:
    result = runner.invoke("serve", "--host", "no-such-host.invalid", "--port", str(_free_port()))
    assert result.exit_code == 1, result.output
    assert "the host name 'no-such-host.invalid' does not resolve" in result.output


def test_the_address_is_held_from_the_check_on(runner: Runner) -> None:
    """Nothing can take the port between the check and the serving: the check is the bind."""
    listening = _listen("127.0.0.1", _free_port())
    with listening:
        port = listening.getsockname()[1]
        with pytest.raises(click.ClickException, match="the port is in use"):
            _listen("127.0.0.1", port)


def test_the_box_names_the_accounts_and_where_mail_goes() -> None:
    accounts = [Account("lead_admin", "lead@demo.example", "secret-1")]
    box = ready_box("http://127.0.0.1:5000/", accounts, "the Maildir /x/maildir").splitlines()
    assert box[0] == box[-1] and set(box[0]) == {"+", "-"}
    assert len({len(line) for line in box}) == 1  # a closed box
    assert any("lead_admin" in line and "secret-1" in line for line in box)


def test_migration_chatter_is_logged_only_when_asked() -> None:
    root = logging.getLogger()
    level = root.level
    try:
        _quiet_unless(False)
        assert not logging.getLogger("alembic.runtime.migration").isEnabledFor(logging.INFO)
        _quiet_unless(True)  # --verbose
        assert logging.getLogger("alembic.runtime.migration").isEnabledFor(logging.INFO)
    finally:
        root.setLevel(level)
