"""A campaign's phase, computed in one place from its dates and its archive mark, and what each
phase lets participants be sent.

preparing  before its first day: enrolment and planning work; participants get no mail, except
           meeting invitations when the campaign allows them before the start;
running    from its first day to its last, both whole days in the campaign's own time zone;
ended      from the day after its last day: participants get no more mail (staff mail goes);
archived   ended and archived by the lead administrator: read-only (`archive`, `reopen`);
purged     its participants' personal data erased once its retention ran out
           (campaign/retention/): read-only too, whether it was archived or not.
"""

from __future__ import annotations

import enum
import functools
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.audit import record
from campaign.network.models import Campaign
from campaign.timing import local_instant


class Phase(enum.Enum):
    PREPARING = "preparing"
    RUNNING = "running"
    ENDED = "ended"
    ARCHIVED = "archived"
    PURGED = "purged"

    @property
    def is_over(self) -> bool:
        """Whether the campaign's period is over: no participant mail at all."""
        return self in AFTER_END

    @property
    def is_read_only(self) -> bool:
        """Whether every change to the campaign is refused."""
        return self in READ_ONLY


AFTER_END = frozenset({Phase.ENDED, Phase.ARCHIVED, Phase.PURGED})
READ_ONLY = frozenset({Phase.ARCHIVED, Phase.PURGED})


class NotEnded(Exception):
    """A campaign that has not ended cannot be archived."""


def first_moment(campaign: Campaign) -> datetime:
    """Return the instant the campaign starts: midnight at the start of its first day."""
    return _midnight(campaign.starts_on, campaign.timezone)


def end_moment(campaign: Campaign) -> datetime:
    """Return the instant the campaign ends: midnight after its last day (which still runs)."""
    return _midnight(campaign.ends_on + timedelta(days=1), campaign.timezone)


@functools.lru_cache(maxsize=256)  # asked for every step of every participant a run reads
def _midnight(day: date, zone_name: str) -> datetime:
    """Return the UTC instant a day begins in the named zone."""
    return local_instant(day, time(0), ZoneInfo(zone_name))


def phase_of(campaign: Campaign, now: datetime) -> Phase:
    """Return the campaign's phase at `now`."""
    if campaign.purged_at is not None:
        return Phase.PURGED
    if campaign.archived_at is not None:
        return Phase.ARCHIVED
    if now < first_moment(campaign):
        return Phase.PREPARING
    return Phase.RUNNING if now < end_moment(campaign) else Phase.ENDED


def mails_participants(campaign: Campaign, now: datetime, *, meeting: bool = False) -> bool:
    """Whether mail to the campaign's participants may be queued and sent at `now`; `meeting`
    for the mail about a meeting (invitations, updates, reminders)."""
    phase = phase_of(campaign, now)
    early = meeting and campaign.has_early_invitations
    return phase is Phase.RUNNING or (phase is Phase.PREPARING and early)


def phases_at(db_session: Session, now: datetime) -> dict[Campaign, Phase]:
    """Return every campaign with its phase at `now` (a deployment has a handful)."""
    return {c: phase_of(c, now) for c in db_session.scalars(select(Campaign).order_by(Campaign.id))}


def mailing_campaigns(db_session: Session, now: datetime) -> set[int]:
    """Return the ids of the campaigns whose participants may be sent mail at `now`."""
    return {c.id for c in db_session.scalars(select(Campaign)) if mails_participants(c, now)}


def campaigns_in(db_session: Session, now: datetime, wanted: frozenset[Phase]) -> set[int]:
    """Return the ids of the campaigns in one of the `wanted` phases at `now`."""
    return {c.id for c, phase in phases_at(db_session, now).items() if phase in wanted}


def archive(db_session: Session, campaign: Campaign, actor: Any, now: datetime) -> None:
    """Archive an ended campaign: from now on it is read-only. Raises NotEnded before its end."""
    if phase_of(campaign, now) is not Phase.ENDED:
        raise NotEnded(campaign.slug)
    campaign.archived_at = now
    record(db_session, actor, "campaign.archived", now=now, campaign_id=campaign.id)


def reopen(db_session: Session, campaign: Campaign, actor: Any, now: datetime) -> bool:
    """Take an archived campaign out of the archive (a mistake undone); False if it was not."""
    if campaign.archived_at is None:
        return False
    archived = campaign.archived_at.isoformat()
    campaign.archived_at = None
    record(db_session, actor, "campaign.reopened", now=now, campaign_id=campaign.id, was=archived)
    return True
