"""An announcement on its way: recorded by the form, queued by the `announcements` job.

The form's request records the announcement and returns (a small one due now is queued in the
request itself, by the same code). Once its time has come, the job queues its mail a batch per
transaction, in participant id order, rendering each person's mail in their language; each mail
has the unique source key `ann:<announcement>:p:<participant>`, so a run cut off by a restart
carries on where it stopped and nobody gets it twice. The outbox then sends it with the
campaign's rate limit and suppression list; it is due outside the quiet hours.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.orm import Session

from campaign.announcements.letters import Letters, Reader
from campaign.announcements.models import Announcement, AnnouncementState, Texts
from campaign.announcements.segments import Segment, conditions, reach, reachable
from campaign.audit import record
from campaign.enrolment.models import Participant
from campaign.network.models import Campaign, Membership
from campaign.outbox.models import Message, MessageKind, MessageState
from campaign.outbox.queue import OPEN_STATES, enqueue_many, state_counts
from campaign.timing import QUIET_HOURS

IN_REQUEST = 200  # up to this many mails are queued in the request itself
BATCH = 500  # mails queued per transaction by the job
RUN_SECONDS = 20.0  # how long one run of the job goes on before the other jobs get their turn
# How often the job commits the batches it has queued: each commit of an outbox as large as a
# fan-out's costs the database a write of its log, so not after every batch.
COMMIT_SECONDS = 1.0
CANCELLED = "cancelled: the announcement was cancelled"  # the last answer of its unsent mail
WAITING = (AnnouncementState.SCHEDULED, AnnouncementState.SENDING)


@dataclass(frozen=True)
class Draft:
    """What the form sends: for whom, what, when, and the form's own key."""

    campaign: Campaign
    organisation_id: int | None  # a representative's member; None for the lead administrator
    segment: Segment
    texts: Texts
    send_at: datetime
    form_key: str


def source_key(participant_id: int, announcement_id: int) -> str:
    """Return the outbox key of one person's mail of an announcement."""
    return f"ann:{announcement_id}:p:{participant_id}"


def its_mail(announcement: Announcement) -> ColumnElement[bool]:
    """The condition of the outbox rows of an announcement (by its keys' prefix: LIKE compares
    characters, where a range of keys would follow the database's collation)."""
    return and_(
        Message.campaign_id == announcement.campaign_id,
        Message.kind == MessageKind.ANNOUNCEMENT,
        Message.source_key.like(f"ann:{announcement.id}:p:%"),
    )


def send_time(wanted: datetime, campaign: Campaign) -> datetime:
    """Return when mail asked for at `wanted` may go: after the quiet hours it falls in."""
    return QUIET_HOURS.next_allowed(wanted, ZoneInfo(campaign.timezone))


def announce(db_session: Session, draft: Draft, author: object, now: datetime) -> Announcement:
    """Record an announcement (once per form: a second send of the same form finds the first)
    and queue it at once when it is due and small; audited with its segment and count."""
    found = db_session.scalar(select(Announcement).where(Announcement.form_key == draft.form_key))
    if found is not None:
        return found
    announcement = _new(db_session, draft, author, now)
    _audit(db_session, announcement, author, now)
    if announcement.send_at <= now and announcement.reached <= IN_REQUEST:
        while advance(db_session, announcement, now):
            pass
    return announcement


def _new(db_session: Session, draft: Draft, author: object, now: datetime) -> Announcement:
    texts, segment = draft.texts, _scoped(draft)
    announcement = Announcement(
        campaign_id=draft.campaign.id,
        organisation_id=draft.organisation_id,
        author_id=getattr(author, "id", None),
        segment=segment.to_json(),
        subject_sv=texts.subject_sv,
        body_sv=texts.body_sv,
        subject_en=texts.subject_en,
        body_en=texts.body_en,
        send_at=send_time(draft.send_at, draft.campaign),
        state=AnnouncementState.SCHEDULED,
        reached=reach(db_session, draft.campaign.id, segment).reached,
        form_key=draft.form_key,
        created_at=now,
    )
    db_session.add(announcement)
    db_session.flush()
    return announcement


def _scoped(draft: Draft) -> Segment:
    """The draft's segment, within the representative's member if it is theirs."""
    if draft.organisation_id is None:
        return draft.segment
    return draft.segment.within(draft.organisation_id)


def segment_of(announcement: Announcement) -> Segment:
    """Return the announcement's segment (a representative's always within their member)."""
    segment = Segment.from_json(announcement.segment)
    if announcement.organisation_id is None:
        return segment
    return segment.within(announcement.organisation_id)


def _audit(db_session: Session, announcement: Announcement, author: object, now: datetime) -> None:
    record(
        db_session,
        author,
        "announcement.scheduled",
        now=now,
        campaign_id=announcement.campaign_id,
        organisation_id=announcement.organisation_id,
        target=f"announcement:{announcement.id}",
        count=announcement.reached,
        segment=announcement.segment,
        sent_at=announcement.send_at.isoformat(),
    )


def advance(
    db_session: Session, announcement: Announcement, now: datetime, letters: Letters | None = None
) -> bool:
    """Queue the mail of the next batch of the segment (laid out by `letters`, made for it if
    not given); False once everyone's is queued."""
    people = _next_batch(db_session, announcement)
    if people:
        letters = letters or letters_of(db_session, announcement)
        _queue(db_session, announcement, letters, people, now)
    if len(people) < BATCH:
        announcement.state, announcement.finished_at = AnnouncementState.SENT, now
        return False
    announcement.state = AnnouncementState.SENDING
    return True


def letters_of(db_session: Session, announcement: Announcement) -> Letters:
    """Return the announcement's mail, to be laid out once for all its batches."""
    return Letters(db_session, announcement.texts, f"announcement {announcement.id}")


def _next_batch(db_session: Session, announcement: Announcement) -> list[Reader]:
    """Return the next people of the segment the announcement reaches, in id order: plain
    rows, whose member's rows the letters read once."""
    segment = segment_of(announcement)
    rows = db_session.execute(
        select(*(getattr(Participant, name) for name in Reader._fields))
        .join(
            Membership,
            (Membership.campaign_id == Participant.campaign_id)
            & (Membership.organisation_id == Participant.organisation_id),
        )
        .where(*conditions(announcement.campaign_id, segment), reachable())
        .where(Participant.id > announcement.queued_up_to)
        .order_by(Participant.id)
        .limit(BATCH)
    )
    return [Reader(*row) for row in rows]


def _queue(
    db_session: Session,
    announcement: Announcement,
    letters: Letters,
    people: list[Reader],
    now: datetime,
) -> None:
    """Queue the mail of a batch of people, due now or after the quiet hours."""
    campaign = db_session.get(Campaign, announcement.campaign_id)
    assert campaign is not None  # a foreign key
    due_at = send_time(max(now, announcement.send_at), campaign)
    mails = [
        letters.message(p, source_key=source_key(p.id, announcement.id), due_at=due_at)
        for p in people
    ]
    enqueue_many(db_session, mails, now)
    announcement.queued += len(people)
    announcement.queued_up_to = people[-1].id


def run_due(db_session: Session, now: datetime) -> int:
    """Queue the mail of the announcements whose time has come, oldest first, committing the
    batches every COMMIT_SECONDS (so the list shows the progress and a restart loses little);
    return how many mails were queued."""
    started = committed = time.monotonic()
    queued = 0
    letters: dict[int, Letters] = {}
    while time.monotonic() - started < RUN_SECONDS:
        announcement = _oldest_due(db_session, now)
        if announcement is None:
            break
        before = announcement.queued
        if announcement.id not in letters:
            letters[announcement.id] = letters_of(db_session, announcement)
        advance(db_session, announcement, now, letters[announcement.id])
        queued += announcement.queued - before
        if time.monotonic() - committed >= COMMIT_SECONDS:
            db_session.commit()
            committed = time.monotonic()
    db_session.commit()
    return queued


def _oldest_due(db_session: Session, now: datetime) -> Announcement | None:
    """Return the announcement due the longest whose mail is not all queued yet, locked."""
    return db_session.scalar(
        select(Announcement)
        .where(Announcement.state.in_(WAITING), Announcement.send_at <= now)
        .order_by(Announcement.send_at, Announcement.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )


def counts(db_session: Session, announcement: Announcement) -> dict[MessageState, int]:
    """Return how many of the announcement's mails are in each state of the outbox."""
    return state_counts(db_session, its_mail(announcement))


def shown_state(announcement: Announcement, found: dict[MessageState, int]) -> AnnouncementState:
    """Return the state a list shows: a queued announcement is sending until its mail has gone."""
    if announcement.state is not AnnouncementState.SENT:
        return announcement.state
    open_mail = sum(found[state] for state in (*OPEN_STATES, MessageState.SENDING))
    return AnnouncementState.SENDING if open_mail else AnnouncementState.SENT


def may_cancel(announcement: Announcement, found: dict[MessageState, int]) -> bool:
    """Whether some of the announcement's mail can still be stopped."""
    if announcement.state in WAITING:
        return True
    waiting = sum(found[state] for state in OPEN_STATES)
    return announcement.state is AnnouncementState.SENT and waiting > 0


def cancel(db_session: Session, announcement: Announcement, actor: object, now: datetime) -> int:
    """Cancel the announcement and its mail not sent yet; return how many mails were stopped."""
    result = db_session.execute(
        update(Message)
        .where(its_mail(announcement), Message.state.in_(OPEN_STATES))
        .values(state=MessageState.CANCELLED, last_answer=CANCELLED)
        .execution_options(synchronize_session=False)
    )
    stopped = int(getattr(result, "rowcount", 0) or 0)
    announcement.state, announcement.cancelled_at = AnnouncementState.CANCELLED, now
    record(
        db_session,
        actor,
        "announcement.cancelled",
        now=now,
        campaign_id=announcement.campaign_id,
        organisation_id=announcement.organisation_id,
        target=f"announcement:{announcement.id}",
        count=stopped,
    )
    return stopped
