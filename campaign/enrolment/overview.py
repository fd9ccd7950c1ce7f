"""The members as the lead administrator's overview and each member's page show them.

Each member with the counts of its enrolment (enabled representatives, pilot groups,
participants), and its representatives by name. The network's own rooms (campaign/network/)
know nothing of accounts or participants; this module, above them, counts them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, func, select
from sqlalchemy.orm import QueryableAttribute, Session

from campaign.accounts.models import User
from campaign.accounts.scope import representing
from campaign.enrolment.models import Participant, PilotGroup
from campaign.network.members import KIND_ORDER, swedish_sort_key
from campaign.network.models import Campaign, Membership, Organisation


@dataclass(frozen=True)
class MemberRow:
    """A member of the campaign with the counts of its enrolment."""

    membership: Membership
    organisation: Organisation
    representatives: int
    pilot_groups: int
    participants: int


def member_rows(
    db_session: Session, campaign: Campaign, organisation_id: int | None = None
) -> list[MemberRow]:
    """Return each member with its counts, in the report's order: by kind, then name."""
    statement = _counted_members(campaign)
    if organisation_id is not None:
        statement = statement.where(Organisation.id == organisation_id)
    rows = [MemberRow(*row) for row in db_session.execute(statement)]
    return sorted(rows, key=_report_order)


def _report_order(row: MemberRow) -> tuple[int, Any]:
    """Sort by the organisation's kind, then its name in Swedish order."""
    return KIND_ORDER.index(row.organisation.kind), swedish_sort_key(row.organisation)


def _counted_members(campaign: Campaign) -> Select[Membership, Organisation, Any, Any, Any]:
    """A query of the campaign's members with their representatives, groups and participants."""
    reps = _count_by_organisation(
        User.organisation_id, representing(campaign), User.is_enabled.is_(True)
    )
    groups = _count_by_organisation(
        PilotGroup.organisation_id, PilotGroup.campaign_id == campaign.id
    )
    people = _count_by_organisation(
        Participant.organisation_id, Participant.campaign_id == campaign.id
    )
    return (
        select(
            Membership,
            Organisation,
            func.coalesce(reps.c.n, 0),
            func.coalesce(groups.c.n, 0),
            func.coalesce(people.c.n, 0),
        )
        .join(Organisation, Membership.organisation_id == Organisation.id)
        .outerjoin(reps, reps.c.organisation_id == Organisation.id)
        .outerjoin(groups, groups.c.organisation_id == Organisation.id)
        .outerjoin(people, people.c.organisation_id == Organisation.id)
        .where(Membership.campaign_id == campaign.id)
    )


def _count_by_organisation(
    organisation_id: QueryableAttribute[Any], *conditions: ColumnElement[bool]
) -> Subquery:
    """A subquery of (organisation_id, n): the rows matching `conditions` per organisation."""
    return (
        select(organisation_id.label("organisation_id"), func.count().label("n"))
        .where(*conditions)
        .group_by(organisation_id)
        .subquery()
    )


def representatives(
    db_session: Session, organisation: Organisation, campaign: Campaign
) -> list[User]:
    """Return the member's representatives in the campaign by name."""
    return list(
        db_session.scalars(
            select(User)
            .where(User.organisation_id == organisation.id, representing(campaign))
            .order_by(User.name)
        )
    )
