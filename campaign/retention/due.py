"""What the `retention` job does at `now`: warn the lead administrators of a purge 30 days
ahead, once per purge date, purge each campaign whose purge has come due, and drop the records
of routine traffic past their time (traffic.py).

The database says what is due (campaign/network/retention.py works out the moments), so a run
at any moment, and a run again, does what is due and nothing more.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.accounts import roles
from campaign.accounts.models import User
from campaign.audit import record
from campaign.enrolment.models import JoinRequest, Participant, ParticipantStatus
from campaign.network.models import Campaign
from campaign.network.retention import (
    is_warned,
    long_date,
    purge_day,
    purge_due_at,
    warning_due_at,
)
from campaign.outbox.mail import Recipient, mail_settings, queue_staff_mail
from campaign.outbox.models import MessageKind
from campaign.outbox.texts import greeting
from campaign.outbox.wording import campaign_letter
from campaign.retention.purge import purge
from campaign.retention.traffic import forget_old_traffic


def run_due(db_session: Session, now: datetime) -> dict[str, int]:
    """Warn and purge what is due at `now`, and drop old traffic; return how many campaigns
    were warned and purged, and how many rows of traffic were dropped."""
    warned = purged = 0
    for campaign in db_session.scalars(select(Campaign).where(Campaign.purged_at.is_(None))):
        if not is_warned(campaign) and now >= warning_due_at(campaign):
            warn(db_session, campaign, now)
            warned += 1
        due = purge_due_at(campaign)
        if due is not None and now >= due:
            purge(db_session, campaign, now)
            purged += 1
    return {"warned": warned, "purged": purged, **forget_old_traffic(db_session, now)}


def lead_admins(db_session: Session, campaign: Campaign) -> list[User]:
    """The campaign's lead administrators whose accounts work."""
    return [user for user in roles.lead_admins(db_session, campaign) if user.is_enabled]


def warn(db_session: Session, campaign: Campaign, now: datetime) -> int:
    """Note that the purge is announced at `now` and mail each lead administrator the day
    their data is kept until, in their language; return how many were mailed.

    A campaign that holds nobody's data has nothing to warn of: no mail, the dashboard's notice
    only (a test or demo campaign long over, say).
    """
    campaign.retention_warned_at = now
    day = purge_day(campaign)
    readers = lead_admins(db_session, campaign) if _holds_people(db_session, campaign.id) else []
    mailed = [_mail(db_session, campaign, user, now) for user in readers]
    record(
        db_session, None, "campaign.purge_announced", now=now, target=f"campaign:{campaign.slug}",
        campaign_id=campaign.id, kept_until=day.isoformat(), mailed=len(mailed),
    )  # fmt: skip
    return len(mailed)


def _holds_people(db_session: Session, campaign_id: int) -> bool:
    """Whether the campaign holds anybody's personal data: a participant who is not erased, or
    a self-enrolment request."""
    person = select(Participant.id).where(
        Participant.campaign_id == campaign_id, Participant.status != ParticipantStatus.ERASED
    )
    wish = select(JoinRequest.id).where(JoinRequest.campaign_id == campaign_id)
    return any(db_session.scalar(query.limit(1)) is not None for query in (person, wish))


def _mail(db_session: Session, campaign: Campaign, user: User, now: datetime) -> int | None:
    """Queue the warning to one lead administrator (once per purge date)."""
    day = purge_day(campaign)
    context = {
        "greeting": greeting(user.name, user.language),
        "campaign": campaign.name,
        "ended": long_date(campaign.ends_on, user.language),
        "date": long_date(day, user.language),
        "link": mail_settings().base_url,
    }
    return queue_staff_mail(
        db_session,
        Recipient.of(user, campaign.id),
        campaign_letter(db_session, campaign.id, "purge-warning", user.language),
        context,
        kind=MessageKind.NOTICE,
        source_key=f"notice:purge:{campaign.id}:{day.isoformat()}:{user.id}",
        due_at=now,
        now=now,
    )
