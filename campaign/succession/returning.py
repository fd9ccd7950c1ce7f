"""Last year's pilot users asked to join the next campaign, by their own new consent.

Their consent was to the old campaign only, so nobody is enrolled: each active (or completed)
participant of the old campaign gets one mail with the self-enrolment link of their pilot
group's successor (the group of the same member and name, else the member's first group) and
joins it as anyone joins through a link (campaign/enrolment/joining.py: the form with the
consent text, then the confirming mail). The mail belongs to the new campaign, is queued only
when that campaign may send (`may_invite`), and once per address and campaign. The caller
commits.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from babel.dates import format_date
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.audit import record
from campaign.enrolment import joining
from campaign.enrolment.mail import member_sender
from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup
from campaign.network import phases
from campaign.network.models import Campaign
from campaign.outbox.mail import Recipient, mail_settings, queue_staff_mail
from campaign.outbox.models import MessageKind
from campaign.outbox.texts import greeting
from campaign.outbox.wording import campaign_letter
from campaign.security import keyed_hash

RETURNING = (ParticipantStatus.ACTIVE, ParticipantStatus.COMPLETED)
Successors = dict[tuple[int, str | None], PilotGroup]


def may_invite(campaign: Campaign, now: datetime) -> bool:
    """Whether mail inviting people into `campaign` may be queued at `now`: while it prepares or
    runs (self-enrolment is open before the start too), not once it has ended."""
    return phases.phase_of(campaign, now) in (phases.Phase.PREPARING, phases.Phase.RUNNING)


def invite_returning(
    db_session: Session, old: Campaign, new: Campaign, actor: Any, now: datetime
) -> int:
    """Queue the invitation to each returning participant of `old` whose member has a pilot
    group in `new`; return how many were queued (0 when `new` may not send now)."""
    if not may_invite(new, now):
        return 0
    successors = _successors(db_session, new)
    queued = sum(
        _invite(db_session, person, group, old, new, now)
        for person in _returning(db_session, old)
        if (group := _successor(person, successors)) is not None
    )
    record(db_session, actor, "campaign.returning_invited", now=now, target=new.slug,
           source=old.slug, queued=queued, campaign_id=new.id)  # fmt: skip
    return queued


def _returning(db_session: Session, old: Campaign) -> list[Participant]:
    """Return the old campaign's participants who took part to the end or still do."""
    return list(
        db_session.scalars(
            select(Participant)
            .where(Participant.campaign_id == old.id, Participant.status.in_(RETURNING))
            .order_by(Participant.id)
        )
    )


def _successors(db_session: Session, new: Campaign) -> Successors:
    """The new campaign's groups by (member, name), and each member's first by (member, None)."""
    groups = db_session.scalars(
        select(PilotGroup).where(PilotGroup.campaign_id == new.id).order_by(PilotGroup.name)
    )
    found: Successors = {}
    for group in groups:
        found[(group.organisation_id, group.name)] = group
        found.setdefault((group.organisation_id, None), group)
    return found


def _successor(person: Participant, successors: Successors) -> PilotGroup | None:
    """Return the group the person is asked to join: their own group's successor, if any."""
    name = person.pilot_group.name if person.pilot_group else None
    own = successors.get((person.organisation_id, name))
    return own or successors.get((person.organisation_id, None))


def _invite(
    db_session: Session,
    person: Participant,
    group: PilotGroup,
    old: Campaign,
    new: Campaign,
    now: datetime,
) -> bool:
    """Queue the person's invitation, opening the group's link if it is closed; False when it
    was queued before."""
    if not group.enrolment_key:
        joining.open_link(group)
    language = person.language
    sender = member_sender(db_session, new.id, group.organisation_id)
    recipient = Recipient(person.email, language, group.organisation_id, new.id, sender=sender)
    return (
        queue_staff_mail(
            db_session,
            recipient,
            campaign_letter(db_session, new.id, "returning", language),
            _context(person, group, old, new),
            kind=MessageKind.CONFIRMATION,
            source_key=_key(new, person),
            due_at=now,
            now=now,
        )  # fmt: skip
        is not None
    )


def _context(
    person: Participant, group: PilotGroup, old: Campaign, new: Campaign
) -> dict[str, Any]:
    link = mail_settings().link(f"/join/{joining.link_token(group)}")
    return {
        "greeting": greeting(person.name, person.language),
        "organisation": group.organisation.name, "group": group.name,
        "previous": old.name, "campaign": new.name, "link": link,
        "starts": _day(new.starts_on, person.language), "ends": _day(new.ends_on, person.language),
    }  # fmt: skip


def _day(day: date, language: str) -> str:
    """Return a day as the language writes it in a sentence: '1 april 2026'."""
    return format_date(day, "long", locale=language)


def _key(new: Campaign, person: Participant) -> str:
    """The invitation's source key: once per campaign and address (by a keyed hash)."""
    return f"returning:{new.id}:{keyed_hash('returning-mail', person.email)[:32]}"
