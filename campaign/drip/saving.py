"""One change to a campaign's sequence, whole: the new version (checked first), the participants
it concerns re-planned, and the audit; the caller commits.

A version's note is a short code the history says in people's words: "edit:03" (step 03's
texts or timing), "add:09", "move:03", "remove:04", "revert:3", "import".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from campaign import audit
from campaign.drip import stored
from campaign.drip.editing import changed_steps

ACTIONS = {"revert": "sequence.reverted", "import": "sequence.imported"}


@dataclass(frozen=True)
class Saved:
    """What a change did: the version it made (None: the files were already the current ones)
    and how many participants are re-planned."""

    number: int | None
    replanned: int


def save_change(
    db_session: Session,
    campaign_id: int,
    name: str,
    files: dict[str, str],
    *,
    author: Any,
    note: str,
    now: datetime,
) -> Saved:
    """Keep the files as a new version, re-plan its participants and audit it (raises
    stored.Unsaved with the problems, having changed nothing)."""
    before = stored.current(db_session, campaign_id, name).files
    version = stored.save(
        db_session, campaign_id, name, files, author_id=author.id, note=note, now=now
    )
    if version is None:
        return Saved(None, 0)
    replanned = stored.replan(db_session, campaign_id, name)
    audit.record(
        db_session,
        author,
        ACTIONS.get(note.partition(":")[0], "sequence.saved"),
        now=now,
        campaign_id=campaign_id,
        target=f"sequence:{name}",
        number=version.number,
        steps=changed_steps(before, files),
        participants=replanned,
    )
    return Saved(version.number, replanned)
