"""Each campaign's own copy of its sequences, kept as versions of the shipped Markdown files.

A campaign that has never saved a sequence follows the files in `campaign/sequences/`. The
first save keeps those files as version 1 ("shipped"), then the edited files as version 2, and
so on: every version holds every step file's whole text, keyed `sv/01-welcome.md`, so a version
can be shown, compared, exported as the same files and reverted to. Nothing is saved while
`campaign sequences check` would find a problem in it (`problems_of`).

Reading is cheap: a version's text is parsed and checked once per process (cached by its
content), and each drip run asks for the newest version numbers of its campaigns in one query.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Select, func, select, update
from sqlalchemy.orm import Session

from campaign.drip import known
from campaign.drip.check import render_problems
from campaign.drip.files import SEQUENCES_DIR, STEP_NAME, Problem, Sequence, parse_sequence
from campaign.drip.models import SequenceVersion
from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup

SHIPPED = "shipped"
KEY_LINE = re.compile(r"^key:\s*[\"']?(?P<ident>[a-z0-9-]+)", re.MULTILINE)


class Unsaved(Exception):
    """The proposed files have problems; nothing was saved."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Stored:
    """A campaign's current copy of a sequence: its version number (None while it follows the
    shipped files), the files' texts, the sequence read from them and every problem found."""

    name: str
    number: int | None
    files: dict[str, str]
    sequence: Sequence
    problems: list[Problem] = field(default_factory=list)


def shipped_names(root: Path | None = None) -> list[str]:
    """Return the names of the shipped sequences, in order."""
    root = root or SEQUENCES_DIR
    return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.exists() else []


def shipped_files(name: str, root: Path | None = None) -> dict[str, str]:
    """Return the texts of a shipped sequence's step files, keyed `sv/01-welcome.md`."""
    folder = (root or SEQUENCES_DIR) / name
    return {
        path.relative_to(folder).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(folder.glob("*/*.md"))
    }


def current(db_session: Session, campaign_id: int, name: str) -> Stored:
    """Return the campaign's current copy of sequence `name` (the shipped one if never saved)."""
    version = _newest(db_session, campaign_id, name)
    files = dict(version.files) if version else shipped_files(name)
    sequence, problems = checked(name, files)
    return Stored(name, version.number if version else None, files, sequence, problems)


def copies(db_session: Session, campaign_id: int) -> dict[str, Stored]:
    """Return the campaign's current copy of every sequence, by name."""
    names = set(shipped_names()) | set(_stored_names(db_session, campaign_id))
    return {name: current(db_session, campaign_id, name) for name in sorted(names)}


def campaign_sequences(db_session: Session, campaign_id: int) -> dict[str, Sequence]:
    """Return the sequences the campaign can send from: its current copies without problems."""
    found = copies(db_session, campaign_id).values()
    return {copy.name: copy.sequence for copy in found if copy.files and not copy.problems}


def problems_of(
    db_session: Session, campaign_id: int, name: str, files: dict[str, str]
) -> list[Problem]:
    """Return every problem `campaign sequences check --campaign` would find in these files:
    the files' own, and the questionnaires and milestones they name that the campaign lacks."""
    sequence, problems = checked(name, files)
    return problems + known.problems(sequence, known.known_in(db_session, campaign_id))


def save(
    db_session: Session,
    campaign_id: int,
    name: str,
    files: dict[str, str],
    *,
    author_id: int | None,
    note: str,
    now: datetime,
) -> SequenceVersion | None:
    """Keep `files` as the campaign's new version of sequence `name` (without committing);
    None when they are the current ones. Raises Unsaved when they have problems."""
    if problems := problems_of(db_session, campaign_id, name, files):
        raise Unsaved(problems)
    before = current(db_session, campaign_id, name)
    if before.files == files:
        return None
    number = before.number or 0
    if before.number is None:  # the shipped files become version 1
        number = 1
        _add(db_session, campaign_id, name, before.files, None, SHIPPED, now, number)
    return _add(db_session, campaign_id, name, files, author_id, note, now, number + 1)


def _add(
    db_session: Session,
    campaign_id: int,
    name: str,
    files: dict[str, str],
    author_id: int | None,
    note: str,
    now: datetime,
    number: int,
) -> SequenceVersion:
    version = SequenceVersion(
        campaign_id=campaign_id,
        sequence=name,
        number=number,
        files=dict(files),
        author_id=author_id,
        created_at=now,
        note=note,
    )
    db_session.add(version)
    db_session.flush()
    return version


def carry_over(db_session: Session, old_id: int, old_slug: str, new_id: int, now: datetime) -> int:
    """Give a new campaign the old one's own copy of each sequence it saved, as its version 1
    (keeping who wrote the last one); return how many."""
    saved = [current(db_session, old_id, name) for name in _stored_names(db_session, old_id)]
    for copy in saved:
        author = _newest(db_session, old_id, copy.name)
        author_id = author.author_id if author else None
        _add(db_session, new_id, copy.name, copy.files, author_id, f"from:{old_slug}", now, 1)
    return len(saved)


def versions(db_session: Session, campaign_id: int, name: str) -> list[SequenceVersion]:
    """Return the campaign's saved versions of sequence `name`, newest first."""
    statement = _of(campaign_id, name).order_by(SequenceVersion.number.desc())
    return list(db_session.scalars(statement))


def version(
    db_session: Session, campaign_id: int, name: str, number: int
) -> SequenceVersion | None:
    """Return one saved version, or None."""
    return db_session.scalar(_of(campaign_id, name).where(SequenceVersion.number == number))


def replan(db_session: Session, campaign_id: int, name: str) -> int:
    """Have the next drip run look again at everyone following sequence `name` in the campaign
    (their next step's moment is worked out anew); return how many they are."""
    groups = select(PilotGroup.id).where(
        PilotGroup.campaign_id == campaign_id, PilotGroup.sequence_name == name
    )
    statement = (
        update(Participant)
        .where(
            Participant.campaign_id == campaign_id,
            Participant.status == ParticipantStatus.ACTIVE,
            Participant.pilot_group_id.in_(groups),
        )
        .values(next_step_at=None)
        .execution_options(synchronize_session=False)
    )
    result = db_session.execute(statement)
    return cast(CursorResult[Any], result).rowcount  # an UPDATE: a cursor result


def fresh_ident(db_session: Session, campaign_id: int, name: str) -> str:
    """Return a step key that no version of the sequence (nor the shipped files) has used, so a
    new step is never taken for one somebody already got."""
    used = _idents(shipped_files(name))
    for saved in versions(db_session, campaign_id, name):
        used |= _idents(saved.files)
    return next(f"{n:02d}" for n in range(1, 10_000) if f"{n:02d}" not in used)


def _idents(files: dict[str, str]) -> set[str]:
    """Return the step keys the files use (their numbers, and any `key:` they give)."""
    found = set()
    for key, text in files.items():
        if name := STEP_NAME.match(key.rpartition("/")[2]):
            found.add(name["number"])
        found |= {m["ident"] for m in KEY_LINE.finditer(text.split("\n---\n", 1)[0])}
    return found


def checked(name: str, files: dict[str, str]) -> tuple[Sequence, list[Problem]]:
    """Read and check a sequence's files (once per process for the same texts)."""
    sequence, problems = _checked(name, json.dumps(files, sort_keys=True, ensure_ascii=False))
    return sequence, list(problems)


@functools.lru_cache(maxsize=256)
def _checked(name: str, canonical: str) -> tuple[Sequence, tuple[Problem, ...]]:
    sequence, problems = parse_sequence(name, json.loads(canonical))
    problems += [p for steps in sequence.steps.values() for s in steps for p in render_problems(s)]
    return sequence, tuple(problems)


def _of(campaign_id: int, name: str) -> Select[SequenceVersion]:
    return select(SequenceVersion).where(
        SequenceVersion.campaign_id == campaign_id, SequenceVersion.sequence == name
    )


def _newest(db_session: Session, campaign_id: int, name: str) -> SequenceVersion | None:
    newest = func.max(SequenceVersion.number)
    number = db_session.scalar(
        select(newest).where(
            SequenceVersion.campaign_id == campaign_id, SequenceVersion.sequence == name
        )
    )
    return None if number is None else version(db_session, campaign_id, name, number)


def _stored_names(db_session: Session, campaign_id: int) -> list[str]:
    statement = select(SequenceVersion.sequence).where(SequenceVersion.campaign_id == campaign_id)
    return list(db_session.scalars(statement.distinct()))
