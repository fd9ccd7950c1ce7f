"""`campaign simulate`: a small campaign in accelerated time, through the real jobs and SMTP."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import Runner


def test_a_short_simulation_sends_real_mail_and_writes_the_report(
    runner: Runner, tmp_path: Path
) -> None:
    out = tmp_path / "simulation.html"
    result = runner.invoke(
        "simulate", "--members", "2", "--participants", "6", "--days", "35", "-o", str(out)
    )
    assert result.exit_code == 0, result.output
    found = re.search(
        r"2 members, 12 pilot users: (\d+) e-mails delivered to them \((\d+) mails reached the"
        r" SMTP sink in all\), (\d+) trained",
        result.output,
    )
    assert found, result.output
    delivered, received, trained = (int(n) for n in found.groups())
    # The welcome and the next steps of the sequence, and the invitations to the trainings:
    # every one went through the dispatcher to the SMTP server.
    assert delivered >= 12 * 3 and received == delivered
    assert 0 < trained <= 12
    report = out.read_text(encoding="utf-8")
    assert "Kungälv" in report and "<svg" in report and "Översikt" in report
    again = tmp_path / "again.html"
    runner.invoke(
        "simulate", "--members", "2", "--participants", "6", "--days", "35", "-o", str(again)
    )
    strip = re.compile(r"Siffror per [^<]+? kl\. [0-9.]+\.|as of [^:]+:")
    assert strip.sub("", again.read_text()) == strip.sub("", report)  # same seed, same run
