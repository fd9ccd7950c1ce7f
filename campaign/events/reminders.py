"""Reminders of events: the `reminders` job.

Each reminder of an event ("24h, 1h" before its start) goes once, at its moment, to everyone
invited who has not declined; the waiting list gets none (they have no place). The job runs
every minute until the start, so a run reads only the invitees who have not had the reminder
yet (its key is in the outbox: the database skips those who have), a batch at a time with
their participant or staff member, lays the mail out once per language and footer (`letters`)
and queues a batch in one statement, committing as it goes, as a fan-out does. A reminder to a
meeting of the whole campaign costs about what its invitation did, and a run after it one
query for each meeting whose reminder is due (0.24 s for 97,000 invitees on PostgreSQL).
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta

from sqlalchemy import String, cast, exists, literal, select
from sqlalchemy.orm import Session

from campaign.events.letters import Invitee, Letters, invitee_rows, mail_goes
from campaign.events.models import Event, Invitation, Rsvp
from campaign.outbox.models import Message
from campaign.outbox.queue import enqueue_many

REMINDER = re.compile(r"^(\d{1,3})\s*([dhm])$")
UNITS = {"d": "days", "h": "hours", "m": "minutes"}
REMINDED = (Rsvp.PENDING, Rsvp.ACCEPTED, Rsvp.TENTATIVE)  # not those who declined or wait
BATCH = 500  # reminders read, laid out and queued at a time
# How long one run goes on before it lets the other jobs have their turn (the next run carries
# on), and how often it commits what it has queued, as the fan-outs (campaign/events/fanout.py).
RUN_SECONDS = 20.0
COMMIT_SECONDS = 1.0


def parse_reminders(text: str) -> list[timedelta]:
    """Parse "24h, 1h" into offsets before the start; raise ValueError naming a bad part."""
    parts = (p.strip().lower() for p in text.split(","))
    offsets = {_reminder_offset(part) for part in parts if part}
    return sorted(offsets, reverse=True)


def _reminder_offset(part: str) -> timedelta:
    """Parse one reminder such as "24h"; raise ValueError naming it if it is not one."""
    match = REMINDER.match(part)
    if not match or int(match.group(1)) == 0:
        raise ValueError(part)
    return timedelta(**{UNITS[match.group(2)]: int(match.group(1))})


def queue_reminders(db_session: Session, now: datetime) -> int:
    """Queue each reminder whose moment has come, once, to those who have not declined;
    return how many were queued (the batches are committed as they go).

    A reminder missed while the service was down still goes out, as long as the event has not
    started. A run stops after RUN_SECONDS; the next one carries on where it stopped.
    """
    started = committed = time.monotonic()
    count = 0
    for event in _coming(db_session, now):
        offset = _reminder_due(event, now)
        if offset is None or not mail_goes(db_session, event, now):
            continue
        letters, after = Letters(db_session, event, now), 0
        while batch := _unreminded(db_session, event, offset, after):
            messages = [letters.message(i, "reminder", key=_key(event, offset, i.invitation_id))
                        for i in batch]  # fmt: skip
            enqueue_many(db_session, messages, now)
            count, after = count + len(batch), batch[-1].invitation_id
            if time.monotonic() - started >= RUN_SECONDS:
                db_session.commit()
                return count
            if time.monotonic() - committed >= COMMIT_SECONDS:
                db_session.commit()
                committed = time.monotonic()
    db_session.commit()
    return count


def _coming(db_session: Session, now: datetime) -> list[Event]:
    """Return the events not cancelled that have not started yet."""
    query = select(Event).where(Event.is_cancelled.is_(False), Event.starts_at > now)
    return list(db_session.scalars(query))


def _reminder_due(event: Event, now: datetime) -> timedelta | None:
    """Return how long before the start the event's latest due reminder is; None if none is
    due, or the event changed after its moment (the update is reminder enough)."""
    try:
        offsets = parse_reminders(event.reminders)
    except ValueError:
        return None
    due = [offset for offset in offsets if event.starts_at - offset <= now]
    if not due:
        return None
    offset = min(due)  # only the latest due reminder: no burst of two after an outage
    if event.sequence > 0 and event.updated_at > event.starts_at - offset:
        return None
    return offset


def _key(event: Event, offset: timedelta, invitation_id: int) -> str:
    """The outbox key of one invitee's reminder `offset` before the event's current version."""
    return f"{_key_stem(event, offset)}{invitation_id}"


def _key_stem(event: Event, offset: timedelta) -> str:
    return f"ev:{event.id}:s{event.sequence}:reminder:{int(offset.total_seconds() // 60)}m:i"


def _unreminded(db_session: Session, event: Event, offset: timedelta, after: int) -> list[Invitee]:
    """Return the next BATCH invitees (after invitation `after`) due the reminder `offset`
    before the start who have not had it: the outbox holds no mail with its key."""
    key = literal(_key_stem(event, offset), String) + cast(Invitation.id, String)
    had = exists().where(Message.source_key == key)
    rows = db_session.execute(
        invitee_rows()
        .where(
            Invitation.event_id == event.id,
            Invitation.rsvp.in_(REMINDED),
            # Invited after this reminder's moment: the invitation is reminder enough.
            Invitation.created_at <= event.starts_at - offset,
            Invitation.id > after,
            ~had,
        )
        .order_by(Invitation.id)
        .limit(BATCH)
    ).all()
    return [Invitee(id_, rsvp, person, user) for id_, rsvp, person, user in rows]
