"""Building blocks for the tests of the sequence editor: a campaign that has saved its own copy
of the sequence (versions 1, the shipped text, and 2, an edit), and the URL values of its pages."""

from __future__ import annotations

from sqlalchemy.orm import Session

from campaign.drip import stored
from tests.conftest import START, Network

NAME = "pilot-group"
WELCOME = "sv/01-valkommen.md"


def edited(files: dict[str, str], key: str, old: str, new: str) -> dict[str, str]:
    """Return the files with one text of one file replaced."""
    assert old in files[key], (key, old)
    return {**files, key: files[key].replace(old, new)}


def sequence_objects(session: Session, network: Network) -> dict[str, str]:
    """Save an edit of Alpha's campaign's sequence; return the URL values of the editor's pages
    (the last step, so that removing it leaves the previews of step 02 standing)."""
    files = stored.current(session, network.campaign.id, NAME).files
    changed = edited(files, WELCOME, "Vi hörs snart!", "Vi hörs snart igen!")
    stored.save(
        session, network.campaign.id, NAME, changed, author_id=network.lead.id, note="edit:01",
        now=START,
    )  # fmt: skip
    session.commit()
    return {"ident": "08", "version": "1", "frame": "0" * 40}
