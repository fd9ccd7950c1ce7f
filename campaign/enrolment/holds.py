"""The outbox's policy for participants' mail: a paused participant's mail waits, a stopped
participant's mail never goes, and each campaign sends no faster than its rate limit.

The outbox knows no participants or campaigns; the app installs this policy at start.
"""

from __future__ import annotations

from collections.abc import Collection

from flask import Flask
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from campaign.enrolment.lifecycle import STOPPED
from campaign.enrolment.models import Participant, ParticipantStatus
from campaign.network.models import Campaign
from campaign.outbox import policy


class ParticipantHolds:
    """The outbox's Policy as the participants and campaigns decide it."""

    def held(self) -> Select[int]:
        """Return a query of the paused participants: their mail waits until they resume."""
        return select(Participant.id).where(Participant.status == ParticipantStatus.PAUSED)

    def stopped(self, db_session: Session, participant_ids: Collection[int]) -> set[int]:
        """Return those of `participant_ids` who have stopped (unsubscribed or erased)."""
        query = select(Participant.id).where(
            Participant.id.in_(participant_ids), Participant.status.in_(STOPPED)
        )
        return set(db_session.scalars(query))

    def rate_limits(self, db_session: Session, campaign_ids: Collection[int]) -> dict[int, int]:
        """Return each campaign's per-minute limit (those with one), its row locked."""
        limited = (
            select(Campaign.id, Campaign.rate_limit_per_minute)
            .where(Campaign.id.in_(campaign_ids), Campaign.rate_limit_per_minute.is_not(None))
            .order_by(Campaign.id)
            .with_for_update()
        )
        return {cid: limit for cid, limit in db_session.execute(limited) if limit is not None}


def init_app(app: Flask) -> None:
    """Give the app's dispatcher the participants' holds."""
    policy.install(app, ParticipantHolds())
