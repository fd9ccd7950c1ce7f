"""The quick start for real: `campaign serve --demo` in its own process, reached over HTTP."""

from __future__ import annotations

import json
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

import pytest


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
        for _ in range(200):
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
    assert re.search(r"lead_admin\s+lead@demo\.example\s+\S+", output), output
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
