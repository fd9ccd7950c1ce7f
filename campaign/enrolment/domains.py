"""A member's known e-mail domains: where its people's work addresses are. Self-enrolment
warns, and never refuses, when an address is at none of them (a pilot group is for work, but a
member may have more domains than its representative listed); with none listed, nobody is
warned. The member's representative or the lead administrator keeps the list."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session

from campaign.audit import record
from campaign.network.models import Organisation

LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
DOMAIN = re.compile(rf"^(?:{LABEL}\.)+[a-z]{{2,63}}$")
MAX_DOMAINS = 20


def parse(text: str) -> list[str]:
    """Return the domains of a text (commas, spaces or lines between them) in lower case,
    without "@", each once; raise ValueError naming the first that is no domain."""
    found: list[str] = []
    for part in re.split(r"[\s,;]+", text.strip().lower()):
        domain = part.lstrip("@").rstrip(".")
        if domain and domain not in found:
            found.append(_checked(domain))
    if len(found) > MAX_DOMAINS:
        raise ValueError(found[MAX_DOMAINS])
    return found


def _checked(domain: str) -> str:
    """Return the domain (an IDN in its written form) if it is one; raise ValueError if not."""
    try:
        ascii_form = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(domain) from None
    if len(ascii_form) > 253 or not DOMAIN.match(ascii_form):
        raise ValueError(domain)
    return domain


def of(organisation: Organisation) -> list[str]:
    """Return the member's known domains, in the order they were given."""
    return organisation.email_domains.split()


def is_known(address: str, domains: list[str]) -> bool:
    """Whether the address is at one of the domains, or below one (a.kommun.se under
    kommun.se); with no domains known, every address is."""
    if not domains:
        return True
    host = address.rpartition("@")[2].lower().rstrip(".")
    return any(host == domain or host.endswith("." + domain) for domain in domains)


def change(
    db_session: Session,
    organisation: Organisation,
    domains: list[str],
    actor: Any,
    campaign_id: int,
) -> None:
    """Replace the member's known domains, audited; the caller commits."""
    organisation.email_domains = " ".join(domains)
    record(
        db_session,
        actor,
        "member.email_domains_changed",
        campaign_id=campaign_id,
        organisation_id=organisation.id,
        target=f"organisation:{organisation.slug}",
        domains=domains,
    )
