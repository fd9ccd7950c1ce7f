"""bench/lateness.py --quick sends every mail of its stream exactly once, through real workers
and a real sink (never a time asserted: the machine is shared)."""

from __future__ import annotations

from bench import lateness
from tests import pg


def test_the_quick_stream_is_sent_exactly_once() -> None:
    server = pg.server_url()
    options = ["--quick", *(["--database-url", server, "--workers", "2"] if server else [])]
    outcome = lateness.main(options)
    assert outcome.due == 200
    assert outcome.sent == outcome.due
    assert outcome.duplicates == 0
    assert 0 <= outcome.late <= outcome.due
