"""Who may still answer an invitation: the one rule the signed links and calendar answers follow.

No answer counts once the meeting has ended or was cancelled. One who unsubscribed, bounced or was
erased gets no more mail, so they would not hear of a new time or a cancellation: they may say
no, but not take a place (README, "Threat model").
"""

from __future__ import annotations

from datetime import datetime

from campaign.accounts.models import User
from campaign.enrolment.lifecycle import STOPPED
from campaign.enrolment.models import Participant
from campaign.events.models import Event, Rsvp


def is_over(event: Event, now: datetime) -> bool:
    """Whether the meeting has ended at `now`."""
    return event.ends_at <= now


def is_unreachable(person: Participant | User) -> bool:
    """Whether no mail reaches the person any more (a stopped participant)."""
    return isinstance(person, Participant) and person.status in STOPPED


def takes(event: Event, person: Participant | User, answer: Rsvp, now: datetime) -> bool:
    """Whether the person's answer to the meeting can still be recorded at `now`."""
    if is_over(event, now) or event.is_cancelled:
        return False
    return answer is Rsvp.DECLINED or not is_unreachable(person)
