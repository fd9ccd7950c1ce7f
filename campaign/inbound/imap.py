"""The imap job: read the inbound mailbox, store each message through `receive`, then move it to
the handled folder, or to the kept folder when a person is to read it.

The order never loses or doubles a message: its row is committed before the message is moved,
so a crash in between leaves it in the folder, and the next run finds the row (the same
Message-ID and size, or the same bytes) and only moves it. A message that could not be stored
stays where it was, untouched; nothing is ever deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import compat32

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.inbound.mailbox import Mailbox, Settings, opened, settings_from_config
from campaign.inbound.receive import receive
from campaign.jobs import CannotRun
from campaign.outbox.inbound import InboundMessage, InboundOutcome

log = logging.getLogger(__name__)

FETCH_AT_ONCE = 20  # messages per FETCH, and per move: a crash re-reads at most these


@dataclass
class Tally:
    """What one run did with the messages it read."""

    read: int = 0
    handled: int = 0  # moved to the handled folder
    kept: int = 0  # moved to the kept folder
    seen_before: int = 0  # stored by an earlier run that did not get to move them
    failed: int = 0  # could not be stored: left where they were


def read_mailbox(db_session: Session, now: datetime) -> Tally | None:
    """The imap job: read the configured mailbox at `now`; None when no mailbox is set.

    Raises CannotRun when the server cannot be reached or refuses the login, or when a message
    could not be stored (it stays in the mailbox for the next run).
    """
    settings = settings_from_config(current_app.config)
    if settings is None:
        return None
    with opened(settings) as mailbox:
        tally = read(db_session, mailbox, now)
    if tally.failed:
        raise CannotRun(
            f"{tally.failed} of {tally.read} messages in {settings.folder} could not be stored;"
            " they stay there and are tried again at the next run."
        )
    return tally


def read(db_session: Session, mailbox: Mailbox, now: datetime) -> Tally:
    """Store and file away the messages waiting in the mailbox, a few at a time."""
    tally = Tally()
    uids = mailbox.waiting()
    for start in range(0, len(uids), FETCH_AT_ONCE):
        _read_some(db_session, mailbox, uids[start : start + FETCH_AT_ONCE], now, tally)
    return tally


def _read_some(
    db_session: Session, mailbox: Mailbox, uids: Sequence[bytes], now: datetime, tally: Tally
) -> None:
    """Store the messages, then move each to its folder (after the rows are committed)."""
    settings = mailbox.settings
    filed: dict[str, list[bytes]] = {settings.done_folder: [], settings.kept_folder: []}
    for uid, raw in mailbox.fetch(uids):
        row = _stored(db_session, raw, now, tally)
        if row is not None:
            filed[_folder_of(row, settings, tally)].append(uid)
    for folder, moved in filed.items():
        mailbox.move(moved, folder)


def _stored(db_session: Session, raw: bytes, now: datetime, tally: Tally) -> InboundMessage | None:
    """Return the message's row, stored now or by an earlier run; None if it cannot be stored."""
    tally.read += 1
    try:
        earlier = already_received(db_session, raw)
        if earlier is not None:
            tally.seen_before += 1
            return earlier
        return receive(db_session, raw, now, source="imap")
    except Exception as error:  # receive raises only when the row cannot be stored
        db_session.rollback()
        tally.failed += 1
        log.warning("an inbound message stays in the mailbox, not stored: %r", error)
        return None


def _folder_of(row: InboundMessage, settings: Settings, tally: Tally) -> str:
    """Return the folder a stored message goes to, and count it."""
    if row.outcome == InboundOutcome.KEPT:
        tally.kept += 1
        return settings.kept_folder
    tally.handled += 1
    return settings.done_folder


def already_received(db_session: Session, raw: bytes) -> InboundMessage | None:
    """Return the row of a message stored before: the same size and Message-ID, or, without a
    Message-ID, the same bytes."""
    message_id = _message_id(raw)
    query = select(InboundMessage).where(InboundMessage.size == len(raw))
    if message_id:
        query = query.where(InboundMessage.header_message_id == message_id)
    else:
        query = query.where(InboundMessage.raw == raw)
    return db_session.scalars(query.order_by(InboundMessage.id).limit(1)).first()


def _message_id(raw: bytes) -> str | None:
    """Return the message's Message-ID header as the core stores it, if it has one."""
    headers = BytesHeaderParser(policy=compat32).parsebytes(raw)
    value = headers.get("Message-ID")
    return str(value).strip() or None if value is not None else None
