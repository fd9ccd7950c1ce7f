"""bench/dispatch.py --quick, as a correctness check (never a timing): the dispatcher, with and
without DKIM, sends every queued message to a real SMTP sink in another process, and the
figures it prints are there and sane."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

BENCH = Path(__file__).parent.parent / "bench" / "dispatch.py"


def test_quick_run_sends_everything_and_prints_its_figures(
    capsys: pytest.CaptureFixture[str],
) -> None:
    main = runpy.run_path(str(BENCH))["main"]
    figures = main(["--quick", "--dkim", "--connections", "3"])
    printed = capsys.readouterr().out
    # Each child asserts that the dispatcher reported every one of its messages sent.
    assert figures["ours"] > 0 and figures["raw"] > 0 and figures["dkim"] > 0
    assert figures["ratio"] == pytest.approx(figures["ours"] / figures["raw"])
    assert "ratio dispatcher / raw" in printed and "with DKIM" in printed
    assert 0 <= figures["rise"] < 200 and 0 <= figures["rise_5x"] < 200
