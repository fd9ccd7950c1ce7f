"""Reading and changing the network: the current campaign, its members and their facts."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

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


# The campaign this deployment runs: the one that started last.
CURRENT = select(Campaign).order_by(Campaign.starts_on.desc(), Campaign.id)


def current_campaign(db_session: Session) -> Campaign | None:
    """Return the campaign this deployment runs: the one that started last."""
    return db_session.scalar(CURRENT)


def campaign_or_404() -> Campaign:
    """For a view: the campaign this deployment runs, or a 404 answer if there is none yet."""
    from campaign import db

    return db.first_or_404(CURRENT)


def swedish_sort_key(organisation: Organisation) -> str:
    """Return the key that sorts organisations by short name in Swedish order (å, ä, ö after z)."""
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
    text = re.sub(r"[\u2010-\u2015\u2212]", "-", text)  # dashes (2026–2027) part words too
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
