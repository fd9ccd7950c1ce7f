"""What changed between two versions of a sequence, file by file, line by line.

Files are paired by language and the step's lasting key, not by name: a step that moved is
shown as the same file under a new name with the lines that changed (its `key:`), not as one
file removed and another added.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass

from campaign.drip.editing import slots

CONTEXT = 2  # unchanged lines shown around each change


@dataclass(frozen=True)
class Line:
    """One line of a comparison: "same", "removed", "added", or "gap" (unchanged lines left
    out), with its numbers before and after."""

    kind: str
    before: int | None
    after: int | None
    text: str


@dataclass(frozen=True)
class FileChange:
    """One file's change: its name before and after (None: added or removed) and its lines."""

    before: str | None
    after: str | None
    lines: list[Line]

    @property
    def moved(self) -> bool:
        """Whether the file has a new name (the step moved)."""
        return None not in (self.before, self.after) and self.before != self.after


def compared(before: Mapping[str, str], after: Mapping[str, str]) -> list[FileChange]:
    """Return the changes of every file that differs, in the order of the newer version."""
    old, new = _by_step(before), _by_step(after)
    order = list(new) + [k for k in old if k not in new]
    changes = [_change(before, after, old.get(k), new.get(k)) for k in order]
    return [c for c in changes if c.before != c.after or c.lines]


def _by_step(files: Mapping[str, str]) -> dict[tuple[str, str], str]:
    """Return each file's key by (step key, language), in the order of the steps."""
    found = {}
    for slot in slots(files):
        for key in sorted(files):
            language, _sep, name = key.partition("/")
            if name == slot.name:
                found[(slot.ident, language)] = key
    return found


def _change(
    before: Mapping[str, str], after: Mapping[str, str], old: str | None, new: str | None
) -> FileChange:
    """Return one file's change between the versions."""
    old_text = before[old] if old else ""
    new_text = after[new] if new else ""
    return FileChange(old, new, lines_of(old_text, new_text))


def lines_of(old: str, new: str) -> list[Line]:
    """Return the changed lines of a text, with a little unchanged text around each change."""
    a, b = old.splitlines(), new.splitlines()
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    found: list[Line] = []
    for number, group in enumerate(matcher.get_grouped_opcodes(CONTEXT)):
        if number:
            found.append(Line("gap", None, None, ""))
        for tag, i1, i2, j1, j2 in group:
            found += _opcode(tag, a, b, (i1, i2, j1, j2))
    return found


def _opcode(tag: str, a: list[str], b: list[str], span: tuple[int, int, int, int]) -> list[Line]:
    """Return the lines of one step of the comparison."""
    i1, i2, j1, j2 = span
    if tag == "equal":
        return [Line("same", i + 1, j1 + i - i1 + 1, a[i]) for i in range(i1, i2)]
    removed = [Line("removed", i + 1, None, a[i]) for i in range(i1, i2)]
    return removed + [Line("added", None, j + 1, b[j]) for j in range(j1, j2)]
