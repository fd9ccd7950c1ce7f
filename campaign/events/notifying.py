"""What the webhook receivers hear of meetings: a participant's answer, and who came."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from campaign.enrolment.models import Participant
from campaign.events.models import Event, Invitation
from campaign.webhooks.emit import emit


def rsvp_changed(db_session: Session, event: Event, invitation: Invitation, now: datetime) -> None:
    """Queue a participant's new answer to the receivers of their member (staff's have none)."""
    person = db_session.get(Participant, invitation.participant_id or 0)
    if person is None:
        return
    data = {
        "event_id": event.id,
        "invitation_id": invitation.id,
        "participant_id": person.id,
        "organisation_id": person.organisation_id,
        "rsvp": invitation.rsvp.value,
    }
    emit(
        db_session, campaign_id=event.campaign_id, organisation_id=person.organisation_id,
        event_type="rsvp.changed", data=data, now=now,
    )  # fmt: skip


def attendance_marked(
    db_session: Session, event: Event, attended: int, invited: int, now: datetime
) -> None:
    """Queue the counts of who came to the receivers of the meeting's member (or campaign)."""
    data = {
        "event_id": event.id,
        "organisation_id": event.organisation_id,
        "attended": attended,
        "invited": invited,
    }
    emit(
        db_session, campaign_id=event.campaign_id, organisation_id=event.organisation_id,
        event_type="attendance.marked", data=data, now=now,
    )  # fmt: skip
