"""The purge date and its warning: end date + retention months, in the campaign's own days,
and never a purge sooner than 30 days after its warning."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from campaign.network.models import Campaign
from campaign.network.retention import (
    add_months,
    is_warned,
    kept_until,
    long_date,
    notice,
    purge_day,
    purge_due_at,
    warning_due_at,
)


def _campaign(ends_on: date, months: int = 12, zone: str = "Europe/Stockholm") -> Campaign:
    return Campaign(
        slug="c", name="C", starts_on=date(2014, 1, 1), ends_on=ends_on,
        retention_months=months, timezone=zone,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2015, 3, 31), 12, date(2016, 3, 31)),
        (date(2015, 8, 31), 6, date(2016, 2, 29)),  # no 31 February: the month's last day
        (date(2015, 1, 31), 1, date(2015, 2, 28)),
        (date(2015, 11, 30), 3, date(2016, 2, 29)),
        (date(2015, 12, 15), 0, date(2015, 12, 15)),
        (date(2015, 12, 15), 120, date(2025, 12, 15)),
    ],
)
def test_months_are_added_as_people_count_them(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


def test_the_moments_are_the_campaigns_local_midnights() -> None:
    campaign = _campaign(date(2015, 3, 31))
    assert kept_until(campaign) == date(2016, 3, 31)
    # 2 March 2016 00:00 in Stockholm (winter time), 30 days before 1 April 00:00 (summer time).
    assert warning_due_at(campaign) == datetime(2016, 3, 1, 23, 0, tzinfo=UTC)
    assert purge_due_at(campaign) is None  # not before the lead administrators were warned
    campaign.retention_warned_at = warning_due_at(campaign)
    assert purge_due_at(campaign) == datetime(2016, 3, 31, 22, 0, tzinfo=UTC)
    tokyo = _campaign(date(2015, 3, 31), zone="Asia/Tokyo")
    assert warning_due_at(tokyo) == datetime(2016, 3, 1, 15, 0, tzinfo=UTC)


def test_a_late_warning_moves_the_purge_thirty_days_after_it() -> None:
    campaign = _campaign(date(2015, 3, 31))
    campaign.retention_warned_at = datetime(2016, 3, 20, 10, 0, tzinfo=UTC)
    assert is_warned(campaign) and purge_day(campaign) == date(2016, 4, 18)
    assert purge_due_at(campaign) == datetime(2016, 4, 18, 22, 0, tzinfo=UTC)
    shown = notice(campaign, datetime(2016, 3, 20, 11, 0, tzinfo=UTC))
    assert shown is not None and shown.day == date(2016, 4, 18) and not shown.is_done


def test_a_longer_retention_needs_a_warning_of_its_own() -> None:
    campaign = _campaign(date(2015, 3, 31))
    campaign.retention_warned_at = datetime(2016, 3, 2, 0, 0, tzinfo=UTC)
    campaign.retention_months = 24
    assert not is_warned(campaign) and purge_due_at(campaign) is None
    assert notice(campaign, datetime(2016, 4, 1, tzinfo=UTC)) is None
    assert kept_until(campaign) == date(2017, 3, 31)


def test_the_day_is_written_as_each_language_writes_it() -> None:
    assert long_date(date(2016, 3, 31), "sv") == "31 mars 2016"
    assert long_date(date(2016, 3, 31), "en") == "March 31, 2016"
