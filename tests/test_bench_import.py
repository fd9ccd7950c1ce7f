"""bench/import.py as a correctness check: a small import through the benchmark's own pieces
does what it must, on SQLite and (when CAMPAIGN_TEST_DATABASE_URL is set) on PostgreSQL. No
time is asserted: the figures are the script's to print."""

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
    """The benchmark script as a module (its name, `import`, cannot be imported by name)."""
    spec = importlib.util.spec_from_file_location("bench_import", ROOT / "bench" / "import.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_file_holds_what_the_counts_say(bench: ModuleType) -> None:
    """The file has the rows asked for: 1 % invalid, 1 % repeated, 1 % of the rest suppressed."""
    file = bench.make_csv(500)
    lines = file.content.decode("utf-8-sig").split("\r\n")
    assert lines[0] == "Förnamn;Efternamn;E-post;Titel" and len(lines) == 502  # and a last ""
    assert len(file.valid) == len(set(file.valid)) == 490
    assert len(file.suppressed) == 5 and set(file.suppressed) <= set(file.valid)
    assert bench.expected(file).added == 485 and bench.expected(file).rejected == 15


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_an_import_adds_the_valid_rows_and_rejects_the_rest(
    bench: ModuleType, engine: str, tmp_path: Path
) -> None:
    """Previewed and confirmed, the file adds every valid, distinct, unsuppressed address with
    its consent, rejects the other rows, and leaves no preview rows behind."""
    if engine == "postgresql" and not server_url():
        pytest.skip("CAMPAIGN_TEST_DATABASE_URL is not set")
    file = bench.make_csv(500)
    outcome = bench.run(file, server_url() if engine == "postgresql" else None, tmp_path)
    assert (outcome.to_add, outcome.rejected) == (485, 15)
    assert (outcome.added, outcome.stored, outcome.consents, outcome.rows_left) == (
        485,
        485,
        485,
        0,
    )
    assert bench.is_right(outcome, file)
    assert outcome.read > 0 and outcome.apply > 0 and outcome.floor > 0


def test_quick_prints_the_figures_of_each_engine(
    bench: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--quick` imports 500 rows, prints preview, apply, total and floor with their ratios,
    and ends well."""
    argv = ["--quick"] + (["--database-url", server_url() or ""] if server_url() else [])
    assert bench.main(argv) == 0
    printed = capsys.readouterr().out
    for label in ("preview (read_import)", "apply (apply_import)", "total", "floor"):
        assert label in printed
    assert "x floor" in printed and "what the imports did: right" in printed
    assert ("PostgreSQL:" in printed) == bool(server_url())
