"""bench/scale.py --quick: a few members through two simulated days of the real jobs and
workers on PostgreSQL; every due mail reaches the sink exactly once and the weekly rows add up
(never a time asserted: the machine is shared). It needs a PostgreSQL server (COPY)."""

from __future__ import annotations

import pytest

from bench import scale
from tests import pg


@pytest.mark.skipif(pg.server_url() is None, reason="bench/scale.py fills PostgreSQL with COPY")
def test_the_quick_simulation_sends_every_due_mail_once() -> None:
    result = scale.main(["--quick", "--database-url", pg.server_url() or ""])
    assert result.sent > 0
    assert result.arrivals == result.sent  # no Message-ID twice at the sink
    assert sum(week.due for week in result.weeks) == sum(week.sent for week in result.weeks)
    assert sum(week.sent for week in result.weeks) == result.sent
    sent_in_outbox = sum(n for what, n in result.states.items() if what.endswith(" sent"))
    assert sent_in_outbox == result.sent
    # The first two members start on Monday and Tuesday (their welcomes), the third on Wednesday.
    assert result.states.get("sequence_step sent") == 2 * 30
