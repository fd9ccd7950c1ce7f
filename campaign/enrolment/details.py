"""A participant's details as staff change them, audited (their data-subject export is in
campaign/report/personal_data.py). The caller commits."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from campaign.enrolment.lifecycle import readdressed, record_change
from campaign.enrolment.models import Participant
from campaign.outbox.models import Message
from campaign.outbox.queue import OPEN_STATES


@dataclass(frozen=True)
class Details:
    """What staff may change of a participant."""

    email: str
    name: str
    title: str
    language: str


def change(
    db_session: Session, person: Participant, details: Details, actor: Any, now: datetime
) -> list[str]:
    """Store the person's new details and return the names of those that changed; mail not
    yet sent goes to a new address, and a bounced person given one takes part again."""
    old_email = person.email
    changed = _set_changed(person, details)
    if not changed:
        return changed
    person.updated_at = now
    if "email" in changed:
        _readdress_open_mail(db_session, person)
        readdressed(db_session, person, old_email, actor, now)
    record_change(db_session, actor, "participant.changed", person, now, fields=changed)
    return changed


def _set_changed(person: Participant, details: Details) -> list[str]:
    """Set the details that differ on the person; return their names."""
    changes = asdict(details)
    changed = [key for key, value in changes.items() if getattr(person, key) != value]
    for key in changed:
        setattr(person, key, changes[key])
    return changed


def _readdress_open_mail(db_session: Session, person: Participant) -> None:
    """Send the person's mail not yet sent to their new address."""
    db_session.execute(
        update(Message)
        .where(Message.participant_id == person.id, Message.state.in_(OPEN_STATES))
        .values(recipient=person.email)
        .execution_options(synchronize_session=False)
    )
