"""Sequences as files: `campaign/sequences/<name>/<language>/NN-slug.md`.

Each step is Markdown with a YAML front matter block:

    ---
    offset: +2 business days     # from the participant's start: +0d, +3 days, +2w, +3 business days
    anchor: start                 # optional: or campaign_end, with a negative offset such as -2w
    at: "08:30"                   # local time in the campaign's time zone
    subject: Prova med någon du känner, {{ participant.first_name }}
    unless: [attended_practice_meeting]   # optional: skip when any of these holds
    ---
    Hej {{ participant.first_name }}! …

Loading never raises on a bad file: every problem is reported with its file and line, and a
sequence with a problem is never sent from.
"""

from __future__ import annotations

import re
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
ALLOWED = (*REQUIRED, "anchor", "unless", "only_if")
# What an offset counts from: the participant's start, the campaign's last day, or the day of
# each event of a kind the participant is invited to (one mail per event).
EVENT_ANCHORS = ("practice_meeting", "training", "webinar")
ANCHORS = ("start", "campaign_end", *EVENT_ANCHORS)
STEP_NAME = re.compile(r"^(?P<number>\d{2})-(?P<slug>[a-z0-9-]+)\.md$")
TIME = re.compile(r"^(?P<hour>[01]\d|2[0-3]):(?P<minute>[0-5]\d)$")


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

    @property
    def key(self) -> str:
        """The step's name in outbox source keys: `welcome/02`."""
        return f"{self.sequence}/{self.number}"


@dataclass
class Sequence:
    name: str
    steps: dict[str, list[Step]] = field(default_factory=dict)  # language -> steps in order


def _line_of(front: str, key: str) -> int:
    for number, line in enumerate(front.splitlines(), start=2):
        if line.startswith(f"{key}:"):
            return number
    return 1


def read_step(path: Path, sequence: str, language: str) -> tuple[Step | None, list[Problem]]:
    """Read one step file; return the step, or None with the problems found."""
    name = STEP_NAME.match(path.name)
    if name is None:
        return None, [Problem(path, 1, "the file name must look like 01-welcome.md")]
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---\n") or "\n---\n" not in text[3:]:
        return None, [
            Problem(
                path, 1, "the file must start with a front matter block between two lines of ---"
            )
        ]
    front, body = text[4:].split("\n---\n", 1)
    body_line = front.count("\n") + 4
    try:
        meta = yaml.safe_load(front) or {}
    except yaml.YAMLError as error:
        # Where the broken construct starts (an unclosed quote), else where it was noticed.
        mark = getattr(error, "context_mark", None) or getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        return None, [
            Problem(
                path,
                line,
                f"the front matter is not valid YAML: {getattr(error, 'problem', error)}",
            )
        ]
    if not isinstance(meta, dict):
        return None, [Problem(path, 2, "the front matter must be key: value lines")]
    problems = [
        Problem(path, _line_of(front, k), f"unknown key {k!r}; allowed: {', '.join(ALLOWED)}")
        for k in meta
        if k not in ALLOWED
    ]
    problems += [
        Problem(path, 2, f"the front matter needs {k!r}") for k in REQUIRED if k not in meta
    ]
    if problems:
        return None, problems
    offset, at = None, None
    try:
        offset = parse_offset(str(meta["offset"]))
    except ValueError as error:
        problems.append(Problem(path, _line_of(front, "offset"), str(error)))
    clock = TIME.match(str(meta["at"]))
    if clock is None:
        problems.append(
            Problem(
                path,
                _line_of(front, "at"),
                f'cannot read the time {meta["at"]!r}: write it as "08:30"',
            )
        )
    else:
        at = time(int(clock["hour"]), int(clock["minute"]))
        if QUIET_HOURS.contains(at):
            problems.append(
                Problem(
                    path,
                    _line_of(front, "at"),
                    f"{meta['at']} is in the quiet hours: mail is sent between "
                    f"{QUIET_HOURS.end:%H:%M} and {QUIET_HOURS.start:%H:%M}",
                )
            )
    conditions: dict[str, tuple[str, ...]] = {}
    for key in ("unless", "only_if"):
        values = meta.get(key) or []
        values = [values] if isinstance(values, str) else list(values)
        unknown = [v for v in values if v not in CONDITIONS]
        if unknown:
            problems.append(
                Problem(
                    path,
                    _line_of(front, key),
                    f"unknown condition {unknown[0]!r}; known: {', '.join(CONDITIONS)}",
                )
            )
        conditions[key] = tuple(values)
    anchor = str(meta.get("anchor", "start"))
    if anchor not in ANCHORS:
        problems.append(
            Problem(
                path,
                _line_of(front, "anchor"),
                f"unknown anchor {anchor!r}; use {' or '.join(ANCHORS)}",
            )
        )
    if offset is not None and offset.amount < 0 and anchor == "start":
        problems.append(
            Problem(
                path,
                _line_of(front, "offset"),
                "a step cannot come before the participant starts; a negative "
                "offset needs anchor: campaign_end",
            )
        )
    if problems or offset is None or at is None:
        return None, problems
    step = Step(
        sequence=sequence,
        language=language,
        number=name["number"],
        slug=name["slug"],
        path=path,
        offset=offset,
        at=at,
        subject=str(meta["subject"]),
        body=body,
        body_line=body_line,
        subject_line=_line_of(front, "subject"),
        unless=conditions["unless"],
        only_if=conditions["only_if"],
        anchor=anchor,
    )
    return step, []


def load_sequences(root: Path = SEQUENCES_DIR) -> tuple[dict[str, Sequence], list[Problem]]:
    """Read every sequence under `root`; return them with every problem found on the way."""
    sequences: dict[str, Sequence] = {}
    problems: list[Problem] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()) if root.exists() else []:
        sequence = Sequence(folder.name)
        for language_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
            if language_dir.name not in LANGUAGES:
                problems.append(
                    Problem(
                        language_dir, 1, f"unknown language folder; use {' or '.join(LANGUAGES)}"
                    )
                )
                continue
            steps = []
            for path in sorted(language_dir.glob("*.md")):
                step, found = read_step(path, folder.name, language_dir.name)
                problems += found
                if step is not None:
                    steps.append(step)
            sequence.steps[language_dir.name] = steps
        problems += _missing_translations(folder, sequence)
        sequences[folder.name] = sequence
    return sequences, problems


def _missing_translations(folder: Path, sequence: Sequence) -> list[Problem]:
    problems = []
    names = {language: {s.path.name for s in steps} for language, steps in sequence.steps.items()}
    for language in LANGUAGES:
        if language not in names:
            problems.append(Problem(folder, 1, f"no {language} version of the sequence"))
            continue
        for other, files in names.items():
            for missing in sorted(files - names[language]):
                problems.append(
                    Problem(
                        folder / other / missing,
                        1,
                        f"no {language} translation ({language}/{missing})",
                    )
                )
    return problems


def sample_context() -> dict[str, Any]:
    """Return the placeholders a step may use, filled with sample values (for checks and
    previews): participant, organisation, member, campaign, links, and next_event (for steps
    anchored to an event: the next one of the same kind the participant is invited to)."""
    return {
        "participant": {
            "name": "Åsa Öberg",
            "first_name": "Åsa",
            "email": "asa@ockero.se",
            "title": "Enhetschef",
        },
        "organisation": {"name": "Öckerö kommun", "short_name": "Öckerö"},
        "member": {
            "meeting_software": "Lync",
            "contact_name": "Petter Bergman",
            "contact_title": "energi- och klimatrådgivare",
            "contact_email": "petter.bergman@ockero.se",
            "guide_url": "https://intranat.ockero.se/lync",
        },
        "campaign": {"name": "Resfria möten 2014–2015", "ends_on": "2015-03-31"},
        "links": {"unsubscribe": "https://kampanj.example.se/u/TOKEN"},
        "next_event": {
            "title": "Prova-på-möte i Lync",
            "starts": "2014-06-26 10:00",
            "join_url": "https://meet.ockero.se/provapa",
        },
    }
