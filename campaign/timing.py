"""Time: the one clock every scheduling decision asks for "now", and calendar arithmetic in a
campaign's time zone: Swedish business days, offsets such as "+3 business days", local send
times that survive daylight-saving changes, and quiet hours."""

from __future__ import annotations

import functools
import json
import os
import re
import time as wall
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, available_timezones

import holidays
from babel.dates import format_date as format_day
from babel.dates import format_time
from flask import Flask, current_app
from flask_babel import format_date, get_locale
from flask_babel import lazy_gettext as _l
from wtforms import Field, ValidationError

from campaign.i18n import load_catalog


class Clock:
    """The system clock; every scheduling decision asks it for `now`."""

    def now(self) -> datetime:
        """Return the present moment, in UTC."""
        return datetime.now(UTC)


class FixedClock(Clock):
    """A clock that stands still until moved: for tests and simulations."""

    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._now = now

    def now(self) -> datetime:
        """Return the moment the clock stands at."""
        return self._now

    def set(self, now: datetime) -> None:
        """Move the clock to `now`."""
        self._now = now

    def advance(self, delta: timedelta) -> None:
        """Move the clock on by `delta`."""
        self._now += delta


class SharedClock(Clock):
    """Simulations only (CAMPAIGN_CLOCK_FILE): the simulated moment that a driver writes to a
    file and every process of the simulation reads, so that workers, the driver and the sink
    share one clock. The file holds an anchor (a simulated moment, the wall time it was
    written at, and the rate the clock runs at from there: 0 stands still, 1 flows)."""

    def __init__(self, path: Path, cache_seconds: float = 0.005) -> None:
        self._path, self._cache_seconds = path, cache_seconds
        self._anchor: tuple[datetime, float, float] | None = None
        self._read_at = 0.0

    def now(self) -> datetime:
        """Return the simulated moment, re-reading the file at most every few milliseconds."""
        if self._anchor is None or wall.monotonic() - self._read_at > self._cache_seconds:
            self._anchor, self._read_at = read_shared_moment(self._path), wall.monotonic()
        at, written, rate = self._anchor
        return at + timedelta(seconds=rate * max(0.0, wall.time() - written))


def write_shared_moment(path: Path, at: datetime, rate: float = 0.0) -> None:
    """Set the shared clock in `path` to `at` from this instant on, running at `rate`; the
    file is replaced whole, so that a reader never sees half of it."""
    text = json.dumps({"at": at.astimezone(UTC).isoformat(), "wall": wall.time(), "rate": rate})
    aside = path.with_name(f".{path.name}.{os.getpid()}")
    aside.write_text(text, encoding="utf-8")
    os.replace(aside, path)


def read_shared_moment(path: Path) -> tuple[datetime, float, float]:
    """Return the anchor in a shared clock's file: the moment, its wall time and the rate."""
    stored = json.loads(path.read_text(encoding="utf-8"))
    return datetime.fromisoformat(stored["at"]), float(stored["wall"]), float(stored["rate"])


# The zone of a new campaign, and the one times are shown in before there is a campaign.
DEFAULT_ZONE_NAME = "Europe/Stockholm"


def init_app(app: Flask) -> None:
    """Give the app the system clock (a simulation's shared one with CAMPAIGN_CLOCK_FILE)
    unless a test installed another; add `|localtime`, `|longdate` (a day as the page's
    language writes it in prose) and `|clock` (a time of day)."""
    shared = app.config.get("CAMPAIGN_CLOCK_FILE")
    app.extensions.setdefault("campaign.clock", SharedClock(Path(shared)) if shared else Clock())
    app.jinja_env.filters["localtime"] = lambda instant: local_text(instant, shown_zone())
    app.jinja_env.filters["longdate"] = day_text
    app.jinja_env.filters["clock"] = time_of_day_text


def install_clock(app: Flask, clock: Clock) -> None:
    """Make `clock` the app's clock (a FixedClock in tests and simulations)."""
    app.extensions["campaign.clock"] = clock


def clock_of(app: Flask) -> Clock:
    """Return the app's clock."""
    clock: Clock = app.extensions["campaign.clock"]
    return clock


def current_clock() -> Clock:
    """Return the clock of the current app."""
    return clock_of(current_app)


def install_zone(app: Flask, zone_now: Callable[[], tzinfo]) -> None:
    """Let the layer that knows the campaign say which zone times are shown in."""
    app.extensions["campaign.zone"] = zone_now


def shown_zone() -> tzinfo:
    """Return the zone this request shows times in: the installed one, else the default."""
    zone_now: Callable[[], tzinfo] | None = current_app.extensions.get("campaign.zone")
    return zone_now() if zone_now else ZoneInfo(DEFAULT_ZONE_NAME)


def local_text(instant: datetime, zone: tzinfo) -> str:
    """Return an instant as the page's language writes it: '3 december 2026 kl. 08.58'."""
    return moment_text(instant, zone, str(get_locale() or "sv"))


def moment_text(instant: datetime, zone: tzinfo, language: str) -> str:
    """Return an instant's local day and time of day in full, as `language` writes them:
    '3 december 2026 kl. 08.58', 'December 3, 2026 at 08:58' (the words from the catalog)."""
    day = format_day(instant.astimezone(zone).date(), "long", locale=language)
    at = load_catalog(language).gettext("at %(time)s")  # the words of `language`, also in a job
    return f"{day} {at % {'time': clock_text(instant, zone, language)}}"


# Svenska skrivregler write the time of day with a full stop (09.42; CLDR's Swedish has a colon).
CLOCK_PATTERNS = {"sv": "HH.mm", "en": "HH:mm"}


def clock_text(instant: datetime, zone: tzinfo, language: str) -> str:
    """Return an instant's local time of day as `language` writes it, e.g. '09.42' in Swedish."""
    return format_time(instant, CLOCK_PATTERNS.get(language, "HH:mm"), tzinfo=zone, locale=language)


def time_of_day_text(at: time) -> str:
    """Return a time of day as the page's language writes it: 09.00 in Swedish, 09:00."""
    language = str(get_locale() or "sv")
    return format_time(at, CLOCK_PATTERNS.get(language, "HH:mm"), locale=language)


def long_day(day: date, language: str) -> str:
    """Return a day in full as `language` writes it, outside a request too: 31 mars 2015."""
    return format_day(day, "long", locale=language)


def day_text(day: date) -> str:
    """Return a day as the page's language writes it in full: 15 augusti 2026, August 15, 2026."""
    return format_date(day, "long")


def local_date(instant: datetime, zone_name: str) -> date:
    """Return the calendar date of an instant in the named time zone."""
    return instant.astimezone(ZoneInfo(zone_name)).date()


@functools.cache
def _zone_names() -> frozenset[str]:
    # "localtime" is the machine's own zone, under a name no calendar program knows.
    return frozenset(available_timezones()) - {"localtime"}


def is_zone_name(name: str) -> bool:
    """Return whether `name` is an IANA time zone this machine has, such as Europe/Stockholm.

    For names people type: ZoneInfo() itself raises other errors than ZoneInfoNotFoundError
    for some (IsADirectoryError for "Europe", OSError for a 256-byte name).
    """
    return name in _zone_names()


# Public holidays plus the de facto ones every Swedish workplace keeps: midsommarafton,
# julafton and nyårsafton.
HOLIDAY_CATEGORIES = ("public", "de_facto")


@functools.cache
def swedish_holidays(year: int) -> dict[date, str]:
    """Return the Swedish holidays of a year, with their Swedish names."""
    found = holidays.Sweden(
        years=year, include_sundays=False, categories=HOLIDAY_CATEGORIES, language="sv"
    )
    return dict(found.items())


def is_business_day(day: date) -> bool:
    """Return whether `day` is a weekday that is not a Swedish (public or de facto) holiday."""
    return day.weekday() < 5 and day not in swedish_holidays(day.year)


def add_business_days(day: date, count: int) -> date:
    """Return the business day `count` business days after `day` (before it when negative).

    0 gives `day` itself when it is a business day, else the next one (the previous one when
    counting backwards is what `count` asks for).
    """
    step = timedelta(days=-1 if count < 0 else 1)
    day = _business_day_from(day, step)
    for _step in range(abs(count)):
        day = _business_day_from(day + step, step)
    return day


def _business_day_from(day: date, step: timedelta) -> date:
    """Return `day` if it is a business day, else the nearest one in the direction of `step`."""
    while not is_business_day(day):
        day += step
    return day


@dataclass(frozen=True)
class Offset:
    """A distance from an anchor day: `+0d`, `+2w`, `+3 business days`, `-2w`."""

    amount: int
    unit: str  # "days", "weeks" or "business_days"

    def apply(self, day: date) -> date:
        """Return the day the offset leads to from `day`."""
        if self.unit == "business_days":
            return add_business_days(day, self.amount)
        return day + timedelta(days=self.amount * (7 if self.unit == "weeks" else 1))

    def later(self, instant: datetime, zone_name: str) -> datetime:
        """Return `instant` moved by as many days as the offset moves its local day."""
        day = local_date(instant, zone_name)
        return instant + (self.apply(day) - day)


_OFFSET = re.compile(
    r"^(?P<sign>[+-]?)\s*(?P<amount>\d{1,4})\s*"
    r"(?:(?P<business>business\s+days?|bd)|(?P<weeks>w|weeks?)|(?P<days>d|days?))$",
    re.IGNORECASE,
)


def parse_offset(text: str) -> Offset:
    """Read `+0d`, `+3 days`, `+2w`, `+3 business days`, `-2w`; raise ValueError if unreadable."""
    match = _OFFSET.match(text.strip())
    if match is None:
        raise ValueError(
            f"cannot read the offset {text!r}: write for example +0d, +3 days, +2w, "
            "+3 business days or -2w"
        )
    amount = int(match["amount"])
    return Offset(-amount if match["sign"] == "-" else amount, _unit_of(match))


def _unit_of(match: re.Match[str]) -> str:
    """Return the unit an offset is written in."""
    return "business_days" if match["business"] else "weeks" if match["weeks"] else "days"


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """Return the UTC instant of wall-clock `at` on `day` in `zone`.

    Across the spring change a time that does not exist (02:30) moves forward by the gap
    (03:30); across the autumn change a time that exists twice is its first occurrence.
    """
    local = datetime.combine(day, at, tzinfo=zone)
    return local.astimezone(UTC)


def existing_instant(day: date, at: time, zone: ZoneInfo) -> datetime | None:
    """Return local_instant(day, at, zone), or None if the clocks skip `at` that day.

    For what a person types: a time in the spring gap (02:30 on the last Sunday of March in
    Stockholm) would silently become another one. A moment outside the years 1 to 9999 in
    UTC (00:30 on 0001-01-01 in Stockholm) does not exist either.
    """
    try:
        instant = local_instant(day, at, zone)
    except OverflowError:
        return None
    if instant.astimezone(zone).replace(tzinfo=None) != datetime.combine(day, at):
        return None
    return instant


# The days people type lie in these years: far enough for any campaign, near enough that the
# arithmetic on them (offsets, holidays, time zones) never leaves the calendar.
FIRST_YEAR, LAST_YEAR = 1900, 2199


def is_plausible_day(day: date | None) -> bool:
    """Return whether `day` (None: not given) lies within FIRST_YEAR to LAST_YEAR."""
    return day is None or FIRST_YEAR <= day.year <= LAST_YEAR


class PlausibleDay:
    """A form validator: the day typed lies within FIRST_YEAR to LAST_YEAR."""

    def __call__(self, form: object, field: Field) -> None:
        """Refuse a day outside the plausible years."""
        if not is_plausible_day(field.data):
            raise ValidationError(
                _l(
                    "Give a date in the years %(first)s to %(last)s.",
                    first=FIRST_YEAR,
                    last=LAST_YEAR,
                )
            )


def parse_instant(text: str, zone: tzinfo) -> datetime:
    """Return the ISO 8601 instant in `text`; without an offset it is a time in `zone`.

    Raises ValueError for anything else, and for a moment outside the years 1 to 9999 in UTC
    (0001-01-01 in Stockholm is still year 0 in UTC), which no comparison could use.
    """
    instant = datetime.fromisoformat(text.strip())
    instant = instant if instant.tzinfo else instant.replace(tzinfo=zone)
    try:
        instant.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{text!r} lies outside the years 1 to 9999") from None
    return instant


@dataclass(frozen=True)
class QuietHours:
    """Local hours in which nothing is sent, e.g. 18:00 to 08:00 (may span midnight)."""

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        """Whether a local time of day is within the quiet hours."""
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def next_allowed(self, instant: datetime, zone: ZoneInfo) -> datetime:
        """Return `instant`, or the end of the quiet hours it falls in (as a UTC instant)."""
        local = instant.astimezone(zone)
        if not self.contains(local.time().replace(tzinfo=None)):
            return instant
        day = local.date()
        if self.start > self.end and local.time().replace(tzinfo=None) >= self.start:
            day += timedelta(days=1)
        return local_instant(day, self.end, zone)


# No participant mail is due between 18:00 and 08:00 local time (a step's `at` outside these
# hours is reported by `campaign sequences check`).
QUIET_HOURS = QuietHours(time(18), time(8))
