"""Time: the one clock every scheduling decision asks for "now"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask, current_app


class Clock:
    """The system clock; every scheduling decision asks it for `now`."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock(Clock):
    """A clock that stands still until moved: for tests and `campaign tick --now`."""

    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._now = now

    def now(self) -> datetime:
        return self._now

    def set(self, now: datetime) -> None:
        self._now = now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


def init_app(app: Flask) -> None:
    """Give the app the system clock unless a test installed another; add `|localtime`."""
    app.extensions.setdefault("campaign.clock", Clock())
    zone = ZoneInfo(app.config["CAMPAIGN_TIMEZONE"])
    app.jinja_env.filters["localtime"] = lambda instant: local_text(instant, zone)


def local_text(instant: datetime, zone: ZoneInfo) -> str:
    """Return an instant as local date and time, e.g. '2014-10-26 02:30'."""
    return instant.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def current_clock() -> Clock:
    """Return the clock of the current app."""
    return current_app.extensions["campaign.clock"]
