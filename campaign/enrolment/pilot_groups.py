"""A member's pilot groups as staff change them: create, change, open or close the
self-enrolment link, delete; each change is audited. The caller commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.audit import record
from campaign.enrolment import joining
from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup, PilotGroupKind


@dataclass(frozen=True)
class GroupFields:
    """What staff enter for a pilot group."""

    name: str
    kind: PilotGroupKind
    starts_on: date
    sequence_name: str | None


def of_member(db_session: Session, campaign_id: int, organisation_id: int) -> list[PilotGroup]:
    """Return the member's pilot groups in the campaign, by start and name."""
    return list(
        db_session.scalars(
            select(PilotGroup)
            .where(
                PilotGroup.organisation_id == organisation_id,
                PilotGroup.campaign_id == campaign_id,
            )
            .order_by(PilotGroup.starts_on, PilotGroup.name)
        )
    )


def active_counts(db_session: Session, campaign_id: int, organisation_id: int) -> dict[int, int]:
    """Return how many active or paused participants each of the member's groups has."""
    query = (
        select(Participant.pilot_group_id, func.count())
        .where(
            Participant.campaign_id == campaign_id,
            Participant.organisation_id == organisation_id,
            Participant.pilot_group_id.is_not(None),
            Participant.status.in_([ParticipantStatus.ACTIVE, ParticipantStatus.PAUSED]),
        )
        .group_by(Participant.pilot_group_id)
    )
    return {group_id: n for group_id, n in db_session.execute(query) if group_id is not None}


def name_taken(db_session: Session, group: PilotGroup, name: str) -> bool:
    """Return whether another group of the same member already has `name`."""
    found = db_session.scalar(
        select(PilotGroup.id).where(
            PilotGroup.campaign_id == group.campaign_id,
            PilotGroup.organisation_id == group.organisation_id,
            PilotGroup.name == name,
            PilotGroup.id != (group.id or -1),
        )
    )
    return found is not None


def save(
    db_session: Session, group: PilotGroup, fields: GroupFields, actor: Any, now: datetime
) -> None:
    """Store a new or changed group (`group.id` is None for a new one)."""
    action = "pilot_group.changed" if group.id else "pilot_group.created"
    if not group.id:
        group.created_at = now
        db_session.add(group)
    _set_fields(group, fields)
    db_session.flush()
    _record(db_session, actor, action, group, name=group.name)


def _set_fields(group: PilotGroup, fields: GroupFields) -> None:
    """Give the group what staff entered."""
    group.name, group.kind = fields.name, fields.kind
    group.starts_on, group.sequence_name = fields.starts_on, fields.sequence_name


def open_link(db_session: Session, group: PilotGroup, actor: Any) -> None:
    """Open the group's self-enrolment link, or replace it: older links stop working."""
    joining.open_link(group)
    _record(db_session, actor, "pilot_group.link_opened", group)


def close_link(db_session: Session, group: PilotGroup, actor: Any) -> None:
    """Close the group's self-enrolment link."""
    joining.close_link(group)
    _record(db_session, actor, "pilot_group.link_closed", group)


def delete(db_session: Session, group: PilotGroup, actor: Any) -> bool:
    """Delete an empty group; False (nothing done) while it has participants."""
    members = db_session.scalar(select(func.count()).where(Participant.pilot_group_id == group.id))
    if members:
        return False
    _record(db_session, actor, "pilot_group.deleted", group, name=group.name)
    db_session.delete(group)
    return True


def _record(
    db_session: Session, actor: Any, action: str, group: PilotGroup, **details: Any
) -> None:
    """Audit a change of the group."""
    record(db_session, actor, action, campaign_id=group.campaign_id,
           organisation_id=group.organisation_id, target=f"pilot_group:{group.id}",
           **details)  # fmt: skip
