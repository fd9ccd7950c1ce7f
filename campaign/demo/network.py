"""The demo network: the real 2013-2015 agreement of seed 004, loaded from network.yaml."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.accounts.models import Role, User
from campaign.network.members import add_member
from campaign.network.models import (
    Campaign,
    MembershipStatus,
    Organisation,
    OrganisationKind,
)

DEMO_FILE = Path(__file__).with_name("network.yaml")
DEMO_SLUG = "resfria-moten"  # the campaign slug in network.yaml

# (e-mail, name, role, organisation slug): one lead administrator and one representative.
DEMO_ACCOUNTS = (
    ("lead@demo.example", "Lena Lindgren", Role.LEAD_ADMIN.value, "kungalv"),
    ("rep@demo.example", "Rasmus Berg", Role.MEMBER_REP.value, "ale"),
)


def read_demo() -> dict[str, Any]:
    """Return the demo network as written in network.yaml."""
    with DEMO_FILE.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def load_demo(db_session: Session, passwords: dict[str, str], now: datetime) -> str:
    """Create the demo campaign if missing and (re)set the demo accounts; return a summary."""
    data = read_demo()
    campaign = db_session.scalar(select(Campaign).where(Campaign.slug == data["campaign"]["slug"]))
    created = campaign is None
    if campaign is None:
        campaign = create_campaign(db_session, data, now)
    for email, name, role, org_slug in DEMO_ACCOUNTS:
        _set_account(db_session, email, name, Role(role), org_slug, passwords[email], now)
    count = len(data["organisations"])
    verb = "Loaded" if created else "Kept"
    return f"{verb} the demo campaign {campaign.name!r} with {count} members."


def create_campaign(db_session: Session, data: dict[str, Any], now: datetime) -> Campaign:
    """Create the campaign written in `data` (as network.yaml writes it) with its members."""
    spec = data["campaign"]
    lead = next(o for o in data["organisations"] if o["slug"] == spec["lead"])
    campaign = Campaign(
        slug=spec["slug"],
        name=spec["name"],
        starts_on=spec["starts_on"],
        ends_on=spec["ends_on"],
        timezone=spec["timezone"],
        language=spec["language"],
        lead_organisation=_organisation(db_session, lead, now),
        created_at=now,
    )
    db_session.add(campaign)
    for spec_org in data["organisations"]:
        _add_member(db_session, campaign, spec_org, now)
    return campaign


def _add_member(
    db_session: Session, campaign: Campaign, spec: dict[str, Any], now: datetime
) -> None:
    add_member(
        db_session,
        campaign,
        slug=spec["slug"],
        name=spec["name"],
        short_name=spec["short_name"],
        kind=OrganisationKind(spec["kind"]),
        status=MembershipStatus(spec["status"]),
        now=now,
        **_facts(spec),
    )


def _organisation(db_session: Session, spec: dict[str, Any], now: datetime) -> Organisation:
    organisation = db_session.scalar(select(Organisation).where(Organisation.slug == spec["slug"]))
    if organisation is None:
        organisation = Organisation(
            slug=spec["slug"],
            name=spec["name"],
            short_name=spec["short_name"],
            kind=OrganisationKind(spec["kind"]),
            created_at=now,
        )
        db_session.add(organisation)
        db_session.flush()
    return organisation


def _facts(spec: dict[str, Any]) -> dict[str, Any]:
    tips = "\n".join(f"- {tip}" for tip in spec.get("tips", []))
    return {
        "meeting_software": spec.get("meeting_software", ""),
        "software_comment": spec.get("software_comment", ""),
        "starting_point_md": (spec.get("starting_point") or "").strip(),
        "work_done_md": (spec.get("work_done") or "").strip(),
        "tips_md": tips,
        "contact_name": spec.get("contact_name", ""),
        "contact_title": spec.get("contact_title", ""),
    }


def _set_account(
    db_session: Session,
    email: str,
    name: str,
    role: Role,
    org_slug: str,
    password: str,
    now: datetime,
) -> None:
    organisation = db_session.scalar(select(Organisation).where(Organisation.slug == org_slug))
    user = db_session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, name=name, role=role, created_at=now)
        db_session.add(user)
    user.organisation = organisation
    user.set_password(password)  # a demo loaded again ends the sessions of the one before
    user.is_enabled = True
