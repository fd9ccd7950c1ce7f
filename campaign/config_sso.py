"""The single sign-on settings (OpenID Connect): their rows in config.SETTINGS, their checks,
and the reading of the role mapping (`roles`), which the sign-in reads too.

A row is (name, one line of documentation, default, check); config.py makes each a Setting.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROLES = ("lead_admin", "member_rep")


def _check_issuer(value: str) -> None:
    """Refuse an issuer that is not an http(s) address with a host, or has a query."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise ValueError(
            "must be the provider's https:// address, such as https://login.microsoftonline.com/TENANT/v2.0"
        )


def roles(text: str) -> dict[str, tuple[str, str]]:
    """Return the role mapping `VALUE=ROLE of ORG; …` as {claim value: (role, org slug)}, in
    the order written (the first value a person holds wins); ValueError names a bad entry."""
    found: dict[str, tuple[str, str]] = {}
    for entry in filter(None, (e.strip() for e in text.replace("\n", ";").split(";"))):
        value, _, grant = (part.strip() for part in entry.rpartition("="))
        role, of, slug = grant.split(" ", 2) if grant.count(" ") >= 2 else (grant, "", "")
        if not value or role not in ROLES or of != "of" or not slug.strip() or " " in slug.strip():
            raise ValueError(
                f"has {entry!r}, which is not VALUE=lead_admin of ORG or VALUE=member_rep of ORG"
            )
        found.setdefault(value, (role, slug.strip()))
    return found


def _check_roles(value: str) -> None:
    """Refuse a role mapping that does not read."""
    roles(value)


def domains(text: str) -> frozenset[str]:
    """Return the e-mail domains of a comma- or space-separated list, in lower case."""
    return frozenset(d.strip().lower().lstrip("@") for d in text.replace(",", " ").split() if d)


def _check_domains(value: str) -> None:
    """Refuse a domain list with something that is no domain."""
    bad = [d for d in domains(value) if "." not in d or "@" in d or "/" in d]
    if bad:
        raise ValueError(f"has {bad[0]!r}, which is not an e-mail domain such as kungalv.se")


def _check_switch(value: str) -> None:
    """Refuse anything but on or off."""
    if value not in ("on", "off"):
        raise ValueError("must be on or off")


def _unset(instance: Path) -> str | None:
    return None


ROWS: tuple[tuple[str, str, Callable[[Path], str | None], Callable[[str], None] | None], ...] = (
    (
        "CAMPAIGN_OIDC_ISSUER",
        "Issuer of the OpenID provider (discovery at /.well-known/openid-configuration);"
        " unset means no single sign-on.",
        _unset,
        _check_issuer,
    ),
    ("CAMPAIGN_OIDC_CLIENT_ID", "Client id the provider gave this service.", _unset, None),
    ("CAMPAIGN_OIDC_CLIENT_SECRET", "Client secret the provider gave this service.", _unset, None),
    (
        "CAMPAIGN_OIDC_NAME",
        "Name of the provider on the sign-in button (Logga in med NAME).",
        lambda instance: "SSO",
        None,
    ),
    ("CAMPAIGN_OIDC_SCOPES", "Scopes asked for.", lambda instance: "openid email profile", None),
    (
        "CAMPAIGN_OIDC_CLAIM",
        "Claim of the ID token whose values give an account its role (groups or roles).",
        lambda instance: "groups",
        None,
    ),
    (
        "CAMPAIGN_OIDC_ROLES",
        "What each value of the claim makes its holder:"
        " VALUE=lead_admin of ORG; VALUE=member_rep of ORG.",
        _unset,
        _check_roles,
    ),
    (
        "CAMPAIGN_OIDC_DOMAINS",
        "E-mail domains whose people may get an account at their first sign-in (comma-separated).",
        _unset,
        _check_domains,
    ),
    (
        "CAMPAIGN_PASSWORD_LOGIN",
        "on: staff may sign in with a password too; off: only through the OpenID provider.",
        lambda instance: "on",
        _check_switch,
    ),
)


def check_together(values: Mapping[str, Any]) -> None:
    """Raise ValueError for an issuer without its client, or password login off without one."""
    if values.get("CAMPAIGN_OIDC_ISSUER"):
        for name in ("CAMPAIGN_OIDC_CLIENT_ID", "CAMPAIGN_OIDC_CLIENT_SECRET"):
            if not values.get(name):
                raise ValueError(f"{name} must be set when CAMPAIGN_OIDC_ISSUER is.")
    elif values.get("CAMPAIGN_PASSWORD_LOGIN") == "off":
        raise ValueError("CAMPAIGN_PASSWORD_LOGIN=off needs CAMPAIGN_OIDC_ISSUER set.")
