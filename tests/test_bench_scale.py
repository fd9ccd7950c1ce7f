"""bench/scale.py --quick: a few members through two simulated days of the real jobs and
workers on PostgreSQL; every due mail reaches the sink exactly once and the weekly rows add up
(never a time asserted: the machine is shared), calendar invitations and meeting reminders
included. It needs a PostgreSQL server (COPY)."""

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
    # Each member's practice meeting is the day after its start at 09:00; everyone's calendar
    # mail goes at the campaign's start. Reminders: Monday's meeting group a day and an hour
    # before (Monday and Tuesday), Tuesday's a day before (Tuesday), Wednesday's none yet.
    assert result.states.get("invitation sent") == 3 * 30
    assert result.states.get("reminder sent") == 3 * 30
