"""The calendar mail of an event version on its way to every invitee, outside the request.

Inviting a whole campaign means thousands of mails. The request that asks for them records a
`Fanout` and returns; the `invitations` job queues the mail a batch per transaction, so the
event page shows how far it has come. Who is still due is read from the invitations
themselves (their `sent_sequence` behind the event's SEQUENCE), and each mail has a unique
source key, so a fan-out cut off by a restart carries on where it stopped and nobody gets a mail
twice. A small fan-out is done at once, in the request, by the same code. A fan-out whose mail
may not go yet (`letters.mail_goes`: a campaign before its start) waits, and the job carries
it out when it may; after the campaign's end it waits for good, unless the end moves.
"""

from __future__ import annotations

import time
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from campaign.events.letters import Invitee, Letters, invitee_rows, mail_goes
from campaign.events.models import (
    STILL_INVITED,
    Event,
    Fanout,
    FanoutKind,
    FanoutState,
    Invitation,
)
from campaign.outbox.queue import enqueue_many

# Up to this many mails are queued in the request itself (well under a second); more go to
# the `invitations` job.
IN_REQUEST = 200
# Mails queued per transaction: the progress the event page shows moves in these steps.
BATCH = 500
# How long one run of the job goes on before it lets the other jobs have their turn.
RUN_SECONDS = 20.0
# How often the job commits the batches it has queued (the progress the page shows moves then):
# each commit of an outbox as large as a fan-out's costs the database a write of its log.
COMMIT_SECONDS = 1.0


def _due(event: Event) -> tuple[ColumnElement[bool], ...]:
    """The invitations whose calendar is behind the event: never mailed, or an older version.

    Nobody is told of the cancellation of a meeting they were never invited to by mail.
    """
    behind = Invitation.sent_sequence < event.sequence
    if not event.is_cancelled:
        behind = or_(Invitation.sent_sequence.is_(None), behind)
    return (Invitation.event_id == event.id, Invitation.rsvp.in_(STILL_INVITED), behind)


def due_count(db_session: Session, event: Event) -> int:
    """Return how many invitees are due the event's calendar mail."""
    return db_session.scalar(select(func.count()).select_from(Invitation).where(*_due(event))) or 0


def start(db_session: Session, event: Event, kind: FanoutKind, now: datetime) -> Fanout | None:
    """Record that the invitees are due the event's calendar mail, and queue it at once when
    they are few; None when nobody is due."""
    total = due_count(db_session, event)
    if total == 0:
        return None
    _take_over(db_session, event, now)
    fanout = Fanout(
        event_id=event.id,
        sequence=event.sequence,
        kind=kind,
        state=FanoutState.QUEUED,
        total=total,
        done=0,
        created_at=now,
    )
    db_session.add(fanout)
    db_session.flush()
    if total <= IN_REQUEST:
        _run_to_the_end(db_session, fanout, now)
    return fanout


def _take_over(db_session: Session, event: Event, now: datetime) -> None:
    """End the event's unfinished fan-out: its invitees are counted in the new one."""
    db_session.execute(
        update(Fanout)
        .where(Fanout.event_id == event.id, Fanout.state != FanoutState.DONE)
        .values(state=FanoutState.DONE, finished_at=now)
    )


def _run_to_the_end(db_session: Session, fanout: Fanout, now: datetime) -> None:
    """Queue all of the fan-out's mail now, batch after batch, in one transaction."""
    letters = advance(db_session, fanout, now)
    while letters is not None:
        letters = advance(db_session, fanout, now, letters)


def advance(
    db_session: Session, fanout: Fanout, now: datetime, letters: Letters | None = None
) -> Letters | None:
    """Queue the mail of the fan-out's next batch of invitees; None once nobody is left.

    Returns the letters used, to be passed in again for the next batch of the same version.
    A fan-out whose mail may not go now is left as it is (None).
    """
    event = locked_event(db_session, fanout.event_id)
    if not mail_goes(db_session, event, now):
        return None
    if letters is None or letters.version != Letters.version_of(event):
        letters = Letters(db_session, event, now)
    rows = _next_batch(db_session, event, letters.mailed_up_to)
    if not rows:
        fanout.state, fanout.finished_at = FanoutState.DONE, now
        return None
    _queue(db_session, event, letters, rows, now)
    letters.mailed_up_to = rows[-1][0].invitation_id
    fanout.state = FanoutState.RUNNING
    fanout.done += len(rows)
    fanout.total = max(fanout.total, fanout.done)
    return letters


def _queue(
    db_session: Session,
    event: Event,
    letters: Letters,
    rows: list[tuple[Invitee, int | None]],
    now: datetime,
) -> None:
    """Queue the calendar mail of a batch of invitees and note that they have this version."""
    messages = [letters.message(invitee, _kind(event, sent)) for invitee, sent in rows]
    enqueue_many(db_session, messages, now)
    _mark_sent(db_session, event, [invitee.invitation_id for invitee, _sent in rows])


def locked_event(db_session: Session, event_id: int) -> Event:
    """Return the event with its row locked until the transaction ends: the changes to it, its
    places and its mailings happen one at a time."""
    return db_session.scalars(select(Event).where(Event.id == event_id).with_for_update()).one()


def _next_batch(db_session: Session, event: Event, after: int) -> list[tuple[Invitee, int | None]]:
    """Return the next invitees due the event's calendar mail, with the SEQUENCE they last got:
    those after invitation `after` (the letters of this version have mailed those before)."""
    rows = db_session.execute(
        invitee_rows(Invitation.sent_sequence)
        .where(*_due(event), Invitation.id > after)
        .order_by(Invitation.id)
        .limit(BATCH)
    ).all()
    return [(Invitee(id_, rsvp, person, user), sent) for id_, rsvp, sent, person, user in rows]


def _kind(event: Event, sent_sequence: int | None) -> str:
    """Which calendar mail an invitee is due: a cancellation, a first invitation, an update."""
    if event.is_cancelled:
        return "cancel"
    return "invitation" if sent_sequence is None else "update"


def _mark_sent(db_session: Session, event: Event, invitation_ids: list[int]) -> None:
    """Record that these invitations have the event's current version."""
    db_session.execute(
        update(Invitation)
        .where(
            Invitation.id.in_(invitation_ids),
            or_(Invitation.sent_sequence.is_(None), Invitation.sent_sequence < event.sequence),
        )
        .values(sent_sequence=event.sequence)
        .execution_options(synchronize_session="evaluate")
    )


def run_due(db_session: Session, now: datetime) -> int:
    """Work through the unfinished fan-outs, oldest first, committing the batches every
    COMMIT_SECONDS (so the progress shows and a restart loses little); return how many mails
    were queued."""
    started = committed = time.monotonic()
    queued = 0
    letters: dict[int, Letters] = {}
    while time.monotonic() - started < RUN_SECONDS:
        fanout = _oldest_unfinished(db_session, now)
        if fanout is None:
            break
        before = fanout.done
        used = advance(db_session, fanout, now, letters.get(fanout.event_id))
        if used is not None:
            letters[fanout.event_id] = used
        queued += fanout.done - before
        if time.monotonic() - committed >= COMMIT_SECONDS:
            db_session.commit()
            committed = time.monotonic()
    db_session.commit()
    return queued


def _oldest_unfinished(db_session: Session, now: datetime) -> Fanout | None:
    """Return the fan-out that waits longest among those whose mail may go, or None."""
    unfinished = select(Fanout, Event).join(Event, Event.id == Fanout.event_id)
    rows = db_session.execute(
        unfinished.where(Fanout.state != FanoutState.DONE).order_by(Fanout.id)
    ).all()
    return next((f for f, event in rows if mail_goes(db_session, event, now)), None)


def latest(db_session: Session, event: Event) -> Fanout | None:
    """Return the event's most recent fan-out, finished or not."""
    return db_session.scalar(
        select(Fanout).where(Fanout.event_id == event.id).order_by(Fanout.id.desc()).limit(1)
    )
