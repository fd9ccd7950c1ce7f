"""Setting, removing and reading milestones; the dates that hold for a member's participants.

A milestone's name is what a step's anchor names (`milestone:teams`): lowercase letters, digits,
- and _. A member's milestone overrides the campaign's of the same name for that member.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from campaign.audit import record
from campaign.enrolment.models import Participant
from campaign.milestones.models import NAME_LENGTH, Milestone

NAME = re.compile(rf"^[a-z0-9][a-z0-9_-]{{0,{NAME_LENGTH - 1}}}$")
Whose = tuple[int, int]  # (campaign id, organisation id)


def is_name(text: str) -> bool:
    """Whether `text` can name a milestone."""
    return NAME.match(text) is not None


def milestones_of(
    db_session: Session, campaign_id: int, organisation_id: int | None = None
) -> list[Milestone]:
    """Return the campaign's milestones and, with `organisation_id`, only that member's own
    besides (else every member's), by name, the campaign's first."""
    statement = select(Milestone).where(Milestone.campaign_id == campaign_id)
    if organisation_id is not None:
        statement = statement.where(
            or_(Milestone.organisation_id.is_(None), Milestone.organisation_id == organisation_id)
        )
    ordered = statement.order_by(Milestone.name, Milestone.organisation_id.is_not(None))
    return list(db_session.scalars(ordered))


def names_of(db_session: Session, campaign_id: int) -> list[str]:
    """Return the names of the campaign's milestones, the campaign's or a member's, sorted."""
    statement = select(Milestone.name).where(Milestone.campaign_id == campaign_id).distinct()
    return sorted(db_session.scalars(statement))


def _found(
    db_session: Session, campaign_id: int, organisation_id: int | None, name: str
) -> Milestone | None:
    """Return the milestone of this name, the campaign's (None) or the member's."""
    return db_session.scalar(
        select(Milestone).where(
            Milestone.campaign_id == campaign_id,
            Milestone.name == name,
            Milestone.organisation_id.is_(None)
            if organisation_id is None
            else Milestone.organisation_id == organisation_id,
        )
    )


def set_milestone(
    db_session: Session,
    campaign_id: int,
    organisation_id: int | None,
    values: dict[str, Any],
    actor: Any,
    now: datetime,
) -> Milestone:
    """Set a milestone's date and description (`values`: name, day, description), adding it
    when it is new; audit what changed. The caller commits."""
    milestone = _found(db_session, campaign_id, organisation_id, values["name"])
    before = None if milestone is None else milestone.day.isoformat()
    if milestone is None:
        milestone = Milestone(campaign_id=campaign_id, organisation_id=organisation_id)
        db_session.add(milestone)
    milestone.name, milestone.day = values["name"], values["day"]
    milestone.description, milestone.updated_at = values.get("description") or "", now
    record(
        db_session, actor, "milestone.set", now=now, campaign_id=campaign_id,
        organisation_id=organisation_id, target=f"milestone:{milestone.name}",
        before=before, after=milestone.day.isoformat(),
    )  # fmt: skip
    replan(db_session, campaign_id, organisation_id)
    return milestone


def remove_milestone(
    db_session: Session,
    campaign_id: int,
    organisation_id: int | None,
    name: str,
    actor: Any,
    now: datetime,
) -> bool:
    """Remove a milestone; return whether there was one. Audited; the caller commits."""
    milestone = _found(db_session, campaign_id, organisation_id, name)
    if milestone is None:
        return False
    record(
        db_session, actor, "milestone.removed", now=now, campaign_id=campaign_id,
        organisation_id=organisation_id, target=f"milestone:{name}",
        before=milestone.day.isoformat(),
    )  # fmt: skip
    db_session.delete(milestone)
    replan(db_session, campaign_id, organisation_id)
    return True


def replan(db_session: Session, campaign_id: int, organisation_id: int | None) -> None:
    """Have the next drip run look again at the participants a milestone concerns (the
    member's, or the whole campaign's): a step counting from it may come sooner now."""
    statement = update(Participant).where(Participant.campaign_id == campaign_id)
    if organisation_id is not None:
        statement = statement.where(Participant.organisation_id == organisation_id)
    db_session.execute(
        statement.values(next_step_at=None).execution_options(synchronize_session=False)
    )


def dates_for(db_session: Session, whose: Iterable[Whose]) -> dict[Whose, dict[str, date]]:
    """Return, for each (campaign, member), the milestone dates that hold for its participants:
    the campaign's, each overridden by the member's own of the same name."""
    wanted = set(whose)
    found: dict[Whose, dict[str, date]] = {pair: {} for pair in wanted}
    campaigns = {campaign_id for campaign_id, _ in wanted}
    rows = db_session.scalars(
        select(Milestone)
        .where(Milestone.campaign_id.in_(campaigns))
        .order_by(Milestone.organisation_id.is_not(None))  # the members' own last: they win
    )
    for row in rows:
        for pair, dates in found.items():
            if pair[0] == row.campaign_id and row.organisation_id in (None, pair[1]):
                dates[row.name] = row.day
    return found
