"""The clock, and calendar arithmetic in the campaign's time zone: business days, offsets,
DST, quiet hours, and the zone times are shown in."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from campaign import i18n
from campaign.network.models import Campaign
from campaign.outbox.models import SuppressionReason
from campaign.outbox.queue import suppress
from campaign.timing import (
    Clock,
    FixedClock,
    Offset,
    QuietHours,
    add_business_days,
    clock_of,
    current_clock,
    init_app,
    install_clock,
    install_zone,
    is_business_day,
    local_instant,
    parse_offset,
    swedish_holidays,
)
from tests.conftest import START, Network, sign_in
from tests.urls import staff

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def test_swedish_holidays_include_the_de_facto_evenings() -> None:
    names = swedish_holidays(2014)
    assert names[date(2014, 6, 20)] == "Midsommarafton"
    assert names[date(2014, 12, 24)] == "Julafton"
    assert names[date(2014, 12, 31)] == "Nyårsafton"
    assert names[date(2014, 6, 6)] == "Nationaldagen"
    assert date(2014, 4, 17) not in names  # skärtorsdagen is a working day


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2014, 6, 19), True),  # Thursday before midsommar
        (date(2014, 6, 20), False),  # midsommarafton
        (date(2014, 6, 21), False),  # midsommardagen, a Saturday
        (date(2014, 12, 24), False),  # julafton
        (date(2014, 5, 29), False),  # Kristi himmelsfärdsdag
        (date(2014, 5, 30), True),  # klämdag: a working day all the same
        (date(2014, 3, 8), False),  # a Saturday
    ],
)
def test_business_days(day: date, expected: bool) -> None:
    assert is_business_day(day) is expected


def test_adding_business_days_skips_weekends_and_holidays() -> None:
    assert add_business_days(date(2014, 6, 18), 1) == date(2014, 6, 19)
    assert add_business_days(date(2014, 6, 19), 1) == date(2014, 6, 23)  # over midsommar
    assert add_business_days(date(2014, 12, 22), 2) == date(2014, 12, 29)  # over jul
    assert add_business_days(date(2014, 3, 8), 0) == date(2014, 3, 10)  # Saturday: Monday
    assert add_business_days(date(2014, 6, 23), -1) == date(2014, 6, 19)  # back over midsommar
    assert add_business_days(date(2014, 3, 8), -1) == date(2014, 3, 6)  # Saturday: back 1 from Fri


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("+0d", Offset(0, "days")),
        ("+3 days", Offset(3, "days")),
        ("+1 day", Offset(1, "days")),
        ("+2w", Offset(2, "weeks")),
        ("+2 weeks", Offset(2, "weeks")),
        ("+3 business days", Offset(3, "business_days")),
        ("+1 Business Day", Offset(1, "business_days")),
        ("5bd", Offset(5, "business_days")),
        ("-2w", Offset(-2, "weeks")),
        ("-3 business days", Offset(-3, "business_days")),
    ],
)
def test_offsets_are_read(text: str, offset: Offset) -> None:
    assert parse_offset(text) == offset


@pytest.mark.parametrize("text", ["", "+3", "+-2d", "+3 months", "three days", "+2w3d"])
def test_unreadable_offsets_say_how_to_write_them(text: str) -> None:
    with pytest.raises(ValueError, match=r"write for example \+0d"):
        parse_offset(text)


def test_offsets_apply_from_a_start_day() -> None:
    start = date(2014, 6, 16)  # the Monday of midsommar week
    assert parse_offset("+0d").apply(start) == start
    assert parse_offset("+2w").apply(start) == date(2014, 6, 30)
    assert parse_offset("+4 business days").apply(start) == date(2014, 6, 23)


def test_local_times_across_daylight_saving_changes() -> None:
    # 09:00 is 07:00 UTC in summer and 08:00 UTC in winter: a send keeps its wall-clock time.
    assert local_instant(date(2014, 10, 25), time(9), STOCKHOLM) == datetime(
        2014, 10, 25, 7, tzinfo=UTC
    )
    assert local_instant(date(2014, 10, 27), time(9), STOCKHOLM) == datetime(
        2014, 10, 27, 8, tzinfo=UTC
    )
    # 02:30 does not exist on 30 March 2014: it moves forward to 03:30 (01:30 UTC).
    assert local_instant(date(2014, 3, 30), time(2, 30), STOCKHOLM) == datetime(
        2014, 3, 30, 1, 30, tzinfo=UTC
    )
    # 02:30 happens twice on 26 October 2014: the first time counts (00:30 UTC).
    assert local_instant(date(2014, 10, 26), time(2, 30), STOCKHOLM) == datetime(
        2014, 10, 26, 0, 30, tzinfo=UTC
    )


def test_quiet_hours_move_a_send_to_the_morning() -> None:
    night = QuietHours(time(18), time(8))
    evening = local_instant(date(2014, 3, 3), time(19, 15), STOCKHOLM)
    early = local_instant(date(2014, 3, 4), time(6, 0), STOCKHOLM)
    day = local_instant(date(2014, 3, 4), time(10, 0), STOCKHOLM)
    morning = local_instant(date(2014, 3, 4), time(8), STOCKHOLM)
    assert night.next_allowed(evening, STOCKHOLM) == morning
    assert night.next_allowed(early, STOCKHOLM) == morning
    assert night.next_allowed(day, STOCKHOLM) == day
    lunch = QuietHours(time(12), time(13))
    noon = local_instant(date(2014, 3, 4), time(12, 30), STOCKHOLM)
    assert lunch.next_allowed(noon, STOCKHOLM) == local_instant(
        date(2014, 3, 4), time(13), STOCKHOLM
    )


def test_an_app_has_one_clock_that_can_be_replaced() -> None:
    app = Flask(__name__)
    init_app(app)
    assert type(clock_of(app)) is Clock
    fixed = FixedClock(datetime(2014, 3, 3, 9, 0, tzinfo=UTC))
    install_clock(app, fixed)
    with app.app_context():
        assert clock_of(app) is fixed and current_clock() is fixed


def test_times_are_shown_in_the_zone_the_campaign_installs() -> None:
    app = Flask(__name__)
    app.config["CAMPAIGN_DEFAULT_LANGUAGE"] = "sv"
    i18n.init_app(app)
    init_app(app)
    instant = datetime(2014, 10, 26, 0, 30, tzinfo=UTC)
    show = app.jinja_env.from_string("{{ instant|localtime }}")
    with app.app_context():
        assert show.render(instant=instant) == "26 oktober 2014 kl. 02.30"  # default: Stockholm
        install_zone(app, lambda: ZoneInfo("America/New_York"))
        assert show.render(instant=instant) == "25 oktober 2014 kl. 20.30"


def test_pages_show_times_in_the_campaign_zone(
    app: Flask, client: FlaskClient, session: Session, network: Network
) -> None:
    with app.app_context():
        suppress(session, "gone@alpha.se", SuppressionReason.HARD_BOUNCE, "550", START)
        session.commit()
    sign_in(client, "lead@alpha.se")
    page = client.get(staff("/outbox/suppressions")).get_data(as_text=True)
    assert "3 mars 2014 kl. 10.00" in page
    session.get(Campaign, network.campaign.id).timezone = "Asia/Tokyo"
    session.commit()
    page = client.get(staff("/outbox/suppressions")).get_data(as_text=True)
    assert "3 mars 2014 kl. 18.00" in page


def test_offsets_move_an_instant_by_its_local_days() -> None:
    sunday_night = datetime(2014, 9, 7, 23, 30, tzinfo=UTC)  # Monday 01:30 in Stockholm
    later = parse_offset("+1 business day").later(sunday_night, "Europe/Stockholm")
    assert later == sunday_night + timedelta(days=1)  # to Tuesday, not from Sunday to Tuesday
