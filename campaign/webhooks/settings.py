"""The webhook settings, as campaign/config.py declares every setting: name, one line of
documentation, default, check. config.py gathers them into SETTINGS."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

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
        " and development only: refused when CAMPAIGN_BASE_URL is https).",
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


def check_together(values: Mapping[str, Any]) -> None:
    """Refuse CAMPAIGN_WEBHOOKS_ALLOW in a real deployment: one whose CAMPAIGN_BASE_URL is
    https (what people reach and mail links point to; the session cookie is Secure then too),
    unless the app runs the tests (TESTING)."""
    exceptions = allowed(values.get("CAMPAIGN_WEBHOOKS_ALLOW"))
    served_over_https = str(values.get("CAMPAIGN_BASE_URL") or "").startswith("https://")
    if exceptions and served_over_https and not values.get("TESTING"):
        raise ValueError(
            f"CAMPAIGN_WEBHOOKS_ALLOW={','.join(sorted(exceptions))} is for tests and development"
            " only: a deployment served over https (CAMPAIGN_BASE_URL=https://…) calls only https"
            " webhook receivers on public addresses, since an http or internal one would let"
            " whoever sets up a webhook reach into your network; unset it."
        )
