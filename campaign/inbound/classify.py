"""What a received message is: each handler in turn may take it; what none takes is kept.

The order matters: a complaint or a bounce carries the original message (with its calendar
part, if it was an invitation) and often says Auto-Submitted, so they are judged first.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from campaign.inbound import autoreplies, bounces, calendar_replies, complaints
from campaign.inbound.parsed import Incoming
from campaign.outbox.inbound import InboundKind, InboundOutcome

Handler = Callable[[Session, Incoming], bool]

HANDLERS: tuple[Handler, ...] = (
    complaints.handle,
    bounces.handle,
    calendar_replies.handle,
    autoreplies.handle,
)


def apply(db_session: Session, incoming: Incoming) -> None:
    """Let the first handler that recognises the message apply it; keep it otherwise."""
    for handler in HANDLERS:
        if handler(db_session, incoming):
            return
    row = incoming.row
    row.kind, row.outcome, row.needs_attention = InboundKind.OTHER, InboundOutcome.KEPT, True
