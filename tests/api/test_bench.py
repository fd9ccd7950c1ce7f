"""bench/api.py runs (its --quick mode) and prints its figures: the API against the web page."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_the_api_bench_runs_and_prints_medians_and_the_ratio() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench/api.py"), "--quick"],
        capture_output=True, text=True, timeout=300, cwd=ROOT, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "1200 participants of one member, 1 runs on sqlite"
    assert sum("median" in line and line.endswith(" ms") for line in lines) == 3
    assert any(line.startswith("ratio web page / API (all 1200): ") for line in lines)
