"""The webhook settings, as campaign/config.py declares every setting: name, one line of
documentation, default, check. config.py gathers them into SETTINGS."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

RECEIVER_EXCEPTIONS = ("http", "private")


def _check_allowed(value: str) -> None:
    """Refuse anything but a comma-separated list of http and private."""
    if not {part.strip() for part in value.split(",")} <= set(RECEIVER_EXCEPTIONS):
        raise ValueError("must be http, private or http,private")


def _check_seconds(value: str) -> None:
    """Refuse anything but a whole number of seconds from 1 to 60."""
    if not value.isdigit() or not 1 <= int(value) <= 60:
        raise ValueError("must be a whole number of seconds from 1 to 60")


DECLARED: tuple[tuple[str, str, Callable[[Path], str | None], Callable[[str], None]], ...] = (
    (
        "CAMPAIGN_WEBHOOKS_ALLOW",
        "Webhook receivers allowed beyond https on public addresses: http, private (for tests"
        " and development only).",
        lambda instance: None,
        _check_allowed,
    ),
    (
        "CAMPAIGN_WEBHOOKS_TIMEOUT",
        "Seconds a webhook receiver has to answer in all (connecting: at most 5).",
        lambda instance: "10",
        _check_seconds,
    ),
)


def allowed(value: str | None) -> frozenset[str]:
    """Return the exceptions a CAMPAIGN_WEBHOOKS_ALLOW value names."""
    return frozenset(part.strip() for part in (value or "").split(",") if part.strip())
