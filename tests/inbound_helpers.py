"""A received message stored as the inbound path stores it, for page tests."""

from __future__ import annotations

from sqlalchemy.orm import Session

from campaign.enrolment.models import Participant
from campaign.outbox.inbound import InboundKind, InboundMessage, InboundOutcome
from tests.conftest import START

ANSWER = (
    "From: anna@alpha.se\n"
    "To: kampanj@example.org\n"
    "Subject: SV: ALPHA-SECRET-SUBJECT\n"
    "Content-Type: text/plain; charset=utf-8\n\n"
    "Tack, men vi kör redan Skype på hela förvaltningen.\n"
).encode()


def stored(session: Session, person: Participant | None, raw: bytes = ANSWER, **fields) -> int:  # type: ignore[no-untyped-def]
    """Store a received message of `person` (of no campaign when None) to read; return its id."""
    row = InboundMessage(
        campaign_id=person.campaign_id if person else None,
        organisation_id=person.organisation_id if person else None,
        participant_id=person.id if person else None,
        source="pipe",
        received_at=START,
        from_address=person.email if person else "someone@elsewhere.example",
        subject="SV: ALPHA-SECRET-SUBJECT" if person else "Okänt ärende",
        digest=str(hash(raw)),
        size=len(raw),
        raw=raw,
        kind=InboundKind.OTHER,
        outcome=InboundOutcome.KEPT,
        needs_attention=True,
        **fields,
    )
    session.add(row)
    session.flush()
    return row.id
