"""What of a claimed batch may go now: not to a suppressed address, a stopped participant or a
participant of a campaign that is over, and no more than each campaign's sending rate allows."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, and_, func, select, union_all
from sqlalchemy.orm import Session

from campaign.outbox.models import Message, MessageState, Suppression
from campaign.outbox.outcomes import Report, cancel, release
from campaign.outbox.policy import Policy

RATE_WINDOW = timedelta(minutes=1)
RATE_WAIT = timedelta(seconds=10)
# The last answers the limits write (campaign.labels says them in the reader's language).
SUPPRESSED = "not sent: the address is on the suppression list"
STOPPED_ANSWER = "not sent: the participant gets no more mail"
RATE_WAIT_ANSWER = "waiting: the campaign's sending rate limit is reached"


def without_the_stopped(
    db_session: Session, batch: list[Row[Any]], now: datetime, policy: Policy, report: Report
) -> list[Row[Any]]:
    """Cancel the messages to suppressed addresses, to stopped participants and to participants
    of a closed campaign; return the rest."""
    batch = _without_suppressed(db_session, batch, report)
    batch = _without_stopped_participants(db_session, batch, policy, report)
    return _without_closed_campaigns(db_session, batch, now, policy, report)


def _without_suppressed(
    db_session: Session, batch: list[Row[Any]], report: Report
) -> list[Row[Any]]:
    """Cancel the messages to addresses on the suppression list; return the rest."""
    recipients = {m.recipient for m in batch}
    suppressed = set(
        db_session.scalars(select(Suppression.email).where(Suppression.email.in_(recipients)))
    )
    cancel(
        db_session,
        [m for m in batch if m.recipient in suppressed],
        SUPPRESSED,
        report,
    )
    return [m for m in batch if m.recipient not in suppressed]


def _without_stopped_participants(
    db_session: Session, batch: list[Row[Any]], policy: Policy, report: Report
) -> list[Row[Any]]:
    """Cancel the messages to participants the policy says have stopped; return the rest."""
    people = {m.participant_id for m in batch if m.participant_id is not None}
    stopped = policy.stopped(db_session, people) if people else set()
    cancel(
        db_session,
        [m for m in batch if m.participant_id in stopped],
        STOPPED_ANSWER,
        report,
    )
    return [m for m in batch if m.participant_id not in stopped]


def _without_closed_campaigns(
    db_session: Session, batch: list[Row[Any]], now: datetime, policy: Policy, report: Report
) -> list[Row[Any]]:
    """Cancel the participants' messages of campaigns the policy says are closed (with the
    answer it gives); return the rest."""
    campaign_ids = {m.campaign_id for m in batch if m.participant_id is not None}
    closed = policy.closed(db_session, campaign_ids, now) if campaign_ids else {}
    for campaign_id, answer in closed.items():
        cancel(db_session, [m for m in batch if _of(m, campaign_id)], answer, report)
    return [m for m in batch if m.participant_id is None or m.campaign_id not in closed]


def _of(message: Row[Any], campaign_id: int) -> bool:
    """Whether a message is to a participant of the campaign."""
    return message.participant_id is not None and message.campaign_id == campaign_id


def within_rate_limits(
    db_session: Session, batch: list[Row[Any]], now: datetime, policy: Policy, report: Report
) -> list[Row[Any]]:
    """Keep what each campaign may still send this minute; hand the rest back for later."""
    campaign_ids = {m.campaign_id for m in batch if m.campaign_id is not None}
    limits = policy.rate_limits(db_session, campaign_ids) if campaign_ids else {}
    if not limits:
        return batch
    # The campaign rows stay locked (PostgreSQL) until this batch's share is settled, so two
    # dispatchers never count at the same time.
    allowance = _allowance(db_session, limits, now, batch[0].claim_token)
    kept, later = _share(batch, allowance)
    if later:
        _defer(db_session, later, now, report)
    db_session.commit()  # the batch's share is settled: the campaign rows are free again
    return kept


def _defer(db_session: Session, later: list[Row[Any]], now: datetime, report: Report) -> None:
    """Hand back what is over a campaign's rate, to be tried again in a few seconds."""
    release(db_session, later, RATE_WAIT_ANSWER, next_attempt_at=now + RATE_WAIT)
    report.deferred += len(later)


def _share(
    batch: list[Row[Any]], allowance: dict[int, int]
) -> tuple[list[Row[Any]], list[Row[Any]]]:
    """Split a batch, oldest first, into what each campaign's allowance lets go now and the rest."""
    kept, later = [], []
    for message in batch:
        cid = message.campaign_id
        if cid in allowance and allowance[cid] == 0:
            later.append(message)
            continue
        if cid in allowance:
            allowance[cid] -= 1
        kept.append(message)
    return kept, later


def _allowance(
    db_session: Session, limits: dict[int, int], now: datetime, own_token: str
) -> dict[int, int]:
    """Return how many more messages each campaign may send in the minute up to `now`."""
    counted = _counted(db_session, list(limits), now, own_token)
    return {cid: max(limit - counted.get(cid, 0), 0) for cid, limit in limits.items()}


def _counted(
    db_session: Session, campaign_ids: list[int], now: datetime, own_token: str
) -> dict[int, int]:
    """Return what counts against each campaign's limit: mail sent in the minute, and mail
    other dispatchers are sending now, so that N workers do not send N times the limit.

    Mail whose lease ran out less than a minute ago counts as being sent too: its dispatcher
    may only be slow (a busy machine), not gone, and still send it. Before, such mail went
    uncounted and four busy workers sent 152 in a minute limited to 150.

    Two counts, not one with OR: each reads an index of its own (the recent sent mail, the
    mail being sent), where the OR read the campaign's whole outbox (6 s at 15 million). They
    are one statement (UNION ALL), so both see the same moment: as two, a message another
    dispatcher recorded as sent between them was in neither, and one more went out."""
    went = (MessageState.SENT, MessageState.FAILED)  # a bounce after sending marks it failed
    sent = and_(Message.state.in_(went), Message.sent_at > now - RATE_WINDOW)
    others_sending = and_(
        Message.state == MessageState.SENDING,
        Message.lease_until > now - RATE_WINDOW,
        Message.claim_token != own_token,
    )
    counts = [
        select(Message.campaign_id, func.count())
        .where(Message.campaign_id.in_(campaign_ids), condition)
        .group_by(Message.campaign_id)
        for condition in (sent, others_sending)
    ]
    counted: Counter[int] = Counter()
    for cid, n in db_session.execute(union_all(*counts)):
        if cid is not None:
            counted[cid] += n
    return dict(counted)
