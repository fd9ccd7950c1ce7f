"""`campaign sequences check` warns of optional placeholders used without a fallback, and the
shipped steps give every one a fallback."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from campaign.drip.fallbacks import unguarded, warnings
from tests.conftest import Network, Runner, sign_in
from tests.urls import staff

CRAFTED = """---
offset: +0d
at: "09:00"
subject: Hej {{ participant.first_name }}
---
Hej!

Hör av dig till {{ member.contact_name }} ({{ member.contact_email }}).
{% if member.guide_url %}Guide: {{ member.guide_url }}{% else %}Ingen: {{ member.guide_url }}
{% endif %}
"""


def _write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_check_warns_at_file_and_line_and_still_passes(runner: Runner, tmp_path: Path) -> None:
    sv = _write(tmp_path, "demo/sv/01-hej.md", CRAFTED)
    _write(tmp_path, "demo/en/01-hej.md", CRAFTED)
    result = runner.invoke("sequences", "check", "--path", str(tmp_path))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for line, name in [
        (4, "participant.first_name"),
        (8, "member.contact_name"),
        (8, "member.contact_email"),
        (9, "member.guide_url"),
    ]:
        assert any(
            entry.startswith(f"{sv}:{line}: warning:") and f"{{{{ {name} }}}}" in entry
            for entry in lines
        ), (line, name, lines)
    assert sum(str(sv) in entry for entry in lines) == 4  # the guarded guide link is no warning
    assert "8 warning(s)" in lines[-1]


def test_each_kind_of_fallback_silences_the_warning() -> None:
    guarded = [
        "{% if member.contact_email %}({{ member.contact_email }}){% endif %}",
        "{% if member.contact_name and member.contact_email %}"
        "{{ member.contact_email }}{% endif %}",
        "{% if x %}{% elif member.contact_email %}{{ member.contact_email }}{% endif %}",
        '{{ member.contact_name|default("din IT-support", true) }}',
        '{{ member.contact_name or "din IT-support" }}',
        '{{ member.contact_name if member.contact_name else "din IT-support" }}',
        "{{ organisation.name }} {{ campaign.name }} {{ next_event.starts }}",  # never empty
    ]
    assert [unguarded(source) for source in guarded] == [[]] * len(guarded)
    assert unguarded("{% if x %}{% else %}{{ member.guide_url }}{% endif %}") == [
        (1, "member.guide_url")
    ]
    assert unguarded("a\n{{ participant.title|upper }}") == [(2, "participant.title")]


def test_the_shipped_steps_have_a_fallback_for_every_optional_placeholder() -> None:
    assert warnings() == []


def test_the_sequences_page_counts_the_warnings(
    client: FlaskClient, network: Network, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for language in ("sv", "en"):
        _write(tmp_path, f"demo/{language}/01-hej.md", CRAFTED)
    monkeypatch.setattr("campaign.drip.stored.SEQUENCES_DIR", tmp_path)
    sign_in(client, "lead@alpha.se")
    page = client.get(staff("/sequences")).get_data(as_text=True)
    assert "8 platshållare som kan vara tomma saknar reservtext" in page
    assert "Alla 2 steg klarar kontrollen." in page  # a warning is no problem
