"""When a participant's next sequence step may be due: the note a run writes, and the changes
that clear it.

`Participant.next_step_at` is the moment a run found for the next step (NOTHING_LEFT when none
is to come), so a run reads only the participants whose moment has come. A change that can
move a next step earlier clears it, and the next run looks at that participant again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, or_, select, update
from sqlalchemy import event as sa_event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from campaign.enrolment.models import Participant, PilotGroup
from campaign.events.models import Event, Invitation
from campaign.network.models import Campaign

# next_step_at of a participant with no step left to come (until a change says otherwise).
NOTHING_LEFT = datetime(9999, 12, 31, tzinfo=UTC)


def note_next_steps(db_session: Session, next_at: list[dict[str, Any]]) -> None:
    """Write when each participant's next step is due, so the next run reads only those due."""
    table = cast(Table, Participant.__table__)
    db_session.execute(  # updated_at is kept: this is the engine's note, not a change of the person
        update(table)
        .where(table.c.id == bindparam("pid"))
        .values(next_step_at=bindparam("at"), updated_at=table.c.updated_at),
        next_at,
    )


# What can move someone's next step earlier: their start, language, group or status; their
# pilot group's start or sequence; a new invitation, or an event's new time; the campaign's
# period, zone or language. Each clears next_step_at, so that the next run looks at them again.
# (Looking too early costs nothing; a change made around the ORM is caught by the hourly sweep.)
WATCHED = {
    Participant: ("starts_on", "language", "pilot_group_id", "status"),
    PilotGroup: ("starts_on", "sequence_name"),
    Event: ("starts_at", "is_cancelled"),
    Campaign: ("starts_on", "ends_on", "timezone", "language"),
}


@sa_event.listens_for(Session, "before_flush")
def _forget_next_steps(db_session: Session, flush_context: Any, instances: Any) -> None:
    changed = _watched_changes(db_session)
    invited = {
        obj.participant_id
        for obj in db_session.new
        if isinstance(obj, Invitation) and obj.participant_id is not None
    }
    if not any(changed.values()) and not invited:
        return
    table = cast(Table, Participant.__table__)
    whom = [
        table.c.id.in_(changed[Participant] | invited),
        table.c.pilot_group_id.in_(changed[PilotGroup]),
        table.c.campaign_id.in_(changed[Campaign]),
        table.c.id.in_(
            select(Invitation.participant_id).where(Invitation.event_id.in_(changed[Event]))
        ),
    ]
    db_session.connection().execute(  # not db_session.execute: that would flush again
        update(table).where(or_(*whom)).values(next_step_at=None, updated_at=table.c.updated_at)
    )


def _watched_changes(db_session: Session) -> dict[type, set[int]]:
    """The ids of the rows about to be flushed whose WATCHED columns have changed, by kind."""
    changed: dict[type, set[int]] = {kind: set() for kind in WATCHED}
    for obj in db_session.dirty:
        names = WATCHED.get(type(obj), ())
        state = sa_inspect(obj)
        if any(state.attrs[name].history.has_changes() for name in names):
            changed[type(obj)].add(obj.id)
    return changed
