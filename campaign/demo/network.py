"""The demo network: the real agreement of seed 004, loaded from network.yaml.

Its 20 members keep their facts. By default the campaign runs now: it started some weeks
before the clock's `now` and ends about two years later (`living_period`). With `historic`
it keeps the agreement's own period, 2013-2015, to reproduce the final report of 2015.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

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
LIVING_NAME = "Resfria möten – Smart Energi"  # the running campaign's (no years in it)
STARTED_WEEKS_AGO = 6  # the running campaign started on the Monday this many weeks back
RUNS_FOR = timedelta(days=2 * 365)  # and ends about two years after its start

# (e-mail, name, role, organisation slug): one lead administrator and one representative.
DEMO_ACCOUNTS = (
    ("lead@demo.example", "Lena Lindgren", Role.LEAD_ADMIN.value, "kungalv"),
    ("rep@demo.example", "Rasmus Berg", Role.MEMBER_REP.value, "ale"),
)


def read_demo() -> dict[str, Any]:
    """Return the demo network as written in network.yaml."""
    with DEMO_FILE.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def living_period(today: date) -> tuple[date, date]:
    """Return the running demo's first and last day, for the campaign's local `today`: from the
    Monday STARTED_WEEKS_AGO weeks back, for about two years."""
    monday = today - timedelta(days=today.weekday(), weeks=STARTED_WEEKS_AGO)
    return monday, monday + RUNS_FOR


def living_demo(now: datetime) -> dict[str, Any]:
    """Return network.yaml's campaign running at `now` (see `living_period`, on the campaign's
    local day), its members' contact persons given invented addresses."""
    data = read_demo()
    today = now.astimezone(ZoneInfo(data["campaign"]["timezone"])).date()
    starts_on, ends_on = living_period(today)
    data["campaign"].update(name=LIVING_NAME, starts_on=starts_on, ends_on=ends_on)
    for spec in data["organisations"]:
        if spec.get("contact_name"):
            spec["contact_email"] = invented_address(spec["contact_name"], spec["slug"])
    return data


def invented_address(name: str, org_slug: str) -> str:
    """Return an invented address for a person of a member, at a domain RFC 2606 keeps for
    examples (so no real person is ever mailed): `anna.berg@ale.example.org`."""
    local = ".".join(name.lower().split()).translate(ASCII)
    return f"{local}@{org_slug}.example.org"


ASCII = str.maketrans("åäöéü", "aaoeu")


def demo_campaign_of(db_session: Session) -> Campaign | None:
    """Return the demo campaign, if it is loaded."""
    return db_session.scalar(select(Campaign).where(Campaign.slug == DEMO_SLUG))


def load_demo(
    db_session: Session,
    passwords: dict[str, str],
    now: datetime,
    *,
    historic: bool = False,
) -> str:
    """Create the demo campaign if missing and (re)set the demo accounts; return a summary.

    The campaign runs around `now` (see `living_period`), or with `historic` over the
    agreement's own 2013-2015.
    """
    campaign = demo_campaign_of(db_session)
    if campaign is None:
        data = read_demo() if historic else living_demo(now)
        campaign = create_campaign(db_session, data, _created_at(data, now, historic))
        count = len(data["organisations"])
        summary = f"Loaded the demo campaign {campaign.name!r} with {count} members."
    else:
        summary = f"The demo campaign {campaign.name!r} is loaded already: kept as it is."
    for email, name, role, org_slug in DEMO_ACCOUNTS:
        _set_account(db_session, email, name, Role(role), org_slug, passwords[email], now)
    return summary


def _created_at(data: dict[str, Any], now: datetime, historic: bool) -> datetime:
    """When the demo's members were added: at the running campaign's start, if it has begun."""
    if historic:
        return now
    start = datetime.combine(data["campaign"]["starts_on"], datetime.min.time(), now.tzinfo)
    return min(start, now)


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
        "contact_email": spec.get("contact_email", ""),
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
