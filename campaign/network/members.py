"""Reading and changing the network: the current campaign, its members and their facts."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.accounts.models import Role, User
from campaign.enrolment.models import Participant, PilotGroup
from campaign.network.models import (
    Campaign,
    Membership,
    MembershipStatus,
    Organisation,
    OrganisationKind,
)

KIND_ORDER = [
    OrganisationKind.MUNICIPALITY,
    OrganisationKind.UNIVERSITY,
    OrganisationKind.HOSPITAL,
    OrganisationKind.OTHER,
]


@dataclass(frozen=True)
class MemberRow:
    membership: Membership
    organisation: Organisation
    representatives: int
    pilot_groups: int
    participants: int


def current_campaign(db_session: Session) -> Campaign | None:
    """Return the campaign this deployment runs: the one that started last."""
    return db_session.scalar(select(Campaign).order_by(Campaign.starts_on.desc(), Campaign.id))


def campaign_or_404() -> Campaign:
    """For a view: the campaign this deployment runs, or a 404 answer if there is none yet."""
    from flask import abort

    from campaign import db

    campaign = current_campaign(db.session())
    if campaign is None:
        abort(404)
    return campaign


def member_rows(
    db_session: Session, campaign: Campaign, organisation_id: int | None = None
) -> list[MemberRow]:
    """Return each member with its counts, in the report's order: by kind, then name."""
    reps = (
        select(User.organisation_id, func.count().label("n"))
        .where(User.role == Role.MEMBER_REP, User.is_enabled.is_(True))
        .group_by(User.organisation_id)
        .subquery()
    )
    groups = (
        select(PilotGroup.organisation_id, func.count().label("n"))
        .where(PilotGroup.campaign_id == campaign.id)
        .group_by(PilotGroup.organisation_id)
        .subquery()
    )
    people = (
        select(Participant.organisation_id, func.count().label("n"))
        .where(Participant.campaign_id == campaign.id)
        .group_by(Participant.organisation_id)
        .subquery()
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


def swedish_sort_key(organisation: Organisation) -> str:
    # Swedish alphabetical order puts å, ä, ö after z.
    table = str.maketrans({"å": "{", "ä": "|", "ö": "}", "Å": "{", "Ä": "|", "Ö": "}"})
    return organisation.short_name.translate(table).lower()


def membership_of(
    db_session: Session, campaign: Campaign, organisation: Organisation
) -> Membership:
    """Return the organisation's membership of the campaign."""
    return db_session.scalars(
        select(Membership).where(
            Membership.campaign_id == campaign.id, Membership.organisation_id == organisation.id
        )
    ).one()


def representatives(db_session: Session, organisation: Organisation) -> list[User]:
    """Return the organisation's representatives by name."""
    return list(
        db_session.scalars(
            select(User)
            .where(User.organisation_id == organisation.id, User.role == Role.MEMBER_REP)
            .order_by(User.name)
        )
    )


def apply_changes(row: Membership | Campaign, changes: dict[str, Any], now: datetime) -> list[str]:
    """Apply the given field values to a row; return the names of the fields that changed."""
    changed = [name for name, value in changes.items() if getattr(row, name) != value]
    for name in changed:
        setattr(row, name, changes[name])
    if changed and isinstance(row, Membership):
        row.updated_at = now
    return changed


def slugify(text: str) -> str:
    """Return an ASCII URL slug: 'Lilla Edets kommun' -> 'lilla-edets-kommun'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def add_member(
    db_session: Session,
    campaign: Campaign,
    *,
    name: str,
    short_name: str,
    kind: OrganisationKind,
    status: MembershipStatus,
    slug: str = "",
    now: datetime,
    **facts: Any,
) -> Membership:
    """Add an organisation (new, or known by slug) to the campaign; the caller commits."""
    slug = slug or slugify(short_name or name)
    organisation = db_session.scalar(select(Organisation).where(Organisation.slug == slug))
    if organisation is None:
        organisation = Organisation(
            slug=slug, name=name, short_name=short_name or name, kind=kind, created_at=now
        )
        db_session.add(organisation)
    membership = Membership(
        campaign=campaign,
        organisation=organisation,
        status=status,
        created_at=now,
        updated_at=now,
        **facts,
    )
    db_session.add(membership)
    db_session.flush()
    return membership
