"""Other times that invitees propose from their calendar (iTIP COUNTER): shown to the organiser
on the meeting's page, never applied (the organiser changes the meeting if they agree).

A proposal is a received message of kind CALENDAR_COUNTER linked to the meeting and kept for a
person; its detail holds the proposed time in one fixed form, written by `detail_of` (in
campaign/inbound) and read back here by `time_of`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from campaign.enrolment.models import Participant
from campaign.events.models import Event
from campaign.outbox.inbound import InboundKind, InboundMessage, InboundOutcome

STAMP = "%Y-%m-%dT%H:%MZ"
DETAIL = re.compile(r"^COUNTER seq (\d+): (\S+)/(\S+)")


@dataclass(frozen=True)
class Proposal:
    """One invitee's proposal: who, when it came, and the time they propose (if readable)."""

    row_id: int
    received_at: datetime
    name: str
    address: str
    starts_at: datetime | None
    ends_at: datetime | None


def detail_of(sequence: int, starts_at: datetime | None, ends_at: datetime | None) -> str:
    """Return the detail of a proposal to the version `sequence`, e.g.
    'COUNTER seq 0: 2014-03-11T12:00Z/2014-03-11T13:00Z'."""
    if starts_at is None or ends_at is None:
        return f"COUNTER seq {sequence}: no time proposed"
    span = f"{starts_at.astimezone(UTC):{STAMP}}/{ends_at.astimezone(UTC):{STAMP}}"
    return f"COUNTER seq {sequence}: {span}"


def time_of(detail: str) -> tuple[datetime, datetime] | None:
    """Return the proposed start and end a proposal's detail names, None if it names none."""
    found = DETAIL.match(detail)
    if found is None:
        return None
    try:
        start, end = (datetime.strptime(found.group(n), STAMP) for n in (2, 3))
    except ValueError:
        return None
    return start.replace(tzinfo=UTC), end.replace(tzinfo=UTC)


def statement(event: Event) -> Select[InboundMessage, Participant]:
    """The meeting's open proposals with the participant each came from, oldest first; the
    caller restricts it to what the user may see (by InboundMessage.organisation_id)."""
    return (
        select(InboundMessage, Participant)
        .outerjoin(Participant, Participant.id == InboundMessage.participant_id)
        .where(
            InboundMessage.event_id == event.id,
            InboundMessage.kind == InboundKind.CALENDAR_COUNTER,
            InboundMessage.outcome == InboundOutcome.KEPT,
            InboundMessage.dismissed_at.is_(None),
        )
        .order_by(InboundMessage.received_at, InboundMessage.id)
    )


def listed(db_session: Session, query: Select[InboundMessage, Participant]) -> list[Proposal]:
    """Return the proposals the query (from `statement`) finds."""
    return [_proposal(row, person) for row, person in db_session.execute(query)]


def _proposal(row: InboundMessage, person: Participant | None) -> Proposal:
    """Return one received proposal as the meeting's page shows it."""
    span = time_of(row.detail)
    name, address = (person.name, person.email) if person else ("", row.from_address)
    starts_at, ends_at = span if span else (None, None)
    return Proposal(row.id, row.received_at, name, address, starts_at, ends_at)
