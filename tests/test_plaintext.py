"""Text for calendars and mail headers: control characters never end a line early, and what a
form accepts is what a builder could use."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import Form, StringField

from campaign.plaintext import (
    CONTROL,
    NoControlCharacters,
    WebLink,
    compact,
    lines,
    link,
    one_line,
)


def test_one_line_turns_every_control_character_into_one_space() -> None:
    assert one_line("a\r\nb\t c\x00d\u2028e\x85f  g ") == "a b c d e f g"


def test_one_line_keeps_letters_and_trims_the_ends() -> None:
    assert one_line("  Åsa Öberg  ") == "Åsa Öberg"
    assert one_line("\r\n") == ""


def test_one_line_returns_a_printable_text_with_single_spaces_as_it_is() -> None:
    """Its shortcut holds: no printable character but the space is a control character or a
    space to split on, so a printable text with single inner spaces is already on one line."""
    chars = map(chr, range(0x110000))
    assert [
        c for c in chars if c.isprintable() and c != " " and (CONTROL.match(c) or c.isspace())
    ] == []
    assert one_line("Åsa Öberg") == "Åsa Öberg" and one_line("Åsa  Öberg ") == "Åsa Öberg"
    assert one_line("Åsa\u00a0Öberg") == "Åsa Öberg" and one_line(" ") == ""


def test_lines_keep_line_breaks_and_tabs_as_lf() -> None:
    assert lines("a\r\nb\rc\nd\te") == "a\nb\nc\nd\te"


def test_lines_drop_every_other_control_character() -> None:
    assert lines("a\x00b\x1bc\x07d\u2028e\x85f\x7fg") == "abcdefg"


def test_compact_removes_every_space_and_control_character() -> None:
    assert compact(" asa @öckerö.se\t\r\n\x00") == "asa@öckerö.se"


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("https://e.se", "https://e.se"),
        ("  http://e.se/möte?id=3  ", "http://e.se/möte?id=3"),
        ("HTTPS://E.SE/A", "HTTPS://E.SE/A"),
        ("https://e.se/lång\r\nlänk", "https://e.se/långlänk"),  # pasted over two lines
        ("https://e.se/\ta", "https://e.se/a"),
    ],
)
def test_a_web_link_is_kept_once_cleaned(typed: str, kept: str) -> None:
    assert link(typed) == kept


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "e.se",
        "ftp://e.se",
        "javascript:alert(1)",
        "https://",
        "https:///path",
        "https://e.se/a b",
        "https://e.se/\x1b",
        "https://e.se/\u2028x",
    ],
)
def test_anything_else_is_not_a_link(typed: str) -> None:
    assert link(typed) is None


class Typed(Form):
    title = StringField(validators=[NoControlCharacters()])
    notes = StringField(validators=[NoControlCharacters(multiline=True)])
    url = StringField(validators=[WebLink()])


def errors(**typed: str) -> set[str]:
    form = Typed(MultiDict(typed))
    form.validate()
    return set(form.errors)


def test_plain_text_passes_every_validator() -> None:
    assert (
        errors(title="Åsa Öberg", notes="Rad ett\r\nRad två\tmed tab", url="https://e.se") == set()
    )


@pytest.mark.parametrize("control", ["\n", "\r", "\t", "\x00", "\x1b", "\u2028", "\x85"])
def test_a_one_line_field_refuses_any_control_character(control: str) -> None:
    assert errors(title=f"Åsa{control}Öberg") == {"title"}


@pytest.mark.parametrize("control", ["\x00", "\x1b", "\x07", "\u2028", "\x7f"])
def test_a_field_of_several_lines_refuses_other_control_characters(control: str) -> None:
    assert errors(notes=f"Rad{control}") == {"notes"}


@pytest.mark.parametrize("url", ["https://e.se/a b", "https://e.se/a\tb", "https://e.se/\x1b"])
def test_a_link_with_spaces_or_control_characters_is_refused(url: str) -> None:
    assert errors(url=url) == {"url"}


def test_a_link_field_left_empty_is_not_refused_here() -> None:
    assert errors(url="") == set()
