"""Whom a message no original was found for most likely belongs to: the participant of the
campaign whose address sent it.

A reply names our message in In-Reply-To or References, and an automatic reply usually comes
back to the message's own return address: the core links those (matching.original_of). A person
who writes anew, or whose client dropped those headers, is found by their From address, in the
campaign of the row when it has one, else in the one campaign that has that address.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from campaign.enrolment.models import ParticipantStatus
from campaign.inbound import matching
from campaign.inbound.parsed import Incoming


def link(db_session: Session, incoming: Incoming) -> bool:
    """Tie the row to the participant whose address sent it, if it is tied to nobody; return
    whether it was."""
    row = incoming.row
    if row.participant_id is not None or not row.from_address:
        return False
    person = matching.participant_by_address(db_session, row.campaign_id, row.from_address)
    if person is None or person.status is ParticipantStatus.ERASED:
        return False
    row.participant_id = person.id
    row.campaign_id, row.organisation_id = person.campaign_id, person.organisation_id
    return True
