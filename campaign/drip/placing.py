"""Where each problem the checker finds belongs in the step form, said in the reader's words.

A problem names a file and a line (`campaign sequences check`'s own words). A line of the edited
step's front matter belongs to the field of its key; a line of its body to that language's text
field, counted from the body's first line; anything else (another step's file, a missing
translation) to the sequence as a whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask_babel import gettext as _
from markupsafe import Markup

from campaign.drip.files import Problem

# The form field of each front matter key ({lang}: the file's language).
FIELDS = {
    "offset": "offset_amount",
    "anchor": "anchor",
    "at": "at",
    "unless": "unless",
    "only_if": "only_if",
    "subject": "subject_{lang}",
}
KEY = re.compile(r"^(?P<key>\w+):")


@dataclass(frozen=True)
class Placed:
    """A problem where the form shows it: its field (None: the sequence as a whole), its file
    and line, the line within the body for a text's problem, and what it says."""

    field: str | None
    file: str
    line: int
    body_line: int | None
    message: Markup


def placed(
    problems: list[Problem], name: str, step_file: str | None, files: Mapping[str, str]
) -> list[Placed]:
    """Return the problems placed in the form of the step whose files are named `step_file`,
    each said once (a field's problem in both languages' files is one)."""
    found: dict[tuple[str | None, str, str], Placed] = {}
    for problem in problems:
        shown = _place(problem, name, step_file, files)
        where = "" if shown.field else shown.file
        found.setdefault((shown.field, where, str(shown.message)), shown)
    return list(found.values())


def _place(problem: Problem, name: str, step_file: str | None, files: Mapping[str, str]) -> Placed:
    """Return one problem placed: at the field its line belongs to, if in the step's files."""
    file = _file_key(problem, name)
    language, _sep, file_name = file.partition("/")
    field, body_line = None, None
    if step_file is not None and file_name == step_file and file in files:
        field, body_line = _field_at(files[file], problem.line, language)
    field = _named_field(problem.message, language) or field
    return Placed(field, file, problem.line, body_line, said(problem.message))


def _file_key(problem: Problem, name: str) -> str:
    """Return the problem's file as the files dict names it: "sv/03-bra-ljud.md"."""
    path = problem.path.as_posix()
    return path[len(name) + 1 :] if path.startswith(f"{name}/") else path


def _field_at(text: str, line: int, language: str) -> tuple[str | None, int | None]:
    """Return the field a line of a step's file belongs to, and its line within the body."""
    lines = text.split("\n")
    end = next((n for n in range(1, len(lines)) if lines[n] == "---"), None)
    if end is None or line <= 1:
        return None, None
    if line > end + 1:  # the body starts on the line after the closing ---
        return f"body_{language}", line - end - 1
    return _key_field(lines[1:line], language), None


def _key_field(front: list[str], language: str) -> str | None:
    """Return the field of the last key written at or above a front matter line."""
    keys = [m["key"] for m in map(KEY.match, front) if m]
    field = FIELDS.get(keys[-1]) if keys else None
    return field.format(lang=language) if field else None


def _named_field(message: str, language: str) -> str | None:
    """Return the field a missing key's problem is about ("the front matter needs 'subject'")."""
    match = re.match(r"^the front matter needs '(?P<key>\w+)'$", message)
    field = FIELDS.get(match["key"]) if match else None
    return field.format(lang=language) if field else None


def _quiet(m: re.Match[str]) -> str:
    return _(
        "%(at)s is in the quiet hours: mail is sent between %(end)s and %(start)s.",
        at=m["at"],
        end=m["end"],
        start=m["start"],
    )


# The checker's sentences that the form says in the reader's language.
SAID: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"^the front matter needs '\w+'$"), lambda m: _("Fill this in.")),
    (re.compile(r"^cannot read the time '(?P<text>.*)'"),
     lambda m: _("Cannot read the time %(text)s: write it as 08:30.", text=m["text"])),
    (re.compile(r"^(?P<at>\S+) is in the quiet hours: mail is sent between (?P<end>\S+) and "
                r"(?P<start>\S+)$"), _quiet),
    (re.compile(r"^a step cannot come before the participant starts"),
     lambda m: _("A step cannot come before the participant starts: a negative offset counts "
                 "from the campaign's last day.")),
    (re.compile(r"^cannot read the offset"),
     lambda m: _("Cannot read the offset: give a whole number of days, weeks or business days.")),
    (re.compile(r"^unknown placeholder: '(?P<name>[^']+)' is undefined$"),
     lambda m: _("Unknown placeholder: %(name)s.", name=m["name"])),
    (re.compile(r"^unknown placeholder: .* has no attribute '(?P<name>[^']+)'$"),
     lambda m: _("Unknown placeholder: %(name)s.", name=m["name"])),
    (re.compile(r"^no (?P<lang>sv|en) translation"),
     lambda m: _("The step has no version in the other language.")),
]  # fmt: skip


def said(message: str) -> Markup:
    """Return a checker's problem in the reader's language where the form knows it, else in
    the checker's own (English) words, marked as such."""
    for pattern, saying in SAID:
        if match := pattern.match(message):
            return Markup("{}").format(saying(match))
    if message.startswith("template error: "):
        return Markup('{} <span lang="en">{}</span>').format(
            _("The template cannot be read:"), message.removeprefix("template error: ")
        )
    return Markup('<span lang="en">{}</span>').format(message)
