"""Where a webhook may go (SSRF): https only, and never to an address inside the network.

Checked when a subscription is saved, and again at each delivery against the very address
connected to (`resolve` returns the addresses, the sender connects to one of them), so that a
name that resolves elsewhere later (DNS rebinding) is refused too. CAMPAIGN_WEBHOOKS_ALLOW may
allow http and private addresses, for tests and development.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Collection
from urllib.parse import SplitResult, urlsplit

from flask_babel import lazy_gettext as _l

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(Exception):
    """A receiver the service will not send to; the message (a lazy translation) says why."""


def parse(url: str, allowed: Collection[str]) -> SplitResult:
    """Return the parts of a receiver's URL; raise Refused for one the service never calls."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError on a port that is no number
    except ValueError:
        raise Refused(_l("The address is not a URL.")) from None
    schemes = ("https", "http") if "http" in allowed else ("https",)
    if parts.scheme not in schemes or not parts.hostname:
        raise Refused(_l("The address must start with https:// and name a host."))
    if parts.username is not None or parts.password is not None:
        raise Refused(_l("The address must not hold a user name or password."))
    return parts


def resolve(parts: SplitResult, allowed: Collection[str]) -> list[IPAddress]:
    """Return the addresses the receiver's host name resolves to; raise Refused if it does not
    resolve, or if any of them is inside the network (unless private ones are allowed)."""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise Refused(_l("The host %(host)s could not be found.", host=parts.hostname)) from None
    addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in found))
    if "private" not in allowed:
        for address in addresses:
            refuse_internal(address)
    return addresses


def refuse_internal(address: IPAddress) -> None:
    """Raise Refused for a loopback, private, link-local, multicast, reserved or unspecified
    address (an IPv4 one written as IPv6 too)."""
    mapped = getattr(address, "ipv4_mapped", None) or address
    if mapped.is_multicast or not mapped.is_global:
        raise Refused(
            _l(
                "The address %(address)s is inside a network: webhooks go to public addresses.",
                address=str(address),
            )
        )


def check(url: str, allowed: Collection[str]) -> str:
    """Return the URL, stripped, if the service may send to it now; raise Refused if not."""
    resolve(parse(url, allowed), allowed)
    return url.strip()
