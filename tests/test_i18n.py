"""Swedish is complete: every text the code and templates use has a Swedish translation."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _extracted() -> set[str]:
    method_map = [("campaign/**.py", "python"), ("campaign/templates/**.html", "jinja2")]
    options = {"campaign/templates/**.html": {"extensions": "jinja2.ext.do"}}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _swedish() -> dict[str, str]:
    path = ROOT / "campaign/translations/sv/LC_MESSAGES/messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle)
    return {m.id: m.string for m in catalog if m.id and not m.fuzzy}


def test_every_text_has_swedish() -> None:
    swedish = _swedish()
    missing = sorted(m for m in _extracted() if not swedish.get(m))
    assert missing == [], "translate these in messages.po"


def test_translations_keep_their_placeholders() -> None:
    for english, swedish in _swedish().items():
        assert sorted(PLACEHOLDER.findall(english)) == sorted(PLACEHOLDER.findall(swedish)), english


def test_no_stale_translations() -> None:
    stale = sorted(set(_swedish()) - _extracted())
    assert stale == [], "remove these from messages.po (pybabel update does it)"
