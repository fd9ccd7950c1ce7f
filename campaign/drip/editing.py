"""Editing a campaign's copy of a sequence as its files: a step's two files written from a form,
a new step at the end, a step moved up or down, a step removed.

A step is a pair of files of the same name, `sv/03-bra-ljud.md` and `en/03-bra-ljud.md`. It is
known by its lasting key (`Step.ident`: its `key:`, else its number), never by its place: a step
that moves gets `key:` written into its files, so someone who got it is never sent it again.
Every function here takes the files dict and returns a new one; nothing is checked or saved
here (the views run `stored.problems_of` and `stored.save`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from campaign.drip.files import LANGUAGES, STEP_NAME
from campaign.drip.rewriting import rewritten, split

Files = dict[str, str]
MAX_STEPS = 99  # file names have two digits


@dataclass
class Draft:
    """What the step form holds: the timing and conditions (shared by both languages' files)
    and each language's subject and Markdown body."""

    offset: str = "+1w"
    anchor: str = "start"
    at: str = "09:00"
    unless: list[str] = field(default_factory=list)
    only_if: list[str] = field(default_factory=list)
    subjects: dict[str, str] = field(default_factory=dict)
    bodies: dict[str, str] = field(default_factory=dict)

    def meta(self, language: str) -> dict[str, Any]:
        """Return the front matter this draft writes into `language`'s file."""
        return {
            "offset": self.offset,
            "anchor": None if self.anchor == "start" else self.anchor,
            "at": self.at,
            "subject": self.subjects.get(language, ""),
            "unless": list(self.unless),
            "only_if": list(self.only_if),
        }


@dataclass(frozen=True)
class Slot:
    """A step's place in the sequence: its file name (the same in each language) and key."""

    name: str
    ident: str

    @property
    def number(self) -> str:
        """The step's place, as its file name has it: "03"."""
        return self.name[:2]


def slots(files: Mapping[str, str]) -> list[Slot]:
    """Return the steps' places in order, each once (whichever language has the file)."""
    found: dict[str, Slot] = {}
    for key in sorted(files, key=lambda k: k.partition("/")[2]):
        name = key.partition("/")[2]
        if STEP_NAME.match(name) and name not in found:
            found[name] = Slot(name, _ident(name, split(files[key])[0]))
    return list(found.values())


def _ident(name: str, meta: Mapping[str, Any]) -> str:
    """Return a step's lasting key: its `key:`, else its file's number."""
    return str(meta.get("key") or name[:2])


def slot_of(files: Mapping[str, str], ident: str) -> Slot | None:
    """Return the place of the step with this key, or None."""
    return next((s for s in slots(files) if s.ident == ident), None)


def draft_of(files: Mapping[str, str], slot: Slot) -> Draft:
    """Return the form's values for a step (timing and conditions from the first language)."""
    metas = {lang: split(files.get(f"{lang}/{slot.name}", ""))[0] for lang in LANGUAGES}
    first = next((m for m in metas.values() if m), {})
    return Draft(
        offset=str(first.get("offset", "")),
        anchor=str(first.get("anchor", "start")),
        at=str(first.get("at", "")),
        unless=_listed(first.get("unless")),
        only_if=_listed(first.get("only_if")),
        subjects={lang: str(meta.get("subject", "")) for lang, meta in metas.items()},
        bodies={lang: _body(files, lang, slot) for lang in LANGUAGES},
    )


def _listed(value: Any) -> list[str]:
    """Return a condition list as the files may write it (one alone, or a list)."""
    if not value:
        return []
    return [str(value)] if isinstance(value, str) else [str(v) for v in value]


def _body(files: Mapping[str, str], language: str, slot: Slot) -> str:
    """Return the Markdown body of a step's file in `language` ("" if there is none)."""
    return split(files.get(f"{language}/{slot.name}", ""))[1] if files else ""


def with_draft(files: Mapping[str, str], slot: Slot, draft: Draft) -> Files:
    """Return the files with the step at `slot` written from the draft (both languages); the
    other keys of its front matter (its `key:`) are kept."""
    changed = dict(files)
    before = draft_of(files, slot)
    for language in LANGUAGES:
        path = f"{language}/{slot.name}"
        if path in files and _same(before, draft, language):
            continue  # its text stays as written
        meta = {**split(files.get(path, ""))[0], **draft.meta(language)}
        body = _ends_with_newline(draft.bodies[language])
        changed[path] = rewritten(files.get(path, ""), _keyed(meta, slot), body)
    return changed


def _same(before: Draft, after: Draft, language: str) -> bool:
    """Whether a draft says the same as the step's file in `language` already does."""
    bodies = (before.bodies.get(language, ""), after.bodies.get(language, ""))
    same_body = _ends_with_newline(bodies[0]) == _ends_with_newline(bodies[1])
    return same_body and before.meta(language) == after.meta(language)


def _keyed(meta: dict[str, Any], slot: Slot) -> dict[str, Any]:
    """Return the front matter with the step's key written when its number is not its key."""
    return {**meta, "key": None if slot.ident == slot.number else slot.ident}


def _ends_with_newline(body: str) -> str:
    """Return a body with Unix line ends and one final newline, as the shipped files have."""
    text = body.replace("\r\n", "\n").replace("\r", "\n")
    return text.rstrip("\n") + "\n"


def new_slot(files: Mapping[str, str], ident: str, subject: str) -> Slot | None:
    """Return the place of a new last step with this key, named after its subject; None when
    the sequence has no room for one more."""
    numbers = [int(s.number) for s in slots(files)]
    number = max(numbers, default=0) + 1
    if number > MAX_STEPS:
        return None
    return Slot(f"{number:02d}-{slug_of(subject)}.md", ident)


def slug_of(subject: str) -> str:
    """Return a file name's part for a subject: "Bra ljud i {{ x }}" gives "bra-ljud-i"."""
    text = re.sub(r"\{[{%#].*?[}%#]\}", " ", subject).lower()
    text = text.translate(str.maketrans("åäöéèüæø", "aaoeeuao"))
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:40].strip("-")
    return slug or "steg"


def moved(files: Mapping[str, str], ident: str, step: int) -> Files | None:
    """Return the files with the step swapped with its neighbour (`step` -1 up, +1 down); None
    when there is no neighbour that way."""
    order = slots(files)
    here = next((i for i, s in enumerate(order) if s.ident == ident), None)
    if here is None or not 0 <= here + step < len(order):
        return None
    this, other = order[here], order[here + step]
    changed = _without(files, this, other)
    changed.update(_renamed(files, this, other.number))
    changed.update(_renamed(files, other, this.number))
    return changed


def _without(files: Mapping[str, str], *gone: Slot) -> Files:
    """Return the files without those of the given steps."""
    names = {s.name for s in gone}
    return {k: v for k, v in files.items() if k.partition("/")[2] not in names}


def _renamed(files: Mapping[str, str], slot: Slot, number: str) -> Files:
    """Return a step's files under a new number, keeping its key."""
    target = Slot(f"{number}{slot.name[2:]}", slot.ident)
    renamed = {}
    for key, text in files.items():
        language, _, name = key.partition("/")
        if name == slot.name:
            meta, body = split(text)
            renamed[f"{language}/{target.name}"] = rewritten(text, _keyed(meta, target), body)
    return renamed


def removed(files: Mapping[str, str], ident: str) -> Files | None:
    """Return the files without the step with this key (the others keep their numbers); None
    when there is no such step."""
    slot = slot_of(files, ident)
    return None if slot is None else _without(files, slot)


def changed_steps(before: Mapping[str, str], after: Mapping[str, str]) -> int:
    """Return how many steps differ between two versions: added, removed, moved or changed."""
    return len({ident for ident, _ in _by_ident(before) ^ _by_ident(after)})


def _name(key: str) -> str:
    """Return a file's name without its language folder."""
    return key.partition("/")[2]


def _by_ident(files: Mapping[str, str]) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    """Return each step as (key, its files' names and texts), to compare versions by."""
    return {
        (slot.ident, tuple((k, v) for k, v in sorted(files.items()) if _name(k) == slot.name))
        for slot in slots(files)
    }
