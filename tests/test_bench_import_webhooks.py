"""bench/import_webhooks.py as a correctness check: a small import queues one
participant.enrolled delivery per person added when the member's receiver subscribes, none
when nobody does, on SQLite and (when CAMPAIGN_TEST_DATABASE_URL is set) PostgreSQL. No time is
asserted: the figures are the script's to print."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.pg import server_url

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bench_import_webhooks", ROOT / "bench" / "import_webhooks.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_quick_queues_one_event_per_person_only_when_subscribed(
    bench: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--quick"] + (["--database-url", server_url() or ""] if server_url() else [])
    assert bench.main(argv) == 0
    printed = capsys.readouterr().out
    assert "(485 deliveries queued)" in printed and "x without" in printed
    assert "what the imports queued: right" in printed
    assert ("PostgreSQL:" in printed) == bool(server_url())
