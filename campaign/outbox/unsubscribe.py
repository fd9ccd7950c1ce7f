"""The links that stop or pause mail: signed, in every participant mail, one click, no login.

Each participant mail carries `List-Unsubscribe` (an https link and a mailto) and
`List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058): a mail client's POST to the
link unsubscribes at once; a person following the link gets a page with buttons, so that a
mail scanner that merely opens links never unsubscribes anybody. This module signs and reads
the links; the page is in campaign/outbox/views.py, and what it does to the participant in
campaign/enrolment/lifecycle.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

from campaign.security import Signing, sign, unsign

PURPOSE = "unsubscribe"
# Long enough for a mail kept in an inbox all through a campaign; then the link expires.
LINK_LIFETIME = timedelta(days=400)


class Participant(Protocol):
    """Whom a link is for, as far as the outbox knows: a participant's number, nothing more.

    The participant themself, their statuses and what the links do to them live above, in
    campaign/enrolment/lifecycle.py; the outbox only signs and reads the number.
    """

    @property
    def id(self) -> int: ...


def token_for(participant: Participant) -> str:
    """Return the signed token of a participant's unsubscribe link."""
    return sign(PURPOSE, participant.id)


def tokens() -> Callable[[int], str]:
    """Return a signer of many participants' tokens by their numbers, as token_for signs them."""
    return Signing(PURPOSE)


def participant_id_of(token: str) -> int:
    """Return the participant's number in a valid token; raise TokenError if it is not valid."""
    participant_id: int = unsign(PURPOSE, token, int(LINK_LIFETIME.total_seconds()))
    return participant_id
