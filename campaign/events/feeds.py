"""A member's calendar feed: its signed address, and replacing the address when it has leaked.

The address carries the organisation's id and its calendar key, signed. Replacing the key makes
every address given out before stop working, like a pilot group's self-enrolment link. An
address made before keys existed carries the id alone; it works until the key is first set.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from campaign.network.models import Organisation
from campaign.security import TokenError, sign, unsign

PURPOSE = "calendar-feed"
# Calendar apps keep polling a subscription for years; replacing the key ends it sooner.
LIFETIME = timedelta(days=5 * 365)


class FeedReplaced(Exception):
    """The address was valid once, but the member has replaced it (or no longer exists)."""


def token(organisation: Organisation) -> str:
    """Return the signed part of the organisation's current feed address."""
    return sign(PURPOSE, [organisation.id, organisation.calendar_key or ""])


def replace(organisation: Organisation) -> None:
    """Give the organisation a new feed address: every older address stops working."""
    organisation.calendar_key = secrets.token_urlsafe(24)


def organisation_for(db_session: Session, signed: str) -> Organisation:
    """Return the organisation of a feed address; raise TokenError (forged, expired) or
    FeedReplaced."""
    organisation_id, key = _id_and_key(unsign(PURPOSE, signed, int(LIFETIME.total_seconds())))
    organisation = db_session.get(Organisation, organisation_id)
    if organisation is None or not _is_current(key, organisation.calendar_key):
        raise FeedReplaced
    return organisation


def _id_and_key(payload: Any) -> tuple[int, Any]:
    """Return the organisation's id and the key an address carries (None: made before keys);
    raise TokenError if the payload is neither kind."""
    if isinstance(payload, int):
        return payload, None
    if isinstance(payload, list) and len(payload) == 2 and isinstance(payload[0], int):
        return payload[0], payload[1]
    raise TokenError(expired=False)


def _is_current(key: Any, current: str | None) -> bool:
    """Whether an address's key is the organisation's; an address from before keys is valid
    until the first replacement."""
    if key is None:
        return current is None
    return hmac.compare_digest(str(key), current or "")
