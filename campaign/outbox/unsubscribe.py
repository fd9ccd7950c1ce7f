"""Stopping and pausing mail: signed links in every participant mail, one click, no login.

Each participant mail carries `List-Unsubscribe` (an https link and a mailto) and
`List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058): a mail client's POST to the
link unsubscribes at once; a person following the link gets a page with buttons, so that a
mail scanner that merely opens links never unsubscribes anybody.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from campaign.audit import record
from campaign.enrolment.models import Participant, ParticipantStatus
from campaign.outbox.models import SuppressionReason
from campaign.outbox.queue import cancel_for_participant, suppress
from campaign.security import sign, unsign

PURPOSE = "unsubscribe"
# Long enough for a mail kept in an inbox all through a campaign; then the link expires.
LINK_LIFETIME = timedelta(days=400)
STOPPED = (ParticipantStatus.UNSUBSCRIBED, ParticipantStatus.BOUNCED)


def token_for(participant: Participant) -> str:
    """Return the signed token of a participant's unsubscribe link."""
    return sign(PURPOSE, participant.id)


def participant_for(db_session: Session, token: str) -> Participant | None:
    """Return the participant of a valid token (None if erased); raise TokenError if invalid."""
    participant_id = unsign(PURPOSE, token, int(LINK_LIFETIME.total_seconds()))
    participant = db_session.get(Participant, participant_id)
    if participant is None or participant.status is ParticipantStatus.ERASED:
        return None
    return participant


def unsubscribe(
    db_session: Session, participant: Participant, now: datetime, how: str, actor: Any = None
) -> None:
    """Stop all mail to the participant: status, suppression list, and unsent mail cancelled."""
    if participant.status is not ParticipantStatus.UNSUBSCRIBED:
        participant.status = ParticipantStatus.UNSUBSCRIBED
        record(
            db_session,
            actor,
            "participant.unsubscribed",
            organisation_id=participant.organisation_id,
            target=f"participant:{participant.id}",
            how=how,
        )
    suppress(db_session, participant.email, SuppressionReason.UNSUBSCRIBED, how, now)
    cancel_for_participant(db_session, participant.id, "cancelled: the participant unsubscribed")


def pause(db_session: Session, participant: Participant, actor: Any = None) -> bool:
    """Hold mail to an active participant until they resume; False if not possible."""
    if participant.status not in (ParticipantStatus.ACTIVE, ParticipantStatus.INVITED):
        return False
    participant.status = ParticipantStatus.PAUSED
    record(
        db_session,
        actor,
        "participant.paused",
        organisation_id=participant.organisation_id,
        target=f"participant:{participant.id}",
    )
    return True


def resume(db_session: Session, participant: Participant, actor: Any = None) -> bool:
    """Let held mail go again; False if the participant was not paused."""
    if participant.status is not ParticipantStatus.PAUSED:
        return False
    participant.status = ParticipantStatus.ACTIVE
    record(
        db_session,
        actor,
        "participant.resumed",
        organisation_id=participant.organisation_id,
        target=f"participant:{participant.id}",
    )
    return True
