"""A letter laid out once for thousands of readers, each reader's own values put in after.

A fan-out sends one text to many people whose mails differ in a few values only: a name, an
address, their own signed links. Laying a mail out (Markdown, the layout, inlined CSS) costs a
millisecond or more; putting a few values in costs microseconds. A stencil is a mail laid out
with a marker where each value goes. Every mail it gives must be the very mail a full render
gives, so it is used only when that is certain:

- the text prints each value plainly (`{{ participant.name }}`; no test, filter, condition or
  loop reads it), which `Stencils` checks in the templates' syntax tree;
- the value is plain words: letters and digits, an underscore only between two of them, joined
  by single spaces or by runs of `.,'@+:/-`, none of which Markdown or HTML reads as anything
  there; a link in the frame (the footer's) is a URL of such characters;
- a probe full of those characters, put in, gives what a full render of the probe gives.

A value left empty is laid out as empty (a line that starts with it starts otherwise), so a
stencil is made per shape and per set of empty values. Any other reader's mail is rendered in
full, as it always was.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping
from dataclasses import dataclass

from jinja2 import nodes

from campaign.outbox.compose import CONTENT, Rendered
from campaign.outbox.texts import Letter

Values = Mapping[str, str]  # a reader's own values, by slot
Path = tuple[str, ...]  # a name in a text, and the attribute of it printed
Render = Callable[[Values], Rendered]  # the full render of the mail with these values

WORD = r"[^\W_]+(?:_[^\W_]+)*"
PLAIN = re.compile(rf"{WORD}(?:(?: |[.,'@+:/-]+){WORD})*")
LINK = re.compile(r"[A-Za-z0-9:/._~-]+")
PROBE = "Åsa-Lo O'Brien x_y.z,w+v@u:t/s"  # every character PLAIN lets through, in its places


@dataclass(frozen=True)
class Slot:
    """One value of a reader's: where the text may print it, and whether the frame links it."""

    name: str
    # The names the text prints it by: ("greeting",) for {{ greeting }}, ("participant", "name")
    # for {{ participant.name }}.
    paths: tuple[Path, ...]
    is_link: bool = False  # also the footer's link (to pause or stop the mail)


@dataclass(frozen=True)
class _Stencil:
    """The three texts of a mail cut at the markers: pieces of text and, between them, slots."""

    subject: tuple[str | int, ...]
    text: tuple[str | int, ...]
    html: tuple[str | int, ...]

    def filled(self, values: tuple[str, ...]) -> Rendered:
        """Return the mail with the reader's values in the places of the markers."""
        return Rendered(
            _join(self.subject, values), _join(self.text, values), _join(self.html, values)
        )


def _join(pieces: tuple[str | int, ...], values: tuple[str, ...]) -> str:
    return "".join(values[p] if isinstance(p, int) else p for p in pieces)


def sources_of(letter: Letter) -> list[str]:
    """Return the texts a letter may render: its own, and the shipped ones it falls back to."""
    texts = [letter.subject, letter.body]
    return texts + (sources_of(letter.shipped) if letter.shipped else [])


class Stencils:
    """The stencils of one letter for readers' `slots`, made as needed."""

    def __init__(self, letter: Letter, slots: Collection[Slot]) -> None:
        self.slots = tuple(slots)
        paths = {p for s in self.slots for p in s.paths}
        printed = _plainly_printed(sources_of(letter), paths)
        self.usable = printed is not None
        self.printed = {s.name for s in self.slots if set(s.paths) & (printed or set())}
        self._made: dict[Hashable, _Stencil | None] = {}
        self._stem = secrets.token_hex(8)

    def render(self, shape: Hashable, render: Render, values: Values) -> Rendered:
        """Return the reader's mail: from the stencil of their shape (what else their mail
        depends on: language, member) when it is certain to be the same, else `render`ed."""
        if not self.usable or not self._fits(values):
            return render(values)
        empty = frozenset(
            s.name for s in self.slots if s.name in self.printed and not values[s.name]
        )
        key = (shape, empty)
        if key not in self._made:
            self._made[key] = self._make(render, empty)
        stencil = self._made[key]
        if stencil is None:
            return render(values)
        return stencil.filled(tuple(values[s.name] for s in self.slots))

    def _fits(self, values: Values) -> bool:
        """Whether each value may be put in as it is."""
        for slot in self.slots:
            value = values[slot.name]
            if slot.name in self.printed and value and not PLAIN.fullmatch(value):
                return False
            if slot.is_link and not LINK.fullmatch(value):
                return False
        return True

    def _make(self, render: Render, empty: frozenset[str]) -> _Stencil | None:
        """Lay the mail out with markers; None when a probe shows that it would differ."""
        markers = {s.name: f"q{self._stem}s{n}q" for n, s in enumerate(self.slots)}
        laid = render(self._values(markers, empty))
        stencil = _Stencil(*(_cut(text, markers, self.slots) for text in _texts(laid)))
        probes = {s.name: _probe(n, s) for n, s in enumerate(self.slots)}
        probe = self._values(probes, empty)
        filled = stencil.filled(tuple(probe[s.name] for s in self.slots))
        return stencil if filled == render(probe) else None

    def _values(self, values: Values, empty: frozenset[str]) -> dict[str, str]:
        return {s.name: "" if s.name in empty else values[s.name] for s in self.slots}


def _probe(number: int, slot: Slot) -> str:
    """Return a value with every character a reader's value may have (a URL for a link)."""
    if slot.is_link:
        return f"https://probe.example/x{number}/a_b.c-d~e/f"
    return f"{PROBE}{number}"


def _texts(rendered: Rendered) -> tuple[str, str, str]:
    return rendered.subject, rendered.text, rendered.html


def _cut(text: str, markers: Mapping[str, str], slots: tuple[Slot, ...]) -> tuple[str | int, ...]:
    """Return the text as pieces, each marker replaced by the number of its slot."""
    number = {markers[s.name]: n for n, s in enumerate(slots)}
    parts = re.split("(" + "|".join(map(re.escape, number)) + ")", text)
    return tuple(number.get(part, part) for part in parts if part)


def _plainly_printed(sources: Iterable[str], paths: set[Path]) -> set[Path] | None:
    """Return which of `paths` the texts print; None if any text reads one otherwise (a test,
    a filter, a loop), or if a text cannot be parsed."""
    roots = {path[0] for path in paths}
    printed: set[Path] = set()
    try:
        trees = [CONTENT.parse(source) for source in sources]
    except Exception:  # a broken text is rendered in full, and fails there as it always did
        return None
    for tree in trees:
        plain = {id(node): _path(node) for output in tree.find_all(nodes.Output)
                 for node in output.nodes}  # fmt: skip
        for name in tree.find_all(nodes.Name):
            if name.name not in roots:
                continue
            path = plain.get(id(name)) or _owner_path(tree, name, plain)
            if path not in paths:
                return None
            printed.add(path)
    return printed


def _path(node: nodes.Node) -> Path | None:
    """Return the path of a printed name, or of a printed attribute of a name."""
    if isinstance(node, nodes.Name):
        return (node.name,)
    if isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name):
        return (node.node.name, node.attr)
    return None


def _owner_path(
    tree: nodes.Template, name: nodes.Name, plain: dict[int, Path | None]
) -> Path | None:
    """Return the printed path of `name` when it is the object of a plainly printed attribute."""
    for getattr_ in tree.find_all(nodes.Getattr):
        if getattr_.node is name and id(getattr_) in plain:
            return plain[id(getattr_)]
    return None
