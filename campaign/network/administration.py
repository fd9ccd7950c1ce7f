"""The network as staff change it: a new member, the campaign's settings, a member's facts;
each change is audited. The caller commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from campaign.audit import record
from campaign.network import members
from campaign.network.models import Campaign, Membership, MembershipStatus, OrganisationKind


def admit(
    db_session: Session,
    campaign: Campaign,
    actor: Any,
    *,
    name: str,
    short_name: str,
    slug: str,
    kind: OrganisationKind,
    status: MembershipStatus,
    now: datetime,
    **facts: Any,
) -> Membership:
    """Make an organisation a member of the campaign (members.add_member)."""
    membership = members.add_member(
        db_session, campaign, name=name, short_name=short_name, slug=slug, kind=kind,
        status=status, now=now, **facts,
    )  # fmt: skip
    record(
        db_session, actor, "member.added", now=now, campaign_id=campaign.id,
        organisation_id=membership.organisation_id, target=slug,
    )  # fmt: skip
    return membership


PERIOD = ("starts_on", "ends_on")


def change_campaign(
    db_session: Session, campaign: Campaign, changes: dict[str, Any], actor: Any, now: datetime
) -> list[str]:
    """Apply the campaign's new settings; return the names of those that changed. A new period
    is audited with the old and the new dates."""
    before = period_of(campaign)
    changed = members.apply_changes(campaign, changes, now)
    if changed:
        record(
            db_session, actor, "campaign.settings_changed", now=now, campaign_id=campaign.id,
            fields=changed,
        )  # fmt: skip
    if set(changed) & set(PERIOD):
        after = period_of(campaign)
        record(
            db_session, actor, "campaign.period_changed", now=now, campaign_id=campaign.id,
            old=before, new=after,
        )  # fmt: skip
    return changed


def period_of(campaign: Campaign) -> dict[str, str]:
    """Return the campaign's first and last day, as the audit keeps them."""
    return {name: getattr(campaign, name).isoformat() for name in PERIOD}


def change_facts(
    db_session: Session,
    membership: Membership,
    changes: dict[str, Any],
    actor: Any,
    now: datetime,
) -> list[str]:
    """Apply a member's new facts (and status); return the names of those that changed."""
    changed = members.apply_changes(membership, changes, now)
    if changed:
        organisation = membership.organisation
        record(
            db_session, actor, "member.facts_changed", now=now,
            campaign_id=membership.campaign_id, organisation_id=organisation.id,
            target=organisation.slug, fields=changed,
        )  # fmt: skip
    return changed
