"""`campaign simulate`: a small campaign in accelerated time, through the real jobs and SMTP."""

from __future__ import annotations

import email
import mailbox
import re
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import func, select

from campaign import create_app, db
from campaign.cli import simulate
from campaign.demo import kept
from campaign.network.models import Campaign
from campaign.outbox.models import Message
from campaign.timing import FixedClock, install_clock
from tests.conftest import START, Runner, sign_in

SHORT = ("--members", "2", "--participants", "12", "--days", "35")


def test_a_short_simulation_sends_real_mail_and_writes_the_report(
    runner: Runner, tmp_path: Path
) -> None:
    out = tmp_path / "simulation.html"
    result = runner.invoke("simulate", *SHORT, "-o", str(out))
    assert result.exit_code == 0, result.output
    found = re.search(
        r"2 members, 12 pilot users in all \(6 per member\), 2014-02-24 to 2014-03-30:"
        r" (\d+) e-mails delivered to them \((\d+) mails reached the SMTP sink in all\),"
        r" (\d+) trained",
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
    # The report's period is the simulated one, in the campaign's name too.
    assert "från 24 februari 2014 till 30 mars 2014" in report and "Smart Energi 2014 " in report
    again = tmp_path / "again.html"
    runner.invoke("simulate", *SHORT, "-o", str(again))
    strip = re.compile(r"Siffror per [^<]+? kl\. [0-9.]+\.|as of [^:]+:")
    assert strip.sub("", again.read_text()) == strip.sub("", report)  # same seed, same run


def test_pilot_users_are_shared_among_the_members(runner: Runner, tmp_path: Path) -> None:
    out = str(tmp_path / "r.html")
    result = runner.invoke(
        "simulate", "--members", "3", "--participants", "7", "--days", "2", "-o", out
    )
    assert "3 members, 7 pilot users in all (2-3 per member)" in result.output, result.output


def test_progress_shows_as_lines_when_not_on_a_terminal(
    runner: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(simulate, "EVERY_SECONDS", 0.0)  # a line every day
    out = str(tmp_path / "r.html")
    result = runner.invoke(
        "simulate", "--members", "1", "--participants", "2", "--days", "9", "-o", out
    )
    lines = re.findall(r"^day (\d+) of 9, (\d+) mails sent$", result.output, re.MULTILINE)
    assert [int(day) for day, _ in lines] == list(range(1, 10)), result.output
    assert int(lines[-1][1]) > 0


def test_keep_leaves_a_campaign_that_serve_opens_with_its_mails(
    runner: Runner, tmp_path: Path
) -> None:
    folder = tmp_path / "kept"
    result = runner.invoke(
        "simulate", *SHORT, "-o", str(tmp_path / "r.html"), "--keep", str(folder)
    )
    assert result.exit_code == 0, result.output
    # The days simulated end at the clock's now (the test app's: START), as the report says.
    assert "2014-01-28 to 2014-03-03" in result.output
    assert f"CAMPAIGN_INSTANCE_PATH={folder} " in result.output and " serve\n" in result.output
    sent = int(_found(r"\((\d+) mails reached the SMTP sink", result.output))
    app = create_app({"INSTANCE_PATH": str(folder)})  # as `serve` opens it: the folder's settings
    install_clock(app, FixedClock(START))
    with db.open_session(app) as session:
        assert session.scalars(select(Campaign.name)).one().endswith("Smart Energi 2014")
        assert session.scalar(select(func.count()).select_from(Message)) >= sent
    mails = list(mailbox.Maildir(kept.maildir(folder), create=False))
    assert len(mails) == sent > 12
    links = _links(mails)
    client = app.test_client()
    for kind in ("q", "u", "rsvp"):
        link = next(link for link in links if link.startswith(f"/{kind}/"))
        page = client.get(link)
        assert page.status_code == 200, link
        assert "har gått ut" not in page.get_data(as_text=True)  # "This link has expired."
    # The account printed signs in, and the lead administrator sees the campaign.
    sign_in(client, kept.ACCOUNT[0], _found(r"with the password (\S+)\.\n", result.output))
    assert "Kungälv" in client.get("/campaigns/simulation/network").get_data(as_text=True)


def _found(pattern: str, text: str) -> str:
    """Return the first group of `pattern` in `text`, which must hold it."""
    match = re.search(pattern, text)
    assert match, text
    return match.group(1)


def _links(mails: list[mailbox.MaildirMessage]) -> list[str]:
    """Return the paths of the links in the mails' plain text, as the served app routes them."""
    found: list[str] = []
    for mail in mails:
        parsed = email.message_from_bytes(mail.as_bytes(), policy=policy.default)
        body = parsed.get_body(preferencelist=("plain",))
        assert body is not None
        found += re.findall(r"http://127\.0\.0\.1:5000(/\S+)", body.get_content())
    return found


def test_keep_refuses_a_folder_in_use(runner: Runner, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    result = runner.invoke("simulate", "--keep", str(tmp_path))
    assert result.exit_code == 1 and "is not empty" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
