"""How long a campaign keeps personal data, and when it is warned of and purged.

The data is kept through the *purge date*, the campaign's end date plus its retention months
(31 March 2015 + 12 months: through 31 March 2016), and purged once that day has passed in the
campaign's time zone. The lead administrators are warned 30 days before. A purge never comes
sooner than 30 days after its warning, even when the lead administrator shortens the retention
later, or the database first meets a campaign long over: nobody loses data unwarned. The purge
itself is in campaign/retention/.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.network.models import Campaign
from campaign.timing import local_date, local_instant

WARNING_DAYS = 30


def add_months(day: date, months: int) -> date:
    """Return the same day `months` later, or the month's last day if it has none (31 Aug + 6
    months is 28 or 29 February)."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def kept_until(campaign: Campaign) -> date:
    """The purge date: the last day personal data is kept (end date + retention months)."""
    return add_months(campaign.ends_on, campaign.retention_months)


def _start_of(day: date, campaign: Campaign) -> datetime:
    """Return the instant the day begins in the campaign's time zone."""
    return local_instant(day, time(0), ZoneInfo(campaign.timezone))


def warning_due_at(campaign: Campaign) -> datetime:
    """The moment the lead administrators are to be warned: 30 days before the purge."""
    return _start_of(kept_until(campaign) + timedelta(days=1 - WARNING_DAYS), campaign)


def is_warned(campaign: Campaign) -> bool:
    """Whether the lead administrators were warned of the purge date as it now stands (a
    warning given before the retention was lengthened does not count)."""
    warned = campaign.retention_warned_at
    return warned is not None and warned >= warning_due_at(campaign)


def purge_day(campaign: Campaign) -> date:
    """The last day personal data is kept: the purge date, or 30 days after a late warning."""
    planned = kept_until(campaign)
    if not is_warned(campaign) or campaign.retention_warned_at is None:
        return planned
    warned_on = local_date(campaign.retention_warned_at, campaign.timezone)
    return max(planned, warned_on + timedelta(days=WARNING_DAYS - 1))


def purge_due_at(campaign: Campaign) -> datetime | None:
    """When the purge is due (the day after purge_day begins); None until warned."""
    if not is_warned(campaign):
        return None
    return _start_of(purge_day(campaign) + timedelta(days=1), campaign)


def is_purged(db_session: Session, campaign_id: int) -> bool:
    """Whether the campaign's personal data has been purged."""
    query = select(Campaign.purged_at).where(Campaign.id == campaign_id)
    return db_session.scalar(query) is not None


def long_date(day: date, language: str) -> str:
    """Return a day as `language` writes it in prose: '31 mars 2016', 'March 31, 2016'."""
    return format_date(day, "long", locale=language)


@dataclass(frozen=True)
class Notice:
    """What staff are told of the purge: coming (the last day kept) or done (when)."""

    day: date
    is_done: bool


def status(campaign: Campaign) -> Notice:
    """The purge as staff are told of it: the last day data is kept, or the day it was purged."""
    if campaign.purged_at is not None:
        return Notice(local_date(campaign.purged_at, campaign.timezone), is_done=True)
    return Notice(purge_day(campaign), is_done=False)


def notice(campaign: Campaign, now: datetime) -> Notice | None:
    """The purge as the dashboard tells it: from the warning's moment on, and once done."""
    warning = campaign.purged_at is not None or is_warned(campaign)
    return status(campaign) if warning or now >= warning_due_at(campaign) else None
