"""The members as the lead administrator's overview and each member's page show them.

Each member with the counts of its enrolment (enabled representatives, pilot groups,
participants), and its representatives by name. The network's own rooms (campaign/network/)
know nothing of accounts or participants; this module, above them, counts them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Subquery, func, select
from sqlalchemy.orm import QueryableAttribute, Session

from campaign.accounts.models import Role, User
from campaign.enrolment.models import Participant, PilotGroup
from campaign.network.members import KIND_ORDER, swedish_sort_key
from campaign.network.models import Campaign, Membership, Organisation


@dataclass(frozen=True)
class MemberRow:
    membership: Membership
    organisation: Organisation
    representatives: int
    pilot_groups: int
    participants: int


def member_rows(
    db_session: Session, campaign: Campaign, organisation_id: int | None = None
) -> list[MemberRow]:
    """Return each member with its counts, in the report's order: by kind, then name."""
    reps = _count_by_organisation(
        User.organisation_id, User.role == Role.MEMBER_REP, User.is_enabled.is_(True)
    )
    groups = _count_by_organisation(
        PilotGroup.organisation_id, PilotGroup.campaign_id == campaign.id
    )
    people = _count_by_organisation(
        Participant.organisation_id, Participant.campaign_id == campaign.id
    )
    statement = (
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
    if organisation_id is not None:
        statement = statement.where(Organisation.id == organisation_id)
    rows = [MemberRow(*row) for row in db_session.execute(statement)]
    rows.sort(
        key=lambda r: (KIND_ORDER.index(r.organisation.kind), swedish_sort_key(r.organisation))
    )
    return rows


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


def representatives(db_session: Session, organisation: Organisation) -> list[User]:
    """Return the organisation's representatives by name."""
    return list(
        db_session.scalars(
            select(User)
            .where(User.organisation_id == organisation.id, User.role == Role.MEMBER_REP)
            .order_by(User.name)
        )
    )
