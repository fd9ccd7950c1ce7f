"""The demo network: the real 2013-2015 agreement of seed 004, loaded from demo.yaml."""

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

DEMO_FILE = Path(__file__).with_name("demo.yaml")
DEMO_SLUG = "resfria-moten"  # the campaign slug in demo.yaml

# (e-mail, name, role, organisation slug): one lead administrator and one representative.
DEMO_ACCOUNTS = (
    ("lead@demo.example", "Lena Lindgren", Role.LEAD_ADMIN.value, "kungalv"),
    ("rep@demo.example", "Rasmus Berg", Role.MEMBER_REP.value, "ale"),
)


def read_demo() -> dict[str, Any]:
    """Return the demo network as written in demo.yaml."""
    with DEMO_FILE.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def load_demo(db_session: Session, passwords: dict[str, str], now: datetime) -> str:
    """Create the demo campaign if missing and (re)set the demo accounts; return a summary."""
    data = read_demo()
    campaign = db_session.scalar(select(Campaign).where(Campaign.slug == data["campaign"]["slug"]))
    created = campaign is None
    if campaign is None:
        campaign = _create_campaign(db_session, data, now)
    for email, name, role, org_slug in DEMO_ACCOUNTS:
        _set_account(db_session, email, name, Role(role), org_slug, passwords[email], now)
    count = len(data["organisations"])
    verb = "Loaded" if created else "Kept"
    return f"{verb} the demo campaign {campaign.name!r} with {count} members."


def _create_campaign(db_session: Session, data: dict[str, Any], now: datetime) -> Campaign:
    spec = data["campaign"]
    by_slug = {o["slug"]: o for o in data["organisations"]}
    lead = by_slug[spec["lead"]]
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
        add_member(
            db_session,
            campaign,
            slug=spec_org["slug"],
            name=spec_org["name"],
            short_name=spec_org["short_name"],
            kind=OrganisationKind(spec_org["kind"]),
            status=MembershipStatus(spec_org["status"]),
            now=now,
            **_facts(spec_org),
        )
    return campaign


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


def simulate_pilot(
    db_session: Session, campaign: Campaign, *, per_member: int = 40, seed: int = 2014
) -> int:
    """Fill the demo campaign with a pilot that has run: pilot users, delivered mail, one
    training per member with attendance, and follow-up answers. Returns the pilot users added.

    Names and addresses are invented (example.org addresses, which RFC 2606 keeps for this);
    the run is the same for the same seed, so reports made from it can be compared.
    """
    import random
    from datetime import UTC, timedelta

    from sqlalchemy import insert

    from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup, PilotGroupKind
    from campaign.events.models import Audience, Event, EventKind, Invitation, Rsvp
    from campaign.outbox.models import Message, MessageKind, MessageState
    from campaign.surveys import service
    from campaign.surveys.models import Response

    rng = random.Random(seed)
    start = datetime(2014, 3, 3, 8, 0, tzinfo=UTC)
    follow_up = next(
        q for q in service.questionnaires_of(db_session, campaign, start) if q.slug == "follow-up"
    )
    added = 0
    for membership in sorted(campaign.memberships, key=lambda m: m.organisation.slug):
        org = membership.organisation
        group = PilotGroup(
            campaign_id=campaign.id,
            organisation_id=org.id,
            name="Provgruppen",
            kind=rng.choice(list(PilotGroupKind)),
            starts_on=start.date(),
            sequence_name="pilot-group",
            created_at=start,
        )
        training = Event(
            campaign_id=campaign.id, organisation_id=org.id, kind=EventKind.TRAINING,
            audience=Audience.ORGANISATION, title="Utbildning i webbmöten",
            starts_at=start + timedelta(days=14), ends_at=start + timedelta(days=14, hours=2),
            timezone=campaign.timezone, uid=f"demo-training-{org.slug}@example.org",
            sequence=0, created_at=start, updated_at=start,
        )  # fmt: skip
        db_session.add_all([group, training])
        db_session.flush()
        count = rng.randint(per_member // 2, per_member)
        people = [
            {
                "campaign_id": campaign.id,
                "organisation_id": org.id,
                "pilot_group_id": group.id,
                "email": f"pilot{n}@{org.slug}.example.org",
                "name": f"Pilot {n}",
                "title": "",
                "language": "sv",
                "status": ParticipantStatus.ACTIVE,
                "starts_on": start.date(),
                "created_at": start,
                "updated_at": start,
            }  # fmt: skip
            for n in range(count)
        ]
        db_session.execute(insert(Participant), people)
        ids = list(
            db_session.scalars(select(Participant.id).where(Participant.pilot_group_id == group.id))
        )
        db_session.execute(
            insert(Message),
            [
                {
                    "source_key": f"demo:{pid}:{step}",
                    "campaign_id": campaign.id,
                    "organisation_id": org.id,
                    "participant_id": pid,
                    "recipient": f"pilot{pid}@{org.slug}.example.org",
                    "kind": MessageKind.SEQUENCE_STEP,
                    "subject": f"Steg {step}",
                    "text_body": "",
                    "html_body": "",
                    "headers": {},
                    "message_id": f"<demo.{pid}.{step}@example.org>",
                    "due_at": start + timedelta(weeks=4 * step),
                    "state": MessageState.SENT,
                    "sent_at": start + timedelta(weeks=4 * step),
                    "attempts": 1,
                    "created_at": start + timedelta(weeks=4 * step),
                }  # fmt: skip
                for pid in ids
                for step in range(1, 7)
            ],
        )
        db_session.execute(
            insert(Invitation),
            [
                {
                    "event_id": training.id,
                    "participant_id": pid,
                    "rsvp": Rsvp.ACCEPTED,
                    "has_attended": rng.random() < 0.6,
                    "created_at": start,
                }  # fmt: skip
                for pid in ids
            ],
        )
        answered_at = start + timedelta(weeks=27)
        db_session.execute(
            insert(Response),
            [
                {
                    "questionnaire_id": follow_up.id,
                    "participant_id": pid,
                    "organisation_id": org.id,
                    "submitted_at": answered_at,
                    "updated_at": answered_at,
                    "answers": {
                        "trips_replaced": rng.randint(0, 12),
                        "km_avoided": rng.randint(0, 1200),
                        "hours_saved": rng.randint(0, 30),
                        "satisfaction": rng.randint(2, 5),
                    },
                }  # fmt: skip
                for pid in ids
                if rng.random() < 0.7
            ],
        )
        added += count
    return added
