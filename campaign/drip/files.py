"""Sequences as files: `campaign/sequences/<name>/<language>/NN-slug.md`.

Each step is Markdown with a YAML front matter block:

    ---
    offset: +2 business days     # from the participant's start: +0d, +3 days, +2w, +3 business days
    anchor: start                 # optional: or campaign_end, with a negative offset such as -2w
    at: "08:30"                   # local time in the campaign's time zone
    subject: Prova webbmöten i {{ campaign.name }}
    unless: [attended_practice_meeting]   # optional: skip when any of these holds
    key: "03"                     # optional: the step's lasting identity (default: its number)
    ---
    Hej{% if participant.first_name %} {{ participant.first_name }}{% endif %}! …

A campaign keeps its own copy of each sequence as versions of these same files
(campaign/drip/stored.py); `parse_sequence` reads one from a dict of file texts, so the shipped
files and a campaign's copy pass through one checker.

A placeholder that may be empty needs a fallback (campaign/drip/fallbacks.py warns of one
without).

Loading never raises on a bad file: every problem is reported with its file and line, and a
sequence with a problem is never sent from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any

import yaml
from flask_babel import lazy_gettext as _l

from campaign.timing import QUIET_HOURS, Offset, parse_offset

SEQUENCES_DIR = Path(__file__).parent.parent / "sequences"
LANGUAGES = ("sv", "en")
CONDITIONS = {
    "attended_practice_meeting": _l("the participant has attended a practice meeting"),
    "declined_invitation": _l("the participant has declined an invitation"),
    "answered_baseline": _l("the participant has answered the baseline questionnaire"),
}
REQUIRED = ("offset", "at", "subject")
ALLOWED = (*REQUIRED, "anchor", "unless", "only_if", "key")
# The order of the keys when a step is written back (step_text).
ORDER = ("key", "offset", "anchor", "at", "subject", "unless", "only_if")
# What an offset counts from: the participant's start, the campaign's last day, or the day of
# each event of a kind the participant is invited to (one mail per event).
EVENT_ANCHORS = ("practice_meeting", "training", "webinar")
ANCHORS = ("start", "campaign_end", *EVENT_ANCHORS)
STEP_NAME = re.compile(r"^(?P<number>\d{2})-(?P<slug>[a-z0-9-]+)\.md$")
TIME = re.compile(r"^(?P<hour>[01]\d|2[0-3]):(?P<minute>[0-5]\d)$")
IDENT = re.compile(r"^[a-z0-9][a-z0-9-]{0,15}$")


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Step:
    sequence: str
    language: str
    number: str
    slug: str
    path: Path
    offset: Offset
    at: time
    subject: str
    body: str
    body_line: int  # the file line where the body starts
    subject_line: int
    unless: tuple[str, ...] = ()
    only_if: tuple[str, ...] = ()
    anchor: str = "start"
    ident: str = ""  # the step's lasting identity: its `key`, else its number

    @property
    def key(self) -> str:
        """The step's name in outbox source keys: `welcome/02`. It stays when the step moves,
        so reordering a sequence never sends a step twice."""
        return f"{self.sequence}/{self.ident or self.number}"


@dataclass
class Sequence:
    name: str
    steps: dict[str, list[Step]] = field(default_factory=dict)  # language -> steps in order


def _line_of(front: str, key: str) -> int:
    for number, line in enumerate(front.splitlines(), start=2):
        if line.startswith(f"{key}:"):
            return number
    return 1


@dataclass
class _FrontMatter:
    """A step file split at its front matter, with the problems found while reading it."""

    path: Path
    text: str  # the front matter's lines, without the --- around them
    meta: dict[str, Any]
    body: str
    problems: list[Problem] = field(default_factory=list)

    @property
    def body_line(self) -> int:
        """The file line where the body starts."""
        return self.text.count("\n") + 4

    def line_of(self, key: str) -> int:
        """Return the file line of `key`, or 1 when it is missing."""
        return _line_of(self.text, key)

    def report(self, key: str, message: str) -> None:
        """Note a problem at the line of `key`."""
        self.problems.append(Problem(self.path, self.line_of(key), message))


def read_step(path: Path, sequence: str, language: str) -> tuple[Step | None, list[Problem]]:
    """Read one step file; return the step, or None with the problems found."""
    return read_step_text(path, path.read_text(encoding="utf-8"), sequence, language)


def read_step_text(
    path: Path, text: str, sequence: str, language: str
) -> tuple[Step | None, list[Problem]]:
    """Read one step from its file's text (`path` names it in problems)."""
    name = STEP_NAME.match(path.name)
    if name is None:
        return None, [Problem(path, 1, "the file name must look like 01-welcome.md")]
    front = _read_front_matter(path, text)
    if isinstance(front, Problem):
        return None, [front]
    if problems := _key_problems(front):
        return None, problems
    step = _step(front, name, sequence, language)
    return (None, front.problems) if step is None else (step, [])


def _read_front_matter(path: Path, text: str) -> _FrontMatter | Problem:
    """Split a step file into its front matter (parsed) and its body."""
    if not text.startswith("---\n") or "\n---\n" not in text[3:]:
        return Problem(
            path, 1, "the file must start with a front matter block between two lines of ---"
        )
    front, body = text[4:].split("\n---\n", 1)
    meta = _parse_yaml(path, front)
    if isinstance(meta, Problem):
        return meta
    if not isinstance(meta, dict):
        return Problem(path, 2, "the front matter must be key: value lines")
    return _FrontMatter(path, front, meta, body)


def _parse_yaml(path: Path, front: str) -> Any:
    """Return the front matter's YAML, or a problem where it breaks."""
    try:
        return yaml.safe_load(front) or {}
    except yaml.YAMLError as error:
        # Where the broken construct starts (an unclosed quote), else where it was noticed.
        mark = getattr(error, "context_mark", None) or getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        message = f"the front matter is not valid YAML: {getattr(error, 'problem', error)}"
        return Problem(path, line, message)


def _key_problems(front: _FrontMatter) -> list[Problem]:
    """Return a problem for each unknown key and each missing required one."""
    return _unknown_keys(front) + _missing_keys(front)


def _unknown_keys(front: _FrontMatter) -> list[Problem]:
    """Return a problem at each key a step may not have."""
    allowed = ", ".join(ALLOWED)
    return [
        Problem(front.path, front.line_of(k), f"unknown key {k!r}; allowed: {allowed}")
        for k in front.meta
        if k not in ALLOWED
    ]


def _missing_keys(front: _FrontMatter) -> list[Problem]:
    """Return a problem for each key a step must have and does not."""
    return [
        Problem(front.path, 2, f"the front matter needs {k!r}")
        for k in REQUIRED
        if k not in front.meta
    ]


def _step(front: _FrontMatter, name: re.Match[str], sequence: str, language: str) -> Step | None:
    """Return the step the front matter describes, or None when it has problems."""
    offset = _offset(front)
    at = _time_of_day(front)
    unless = _conditions(front, "unless")
    only_if = _conditions(front, "only_if")
    anchor = _anchor(front, offset)
    ident = _ident(front, name["number"])
    if front.problems or offset is None or at is None:
        return None
    return Step(
        sequence=sequence,
        language=language,
        number=name["number"],
        slug=name["slug"],
        path=front.path,
        offset=offset,
        at=at,
        subject=str(front.meta["subject"]),
        body=front.body,
        body_line=front.body_line,
        subject_line=front.line_of("subject"),
        unless=unless,
        only_if=only_if,
        anchor=anchor,
        ident=ident,
    )


def _ident(front: _FrontMatter, number: str) -> str:
    """Return the step's lasting identity: its `key`, else its number."""
    ident = str(front.meta.get("key", number))
    if not IDENT.match(ident):
        front.report("key", f"the key {ident!r} must be short: lowercase letters, digits and -")
    return ident


def _offset(front: _FrontMatter) -> Offset | None:
    """Return the step's offset, or None when it cannot be read."""
    try:
        return parse_offset(str(front.meta["offset"]))
    except ValueError as error:
        front.report("offset", str(error))
        return None


def _time_of_day(front: _FrontMatter) -> time | None:
    """Return the step's local time of sending, or None when unreadable or in quiet hours."""
    clock = TIME.match(str(front.meta["at"]))
    if clock is None:
        front.report("at", f'cannot read the time {front.meta["at"]!r}: write it as "08:30"')
        return None
    at = time(int(clock["hour"]), int(clock["minute"]))
    if QUIET_HOURS.contains(at):
        front.report(
            "at",
            f"{front.meta['at']} is in the quiet hours: mail is sent between "
            f"{QUIET_HOURS.end:%H:%M} and {QUIET_HOURS.start:%H:%M}",
        )
    return at


def _conditions(front: _FrontMatter, key: str) -> tuple[str, ...]:
    """Return the conditions listed under `key` (one may stand alone), reporting unknown ones."""
    values = front.meta.get(key) or []
    values = [values] if isinstance(values, str) else list(values)
    unknown = [v for v in values if v not in CONDITIONS]
    if unknown:
        front.report(key, f"unknown condition {unknown[0]!r}; known: {', '.join(CONDITIONS)}")
    return tuple(values)


def _anchor(front: _FrontMatter, offset: Offset | None) -> str:
    """Return what the step's offset counts from, reporting an unknown or impossible one."""
    anchor = str(front.meta.get("anchor", "start"))
    if anchor not in ANCHORS:
        front.report("anchor", f"unknown anchor {anchor!r}; use {' or '.join(ANCHORS)}")
    if offset is not None and offset.amount < 0 and anchor == "start":
        front.report("offset", _BEFORE_START)
    return anchor


_BEFORE_START = (
    "a step cannot come before the participant starts; a negative offset needs anchor: campaign_end"
)


def load_sequences(root: Path = SEQUENCES_DIR) -> tuple[dict[str, Sequence], list[Problem]]:
    """Read every sequence under `root`; return them with every problem found on the way."""
    sequences: dict[str, Sequence] = {}
    problems: list[Problem] = []
    for folder in _folders(root) if root.exists() else []:
        sequences[folder.name], found = _read_sequence(folder)
        problems += found
    return sequences, problems


def _folders(root: Path) -> list[Path]:
    """Return the folders directly under `root`, in order of name."""
    return sorted(p for p in root.iterdir() if p.is_dir())


def _read_sequence(folder: Path) -> tuple[Sequence, list[Problem]]:
    """Read one sequence's folder; return it with the problems found."""
    files: dict[str, str] = {}
    problems: list[Problem] = []
    for language_dir in _folders(folder):
        if language_dir.name not in LANGUAGES:
            message = f"unknown language folder; use {' or '.join(LANGUAGES)}"
            problems.append(Problem(language_dir, 1, message))
            continue
        for path in sorted(language_dir.glob("*.md")):
            files[f"{language_dir.name}/{path.name}"] = path.read_text(encoding="utf-8")
    sequence, found = parse_sequence(folder.name, files, folder)
    return sequence, problems + found


def parse_sequence(
    name: str, files: Mapping[str, str], origin: Path | None = None
) -> tuple[Sequence, list[Problem]]:
    """Read a whole sequence from its files' texts, keyed `sv/01-welcome.md`; problems name
    each file under `origin` (the sequence's folder, or its name for a stored copy)."""
    folder = origin or Path(name)
    sequence, problems = Sequence(name), []
    for key in sorted(files):
        language, _, file_name = key.partition("/")
        if language not in LANGUAGES or not file_name or "/" in file_name:
            problems.append(Problem(folder / key, 1, _MISPLACED))
            continue
        step, found = read_step_text(folder / key, files[key], name, language)
        sequence.steps.setdefault(language, []).extend([step] if step else [])
        problems += found
    problems += _clashing_idents(folder, sequence)
    return sequence, problems + _missing_translations(folder, sequence)


_MISPLACED = "a step file belongs in a language folder: sv/01-welcome.md or en/01-welcome.md"


def _clashing_idents(folder: Path, sequence: Sequence) -> list[Problem]:
    """Return a problem for a key two steps share, and for a file whose key differs between
    languages (the outbox knows a step by its key, in every language)."""
    problems: list[Problem] = []
    keys: dict[str, str] = {}  # file name -> key
    for steps in sequence.steps.values():
        seen: set[str] = set()
        for step in steps:
            if step.ident in seen:
                problems.append(Problem(step.path, 1, f"another step has the key {step.ident!r}"))
            seen.add(step.ident)
            if keys.setdefault(step.path.name, step.ident) != step.ident:
                message = "the key differs between the languages' files; use the same in both"
                problems.append(Problem(step.path, 1, message))
    return problems


def step_text(meta: Mapping[str, object], body: str) -> str:
    """Write a step file: its front matter (in the usual order) between two lines of ---, then
    the body."""
    ordered = {k: meta[k] for k in ORDER if k in meta and meta[k] not in (None, "", [], ())}
    front = yaml.safe_dump(ordered, allow_unicode=True, sort_keys=False, width=1000)
    return f"---\n{front}---\n{body}"


def _missing_translations(folder: Path, sequence: Sequence) -> list[Problem]:
    """Return a problem for each language the sequence lacks or leaves a step untranslated in."""
    names = {language: {s.path.name for s in steps} for language, steps in sequence.steps.items()}
    problems = []
    for language in LANGUAGES:
        if language not in names:
            problems.append(Problem(folder, 1, f"no {language} version of the sequence"))
        else:
            problems += _untranslated(folder, names, language)
    return problems


def _untranslated(folder: Path, names: dict[str, set[str]], language: str) -> list[Problem]:
    """Return a problem for each step file another language has and `language` lacks."""
    return [
        Problem(folder / other / missing, 1, f"no {language} translation ({language}/{missing})")
        for other, files in names.items()
        for missing in sorted(files - names[language])
    ]
