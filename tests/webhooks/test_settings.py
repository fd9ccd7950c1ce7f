"""CAMPAIGN_WEBHOOKS_ALLOW (http or internal receivers) is for tests and development: a
deployment served over https refuses to start with it, in one sentence."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from campaign.config import ConfigError, load


@pytest.mark.parametrize("allow", ["http", "private", "http,private"])
def test_a_deployment_served_over_https_refuses_the_exceptions(tmp_path: Path, allow: str) -> None:
    settings = {"CAMPAIGN_BASE_URL": "https://kampanj.kungalv.se", "CAMPAIGN_WEBHOOKS_ALLOW": allow}
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, settings)
    said = str(caught.value)
    assert said.startswith(f"CAMPAIGN_WEBHOOKS_ALLOW={allow} is for tests and development only")
    assert "CAMPAIGN_BASE_URL=https://" in said and said.endswith("unset it.")


def test_development_and_the_tests_may_use_them(tmp_path: Path) -> None:
    development = {"CAMPAIGN_BASE_URL": "http://127.0.0.1:5000", "CAMPAIGN_WEBHOOKS_ALLOW": "http"}
    assert load(tmp_path, development)["CAMPAIGN_WEBHOOKS_ALLOW"] == "http"
    tests = {"CAMPAIGN_BASE_URL": "https://kampanj.test", "CAMPAIGN_WEBHOOKS_ALLOW": "private",
             "TESTING": True}  # fmt: skip
    assert load(tmp_path, tests)["CAMPAIGN_WEBHOOKS_ALLOW"] == "private"
    production = {"CAMPAIGN_BASE_URL": "https://kampanj.kungalv.se"}
    assert load(tmp_path, production)["CAMPAIGN_WEBHOOKS_ALLOW"] is None


def test_the_operator_reads_the_sentence_when_the_service_starts(tmp_path: Path) -> None:
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGN_")},
        "CAMPAIGN_INSTANCE_PATH": str(tmp_path),
        "CAMPAIGN_BASE_URL": "https://kampanj.kungalv.se",
        "CAMPAIGN_WEBHOOKS_ALLOW": "http,private",
    }
    result = subprocess.run(
        [sys.executable, "-m", "campaign", "init-db"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: CAMPAIGN_WEBHOOKS_ALLOW=http,private is for tests")
