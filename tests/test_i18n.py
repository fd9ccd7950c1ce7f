"""Swedish is complete: every text the code and templates use has a Swedish translation."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _extracted() -> set[str]:
    method_map = [
        ("campaign/**.py", "python"),
        ("campaign/templates/**.html", "jinja2"),
        ("campaign/templates/**.txt", "jinja2"),
    ]
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
    translations = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, tuple):  # plural forms: every form must be there
            translations[message.id[0]] = " | ".join(message.string) if all(message.string) else ""
        else:
            translations[message.id] = message.string
    return translations


def test_every_text_has_swedish() -> None:
    swedish = _swedish()
    missing = sorted(m for m in _extracted() if not swedish.get(m))
    assert missing == [], "translate these in messages.po"


def test_translations_keep_their_placeholders() -> None:
    for english, swedish in _swedish().items():
        for form in swedish.split(" | "):
            assert sorted(PLACEHOLDER.findall(english)) == sorted(PLACEHOLDER.findall(form)), (
                english
            )


def test_no_stale_translations() -> None:
    stale = sorted(set(_swedish()) - _extracted())
    assert stale == [], "remove these from messages.po (pybabel update does it)"


def test_each_text_is_translated_once() -> None:
    """A second entry for a msgid makes msgfmt fail and leaves which one wins to chance."""
    text = (ROOT / "campaign/translations/sv/LC_MESSAGES/messages.po").read_text("utf-8")
    ids = re.findall(r'^msgid ((?:".*"\n)+)', text, flags=re.M)
    seen: set[str] = set()
    twice = sorted({i for i in ids if i in seen or seen.add(i)})
    assert twice == [], "keep one entry for each of these"
