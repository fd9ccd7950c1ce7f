"""What a campaign's new period (a moved start or end date) changes in its participants' mail.

1. Every participant's next step is planned again: the change clears their `next_step_at`
   (campaign/drip/next_steps.py), so the `materialize` job reads them at its next run (within
   30 seconds) and plans their steps up to the new end; a step that came due while the
   campaign was over counts as late (skipped if more than two days late, but the welcome).
2. If the campaign is over now (the end moved into the past), its participants' unsent mail is
   cancelled at once, saying so.
3. If it runs again (the end moved later), mail that was cancelled at the old end is queued
   again when it was due within the last two days; older mail stays cancelled (it would come
   stale), and the jobs queue what is due anew: questionnaires not closed yet, reminders of
   meetings still to come, invitations waiting in a fan-out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.enrolment.holds import cancel_for_end, requeue_after_extension
from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup
from campaign.network.models import Campaign
from campaign.network.phases import mails_participants, phase_of


@dataclass(frozen=True)
class Replanned:
    """What a new period changed: participants planned again, mail cancelled and requeued."""

    participants: int
    cancelled: int
    requeued: int


def replan(db_session: Session, campaign: Campaign, now: datetime) -> Replanned:
    """Plan the campaign's participants' mail again after its period changed (the caller has
    set the new dates); return what changed."""
    db_session.flush()  # the flush clears the next-step notes of the campaign's participants
    over = phase_of(campaign, now).is_over
    cancelled = cancel_for_end(db_session, [campaign.id]) if over else 0
    running = mails_participants(campaign, now)
    requeued = requeue_after_extension(db_session, campaign, now) if running else 0
    return Replanned(_followers(db_session, campaign), cancelled, requeued)


def _followers(db_session: Session, campaign: Campaign) -> int:
    """Return how many of the campaign's participants follow a sequence (active, in a pilot
    group that has one): those whose next steps are planned again."""
    query = (
        select(func.count())
        .select_from(Participant)
        .join(PilotGroup, PilotGroup.id == Participant.pilot_group_id)
        .where(Participant.campaign_id == campaign.id)
        .where(Participant.status == ParticipantStatus.ACTIVE)
        .where(PilotGroup.sequence_name.is_not(None))
    )
    return db_session.scalar(query) or 0
