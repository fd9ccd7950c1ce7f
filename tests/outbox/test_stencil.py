"""A stencil gives each reader the very mail a full render gives, and lays it out only once when
it is sure of that; otherwise it renders the reader's mail in full."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from campaign.outbox.compose import Footer, Rendered
from campaign.outbox.stencil import Slot, Stencils
from campaign.outbox.texts import Letter

SLOTS = (
    Slot("name", (("participant", "name"),)),
    Slot("title", (("participant", "title"),)),
    Slot("unsubscribe", (("links", "unsubscribe"),), is_link=True),
)


class Counting:
    """A letter's full render with the values of a reader, counted."""

    def __init__(self, letter: Letter) -> None:
        self.letter, self.calls = letter, 0

    def __call__(self, values: Mapping[str, str]) -> Rendered:
        self.calls += 1
        context = {
            "participant": {"name": values["name"], "title": values["title"]},
            "links": {"unsubscribe": values["unsubscribe"]},
        }
        footer = Footer("Du får detta för att du är med.", values["unsubscribe"], "Kim, kim@a.se")
        return self.letter.render(context, language="sv", footer=footer)


def _reader(name: str, title: str = "", n: int = 1) -> dict[str, str]:
    return {"name": name, "title": title, "unsubscribe": f"https://a.se/u/WzFd.ZAb_c{n}.x-y"}


def _fan_out(body: str, readers: list[dict[str, str]]) -> Counting:
    """Render every reader's mail through stencils, checking each against a full render."""
    letter = Letter("Till {{ participant.name }}", body, "test")
    render, stencils = Counting(letter), Stencils(letter, SLOTS)
    for values in readers:
        assert stencils.render("member", render, values) == Counting(letter)(values)
    return render


def test_plain_values_are_put_in_a_layout_made_once() -> None:
    readers = [_reader(f"Åsa-Lo O'Brien {n}", "Utredare", n) for n in range(50)]
    render = _fan_out("Hej **{{ participant.name }}**, {{ participant.title }}!", readers)
    assert render.calls == 2  # the layout with markers, and the probe that checks it


def test_an_empty_value_gets_a_layout_of_its_own() -> None:
    readers = [_reader(f"Anna {n}", "Chef" if n % 2 else "", n) for n in range(20)]
    render = _fan_out("{{ participant.title }} {{ participant.name }}\n\nHej!", readers)
    assert render.calls == 4


@pytest.mark.parametrize(
    "name",
    ["<b>Anna</b>", "Anna *Ek*", "1. Anna", "Anna  Ek", "Anna_", "a__b", "Anna & Bo", " Anna"],
)
def test_a_value_markdown_or_html_would_read_is_rendered_in_full(name: str) -> None:
    render = _fan_out("{{ participant.name }} hej", [_reader(name)])
    assert render.calls == 1


@pytest.mark.parametrize(
    "body",
    [
        "{% if participant.title %}Kära {{ participant.title }}{% endif %}",
        "Hej {{ participant.name | upper }}",
        "Hej {{ participant.name == 'Anna' }}",
        "Hej {{ participant }}",
        "<{{ links.unsubscribe }}>",
    ],
)
def test_a_text_that_reads_a_value_otherwise_is_rendered_in_full(body: str) -> None:
    readers = [_reader("Anna", "Chef", n) for n in range(5)]
    render = _fan_out(body, readers)
    assert render.calls >= 5
