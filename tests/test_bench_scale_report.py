"""bench/scale_report.py's --quick run as a correctness check: the report's figures and the
dashboard's sequence progress, computed over the rows its COPY fill wrote, equal the counts it
filled (on PostgreSQL when CAMPAIGN_TEST_DATABASE_URL is set, else on SQLite). No timing."""

from __future__ import annotations

import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_figures_over_the_filled_campaign_equal_the_counts_filled() -> None:
    main = runpy.run_path(str(ROOT / "bench" / "scale_report.py"))["main"]
    run = main(["--quick"])  # checks each member's figures against the counts itself
    expected, figures = run.expected, run.figures
    assert len(figures.members) == 3
    assert expected.rows["participant"] == 600
    assert figures.participants == sum(expected.took_part.values()) > 0
    assert figures.delivered == sum(m["sent"] for m in expected.mail.values())
    assert figures.trained == sum(expected.trained.values()) > 0
    assert figures.outcomes.respondents == sum(expected.respondents(o) for o in expected.follow_ups)
    assert sum(m.suppressed for m in figures.members) == sum(expected.suppressed.values())
    assert set(run.medians) >= {"figures.compute (network)", "GET dashboard (lead)"}
