"""The outbox's policy for participants' mail: a paused participant's mail waits, a stopped
participant's mail never goes, a campaign's participants get nothing before its start (but the
meeting mail it allows) and nothing after its end, and each campaign sends no faster than its
rate limit; a participant whose address the server refuses for good is bounced. What each
phase allows is `campaign.network.phases`' rule; this applies it to mail already queued, and
cancels at the end what can no longer go (`cancel_after_end`).

The outbox knows no participants or campaigns; the app installs this policy at start.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any, cast

from flask import Flask
from sqlalchemy import ColumnElement, CursorResult, Select, and_, false, select, update
from sqlalchemy.orm import Session

from campaign.enrolment.lifecycle import STOPPED, bounce
from campaign.enrolment.models import Participant, ParticipantStatus
from campaign.network.models import Campaign
from campaign.network.phases import AFTER_END, Phase, campaigns_in, end_moment, phases_at
from campaign.outbox import policy
from campaign.outbox.models import Message, MessageKind, MessageState
from campaign.outbox.queue import OPEN_STATES
from campaign.webhooks.emit import emit

# What a participant's message cancelled at the campaign's end records (shown by its label).
ENDED_ANSWER = "not sent: the campaign has ended"
# The mail about meetings, which a campaign may allow before its start.
MEETING_KINDS = (MessageKind.INVITATION, MessageKind.REMINDER)
# Mail cancelled at the end goes again when the end moves later, if it was due this recently.
STILL_WANTED = timedelta(days=2)


class ParticipantHolds:
    """The outbox's Policy as the participants and campaigns decide it."""

    def held(self) -> Select[int]:
        """Return a query of the paused participants: their mail waits until they resume."""
        return select(Participant.id).where(Participant.status == ParticipantStatus.PAUSED)

    def waiting(self, db_session: Session, now: datetime) -> ColumnElement[bool]:
        """Return the condition of the mail of campaigns that have not started: it waits for
        the start, but the meeting mail of a campaign that allows it before."""
        preparing = [c for c, p in phases_at(db_session, now).items() if p is Phase.PREPARING]
        if not preparing:
            return false()
        early = [c.id for c in preparing if c.has_early_invitations]
        meeting = and_(Message.campaign_id.in_(early), Message.kind.in_(MEETING_KINDS))
        return and_(Message.campaign_id.in_([c.id for c in preparing]), ~meeting)

    def stopped(self, db_session: Session, participant_ids: Collection[int]) -> set[int]:
        """Return those of `participant_ids` who have stopped (unsubscribed, bounced or erased)."""
        query = select(Participant.id).where(
            Participant.id.in_(participant_ids), Participant.status.in_(STOPPED)
        )
        return set(db_session.scalars(query))

    def closed(
        self, db_session: Session, campaign_ids: Collection[int], now: datetime
    ) -> dict[int, str]:
        """Return those of `campaign_ids` that have ended: their participants get no more mail."""
        over = campaigns_in(db_session, now, AFTER_END) & set(campaign_ids)
        return dict.fromkeys(over, ENDED_ANSWER)

    def refused(self, db_session: Session, participant_id: int, answer: str, now: datetime) -> None:
        """A participant whose address the server refused is bounced, as by a later report."""
        person = db_session.get(Participant, participant_id)
        if person is not None and person.status is not ParticipantStatus.ERASED:
            code = answer[:3] if answer[:3].isdigit() else ""  # the audit holds the code only
            bounce(db_session, person, now, answer, code)

    def failed(self, db_session: Session, message_id: int, now: datetime) -> None:
        """Tell the webhook receivers of a mail given up for good, by its numbers and kind."""
        message = db_session.get(Message, message_id)
        if message is None or message.campaign_id is None:
            return
        data = {
            "message_id": message.id, "kind": message.kind.value,
            "organisation_id": message.organisation_id, "participant_id": message.participant_id,
        }  # fmt: skip
        emit(
            db_session, campaign_id=message.campaign_id, organisation_id=message.organisation_id,
            event_type="message.failed", data=data, now=now,
        )  # fmt: skip

    def rate_limits(self, db_session: Session, campaign_ids: Collection[int]) -> dict[int, int]:
        """Return each campaign's per-minute limit (those with one), its row locked."""
        limited = (
            select(Campaign.id, Campaign.rate_limit_per_minute)
            .where(Campaign.id.in_(campaign_ids), Campaign.rate_limit_per_minute.is_not(None))
            .order_by(Campaign.id)
            .with_for_update()
        )
        return {cid: limit for cid, limit in db_session.execute(limited) if limit is not None}


def cancel_after_end(db_session: Session, now: datetime) -> int:
    """Cancel the unsent mail of the participants of every campaign that has ended, saying so;
    return how many messages."""
    return cancel_for_end(db_session, campaigns_in(db_session, now, AFTER_END))


def cancel_for_end(db_session: Session, campaign_ids: Collection[int]) -> int:
    """Cancel the unsent mail of these campaigns' participants, saying the campaign has ended;
    return how many messages."""
    if not campaign_ids:
        return 0
    result = db_session.execute(
        update(Message)
        .where(Message.campaign_id.in_(campaign_ids), Message.participant_id.is_not(None))
        .where(Message.state.in_(OPEN_STATES))
        .values(state=MessageState.CANCELLED, last_answer=ENDED_ANSWER)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], result).rowcount  # an UPDATE: a cursor result


def requeue_after_extension(db_session: Session, campaign: Campaign, now: datetime) -> int:
    """Queue again the participants' mail cancelled at the campaign's end that is still wanted
    now that the campaign runs again: due within its period and at most STILL_WANTED ago (older
    mail would come stale; the jobs plan what is due anew). Return how many messages."""
    result = db_session.execute(
        update(Message)
        .where(Message.campaign_id == campaign.id, Message.participant_id.is_not(None))
        .where(Message.state == MessageState.CANCELLED, Message.last_answer == ENDED_ANSWER)
        .where(Message.due_at >= now - STILL_WANTED, Message.due_at < end_moment(campaign))
        .values(state=MessageState.QUEUED, last_answer=None, next_attempt_at=None, attempts=0)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], result).rowcount  # an UPDATE: a cursor result


def init_app(app: Flask) -> None:
    """Give the app's dispatcher the participants' holds."""
    policy.install(app, ParticipantHolds())
