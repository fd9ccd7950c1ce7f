"""Calendar days in several years: Swedish holidays that move (Easter, midsummer) and those that
do not (Christmas, New Year), business-day arithmetic forwards, backwards and by zero, local dates
across midnight and daylight-saving changes, times of day in Swedish and English, zone names and
plausible years. Pure functions only: no app, no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from wtforms import ValidationError

from campaign.timing import (
    Offset,
    PlausibleDay,
    add_business_days,
    clock_text,
    existing_instant,
    is_business_day,
    is_plausible_day,
    is_zone_name,
    local_date,
    parse_instant,
    swedish_holidays,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
MOVING = {  # year: (långfredagen, annandag påsk, kristi himmelsfärd, midsommarafton)
    2015: (date(2015, 4, 3), date(2015, 4, 6), date(2015, 5, 14), date(2015, 6, 19)),
    2024: (date(2024, 3, 29), date(2024, 4, 1), date(2024, 5, 9), date(2024, 6, 21)),
    2025: (date(2025, 4, 18), date(2025, 4, 21), date(2025, 5, 29), date(2025, 6, 20)),
}


@pytest.mark.parametrize("year", sorted(MOVING))
def test_easter_ascension_and_midsummer_move_with_the_year(year: int) -> None:
    names = swedish_holidays(year)
    good_friday, easter_monday, ascension, midsummer_eve = MOVING[year]
    assert names[good_friday] == "Långfredagen"
    assert names[easter_monday] == "Annandag påsk"
    assert names[ascension] == "Kristi himmelsfärdsdag"
    assert names[midsummer_eve] == "Midsommarafton"
    assert names[midsummer_eve + timedelta(days=1)] == "Midsommardagen"
    assert midsummer_eve.weekday() == 4 and not is_business_day(midsummer_eve)


@pytest.mark.parametrize("year", [2013, 2015, 2024, 2025])
def test_the_fixed_holidays_and_evenings_are_there_every_year(year: int) -> None:
    names = swedish_holidays(year)
    for month, day, name in [
        (1, 1, "Nyårsdagen"),
        (1, 6, "Trettondedag jul"),
        (5, 1, "Första maj"),
        (6, 6, "Nationaldagen"),
        (12, 24, "Julafton"),
        (12, 25, "Juldagen"),
        (12, 26, "Annandag jul"),
        (12, 31, "Nyårsafton"),
    ]:
        assert names[date(year, month, day)] == name


@pytest.mark.parametrize("year", sorted(MOVING))
def test_maundy_thursday_and_the_bridge_day_are_working_days(year: int) -> None:
    good_friday, _monday, ascension, _midsummer = MOVING[year]
    assert is_business_day(good_friday - timedelta(days=1))  # skärtorsdagen
    assert is_business_day(ascension + timedelta(days=1))  # klämdagen


def test_a_year_has_as_many_business_days_as_its_calendar_says() -> None:
    # 2015: 365 days, 104 of them weekend days, 10 holidays on weekdays: 251 business days,
    # the first on Friday 2 January and the last on Wednesday 30 December.
    days = [date(2015, 1, 1) + timedelta(n) for n in range(365)]
    assert sum(is_business_day(d) for d in days) == 251
    assert add_business_days(date(2015, 1, 2), 250) == date(2015, 12, 30)
    assert add_business_days(date(2015, 1, 2), 251) == date(2016, 1, 4)


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        (date(2015, 4, 2), 1, date(2015, 4, 7)),  # skärtorsdag, over Easter
        (date(2024, 3, 28), 1, date(2024, 4, 2)),
        (date(2025, 4, 17), 2, date(2025, 4, 23)),
        (date(2015, 6, 18), 1, date(2015, 6, 22)),  # over midsummer
        (date(2024, 6, 20), 1, date(2024, 6, 24)),
        (date(2015, 12, 23), 1, date(2015, 12, 28)),  # over Christmas
        (date(2025, 12, 23), 3, date(2026, 1, 2)),  # over Christmas and New Year
        (date(2025, 12, 23), 5, date(2026, 1, 7)),  # and over Epiphany
        (date(2024, 12, 30), 1, date(2025, 1, 2)),
    ],
)
def test_adding_business_days_skips_the_holidays_of_any_year(
    start: date, count: int, expected: date
) -> None:
    assert add_business_days(start, count) == expected


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        (date(2015, 4, 7), -1, date(2015, 4, 2)),  # back over Easter
        (date(2024, 6, 24), -1, date(2024, 6, 20)),  # back over midsummer
        (date(2025, 1, 7), -5, date(2024, 12, 23)),  # back over New Year and Christmas
    ],
)
def test_subtracting_business_days_skips_them_backwards(
    start: date, count: int, expected: date
) -> None:
    assert add_business_days(start, count) == expected


def test_zero_business_days_is_the_day_itself_or_the_next_business_day() -> None:
    assert add_business_days(date(2015, 4, 2), 0) == date(2015, 4, 2)
    assert add_business_days(date(2024, 3, 29), 0) == date(2024, 4, 2)  # Good Friday
    assert add_business_days(date(2025, 12, 24), 0) == date(2025, 12, 29)


def test_a_count_from_a_day_off_starts_at_the_business_day_in_its_direction() -> None:
    new_year = date(2025, 1, 1)
    assert add_business_days(new_year, 1) == add_business_days(date(2025, 1, 2), 1)
    assert add_business_days(new_year, -1) == add_business_days(date(2024, 12, 30), -1)


def test_every_result_is_a_business_day_and_going_back_returns_to_the_start() -> None:
    for n in range(0, 2 * 366, 3):
        day = date(2024, 1, 1) + timedelta(days=n)
        for count in (1, 2, 5, 13):
            later = add_business_days(day, count)
            assert later > day and is_business_day(later)
            if is_business_day(day):
                assert add_business_days(later, -count) == day, (day, count)


def test_offsets_count_days_weeks_and_business_days_both_ways() -> None:
    start = date(2025, 4, 17)  # skärtorsdagen
    assert Offset(3, "days").apply(start) == date(2025, 4, 20)
    assert Offset(-2, "weeks").apply(start) == date(2025, 4, 3)
    assert Offset(1, "business_days").apply(start) == date(2025, 4, 22)
    assert Offset(-1, "business_days").apply(date(2025, 4, 22)) == start
    assert Offset(0, "business_days").apply(date(2025, 4, 18)) == date(2025, 4, 22)


@pytest.mark.parametrize(
    ("instant", "zone", "day"),
    [
        (datetime(2014, 3, 3, 22, 59, tzinfo=UTC), "Europe/Stockholm", date(2014, 3, 3)),
        (datetime(2014, 3, 3, 23, 0, tzinfo=UTC), "Europe/Stockholm", date(2014, 3, 4)),
        (datetime(2014, 6, 30, 21, 59, tzinfo=UTC), "Europe/Stockholm", date(2014, 6, 30)),
        (datetime(2014, 6, 30, 22, 0, tzinfo=UTC), "Europe/Stockholm", date(2014, 7, 1)),
        (datetime(2014, 3, 29, 23, 30, tzinfo=UTC), "Europe/Stockholm", date(2014, 3, 30)),
        (datetime(2014, 10, 25, 22, 30, tzinfo=UTC), "Europe/Stockholm", date(2014, 10, 26)),
        (datetime(2014, 10, 25, 21, 59, tzinfo=UTC), "Europe/Stockholm", date(2014, 10, 25)),
        (datetime(2014, 3, 4, 3, 0, tzinfo=UTC), "America/New_York", date(2014, 3, 3)),
        (datetime(2014, 3, 3, 23, 0, tzinfo=UTC), "UTC", date(2014, 3, 3)),
    ],
)
def test_the_local_date_changes_at_local_midnight(instant: datetime, zone: str, day: date) -> None:
    assert local_date(instant, zone) == day


def test_the_local_date_of_an_instant_given_in_another_offset_is_the_same() -> None:
    instant = datetime(2014, 3, 4, 0, 30, tzinfo=ZoneInfo("Europe/Helsinki"))  # 23.30 in Sweden
    assert local_date(instant, "Europe/Stockholm") == date(2014, 3, 3)


@pytest.mark.parametrize(
    ("instant", "swedish", "english"),
    [
        (datetime(2014, 1, 15, 8, 42, tzinfo=UTC), "09.42", "09:42"),
        (datetime(2014, 7, 15, 8, 42, tzinfo=UTC), "10.42", "10:42"),  # summer time
        (datetime(2014, 3, 30, 1, 0, tzinfo=UTC), "03.00", "03:00"),  # the spring change
        (datetime(2014, 10, 26, 0, 30, tzinfo=UTC), "02.30", "02:30"),  # first 02.30
        (datetime(2014, 10, 26, 1, 30, tzinfo=UTC), "02.30", "02:30"),  # second 02.30
        (datetime(2014, 1, 15, 23, 0, tzinfo=UTC), "00.00", "00:00"),
        (datetime(2014, 1, 15, 16, 5, tzinfo=UTC), "17.05", "17:05"),  # 24 hours, no am/pm
    ],
)
def test_a_time_of_day_is_written_as_each_language_writes_it(
    instant: datetime, swedish: str, english: str
) -> None:
    assert clock_text(instant, STOCKHOLM, "sv") == swedish
    assert clock_text(instant, STOCKHOLM, "en") == english


@pytest.mark.parametrize("name", ["Europe/Stockholm", "UTC", "America/New_York", "Etc/GMT+1"])
def test_iana_zone_names_are_zone_names(name: str) -> None:
    assert is_zone_name(name) is True


@pytest.mark.parametrize(
    "name",
    [
        "",
        "Europe",
        "europe/stockholm",
        "localtime",
        "Stockholm",
        "../etc/passwd",
        "x" * 256,
        "CET ",
    ],
)
def test_anything_else_is_not_a_zone_name(name: str) -> None:
    assert is_zone_name(name) is False


@pytest.mark.parametrize(
    ("day", "plausible"),
    [
        (None, True),
        (date(1899, 12, 31), False),
        (date(1900, 1, 1), True),
        (date(2014, 3, 3), True),
        (date(2199, 12, 31), True),
        (date(2200, 1, 1), False),
        (date(1, 1, 1), False),
        (date(9999, 12, 31), False),
    ],
)
def test_plausible_days_lie_from_1900_to_2199(day: date | None, plausible: bool) -> None:
    assert is_plausible_day(day) is plausible
    field = SimpleNamespace(data=day)
    if plausible:
        PlausibleDay()(None, field)
    else:
        with pytest.raises(ValidationError):
            PlausibleDay()(None, field)


def test_a_time_the_clocks_skip_does_not_exist() -> None:
    assert existing_instant(date(2014, 3, 30), time(2, 30), STOCKHOLM) is None
    assert existing_instant(date(2014, 3, 30), time(3, 0), STOCKHOLM) == datetime(
        2014, 3, 30, 1, 0, tzinfo=UTC
    )
    assert existing_instant(date(2014, 10, 26), time(2, 30), STOCKHOLM) == datetime(
        2014, 10, 26, 0, 30, tzinfo=UTC
    )
    assert existing_instant(date(1, 1, 1), time(0, 30), STOCKHOLM) is None


def test_a_typed_instant_without_an_offset_is_in_the_zone_given() -> None:
    assert parse_instant(" 2014-06-30T12:00:00 ", STOCKHOLM) == datetime(
        2014, 6, 30, 10, 0, tzinfo=UTC
    )
    assert parse_instant("2014-06-30T12:00:00+00:00", STOCKHOLM) == datetime(
        2014, 6, 30, 12, 0, tzinfo=UTC
    )
    for unreadable in ("igår", "2014-13-01", "0001-01-01T00:30:00"):
        with pytest.raises(ValueError):
            parse_instant(unreadable, STOCKHOLM)
