"""`campaign sequences check`: every kind of broken step is reported with its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from campaign.drip.files import SEQUENCES_DIR, load_sequences
from tests.conftest import Network, Runner

GOOD = """---
offset: +2 business days
at: "09:00"
subject: Hej {{ participant.first_name }}
unless: [attended_practice_meeting]
---
Hej {{ participant.first_name }}!

Ring {{ member.contact_name }}.
"""


def _write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_sequences_pass(runner: Runner) -> None:
    result = runner.invoke("sequences", "check")
    assert result.exit_code == 0, result.output
    sequences, problems = load_sequences(SEQUENCES_DIR)
    assert problems == []
    pilot = sequences["pilot-group"]
    assert [s.number for s in pilot.steps["sv"]] == [s.number for s in pilot.steps["en"]]
    assert len(pilot.steps["sv"]) >= 6


def test_each_kind_of_broken_step_is_reported_with_file_and_line(
    runner: Runner, tmp_path: Path
) -> None:
    for language in ("sv", "en"):
        _write(tmp_path, f"demo/{language}/01-ok.md", GOOD)
    broken = {
        "02-yaml.md": GOOD.replace('at: "09:00"', 'at: "09:00'),
        "03-placeholder.md": GOOD.replace("{{ member.contact_name }}", "{{ member.kontakt }}"),
        "04-subject.md": GOOD.replace(
            "subject: Hej {{ participant.first_name }}", "subject: Hej {{ deltagare }}"
        ),
        "05-offset.md": GOOD.replace("+2 business days", "+2 months"),
        "06-time.md": GOOD.replace('"09:00"', '"9 am"'),
        "07-condition.md": GOOD.replace("attended_practice_meeting", "is_happy"),
        "08-syntax.md": GOOD.replace(
            "Ring {{ member.contact_name }}.", "Ring {{ member.contact_name }."
        ),
        "09-missing.md": GOOD.replace("offset: +2 business days\n", ""),
        "10-unknown-key.md": GOOD.replace("unless:", "unles:"),
        "11-no-front-matter.md": "Hej!\n",
        "13-anchor.md": GOOD.replace("offset:", "anchor: midsummer\noffset:"),
        "14-before-start.md": GOOD.replace("+2 business days", "-2w"),
        "15-night.md": GOOD.replace('"09:00"', '"21:30"'),
    }
    for name, text in broken.items():
        _write(tmp_path, f"demo/sv/{name}", text)
        if name not in ("09-missing.md",):
            _write(tmp_path, f"demo/en/{name}", GOOD)
    _write(tmp_path, "demo/sv/12-only-swedish.md", GOOD)
    result = runner.invoke("sequences", "check", "--path", str(tmp_path))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    sv = tmp_path / "demo" / "sv"

    def reported(path: Path, line: int, words: str) -> bool:
        return any(entry.startswith(f"{path}:{line}: ") and words in entry for entry in lines)

    assert reported(sv / "02-yaml.md", 3, "not valid YAML"), lines
    assert reported(sv / "03-placeholder.md", 9, "unknown placeholder"), lines
    assert reported(sv / "03-placeholder.md", 9, "kontakt"), lines
    assert reported(sv / "04-subject.md", 4, "unknown placeholder"), lines
    assert reported(sv / "05-offset.md", 2, "cannot read the offset '+2 months'"), lines
    assert reported(sv / "06-time.md", 3, "cannot read the time '9 am'"), lines
    assert reported(sv / "07-condition.md", 5, "unknown condition 'is_happy'"), lines
    assert reported(sv / "08-syntax.md", 9, "template error"), lines
    assert reported(sv / "09-missing.md", 2, "needs 'offset'"), lines
    assert reported(sv / "10-unknown-key.md", 5, "unknown key 'unles'"), lines
    assert reported(sv / "11-no-front-matter.md", 1, "front matter block"), lines
    assert reported(sv / "12-only-swedish.md", 1, "no en translation"), lines
    assert reported(sv / "13-anchor.md", 2, "unknown anchor 'midsummer'"), lines
    assert reported(sv / "15-night.md", 3, "21:30 is in the quiet hours"), lines
    assert reported(sv / "14-before-start.md", 2, "cannot come before the participant starts"), (
        lines
    )
    assert not any("01-ok.md" in entry and "warning:" not in entry for entry in lines)
    assert "problem(s) in" in lines[-1]


def test_a_language_missing_altogether(runner: Runner, tmp_path: Path) -> None:
    _write(tmp_path, "onlysv/sv/01-ok.md", GOOD)
    result = runner.invoke("sequences", "check", "--path", str(tmp_path))
    assert result.exit_code == 1 and "no en version of the sequence" in result.output


def test_a_sequence_with_a_problem_is_never_sent_from(
    tmp_path: Path, session: Session, network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    from campaign.drip.stored import campaign_sequences

    monkeypatch.setattr("campaign.drip.stored.SEQUENCES_DIR", tmp_path)
    for language in ("sv", "en"):
        _write(tmp_path, f"fine/{language}/01-ok.md", GOOD)
        _write(tmp_path, f"broken/{language}/01-ok.md", GOOD)
    _write(tmp_path, "broken/en/02-bad.md", GOOD.replace("member.contact_name", "member.nope"))
    _write(tmp_path, "broken/sv/02-bad.md", GOOD)
    assert set(campaign_sequences(session, network.campaign.id)) == {"fine"}
