"""Reading and changing the network: the request's campaign, its members and their facts."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any

from flask import abort, g
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


def campaign_or_404() -> Campaign:
    """For a view: the campaign named in the URL (accounts.scope has checked that the user has
    a part in it), or a 404 answer outside a campaign's pages."""
    campaign: Campaign | None = g.get("campaign")
    if campaign is None:
        abort(404)
    return campaign


def campaigns(db_session: Session) -> list[Campaign]:
    """Return every campaign, by slug."""
    return list(db_session.scalars(select(Campaign).order_by(Campaign.slug)))


def campaign_with_slug(db_session: Session, slug: str) -> Campaign | None:
    """Return the campaign with this slug, if there is one."""
    return db_session.scalar(select(Campaign).where(Campaign.slug == slug))


def organisations_named(db_session: Session, text: str) -> list[Organisation]:
    """Return the organisations whose name, short name or slug is `text` (in any case), or
    whose slug is the one `text` makes."""
    keys = {text.strip().casefold(), slugify(text)}
    every = db_session.scalars(select(Organisation).order_by(Organisation.slug))
    return [o for o in every if keys & {o.name.casefold(), o.short_name.casefold(), o.slug}]


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
