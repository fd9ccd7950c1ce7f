"""The imap job: read the inbound mailbox, store each message through `receive`, then move it to
the handled folder, or to the kept folder when a person is to read it.

The order never loses or doubles a message: its row is committed before the message is moved,
so a crash in between leaves it in the folder, and the next run's `receive` finds the row by the
SHA-256 of the same bytes and applies nothing again; the message is only moved. A message that
could not be stored stays where it was, untouched; nothing is ever deleted. A message larger
than CAMPAIGN_INBOUND_MAX_BYTES is fetched only that far and kept, cut short, for a person.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy.orm import Session

from campaign.inbound.mailbox import Fetched, Mailbox, Settings, opened, settings_from_config
from campaign.inbound.receive import receive
from campaign.jobs import CannotRun
from campaign.outbox.inbound import InboundMessage, InboundOutcome

log = logging.getLogger(__name__)

FETCH_AT_ONCE = 20  # messages per FETCH, and per move: a crash re-reads at most these
# Wall time one run may spend, well inside the job's lease (three minutes), so that no second
# reader takes the lease over while this one still works.
TIME_BUDGET_SECONDS = 50.0


@dataclass
class Tally:
    """What one run did with the messages it read."""

    read: int = 0
    handled: int = 0  # moved to the handled folder
    kept: int = 0  # moved to the kept folder
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
    """Store and file away the messages waiting in the mailbox, a few at a time, until they
    are done or the run's time budget is spent (the rest wait for the next run)."""
    tally = Tally()
    uids = mailbox.waiting()
    started = time.monotonic()  # wall time on this machine, not the campaign's clock
    for start in range(0, len(uids), FETCH_AT_ONCE):
        if time.monotonic() - started > TIME_BUDGET_SECONDS:
            break
        _read_some(db_session, mailbox, uids[start : start + FETCH_AT_ONCE], now, tally)
    return tally


def _read_some(
    db_session: Session, mailbox: Mailbox, uids: Sequence[str], now: datetime, tally: Tally
) -> None:
    """Store the messages, then move each to its folder (after the rows are committed)."""
    settings = mailbox.settings
    limit = int(current_app.config["CAMPAIGN_INBOUND_MAX_BYTES"])
    filed: dict[str, list[str]] = {settings.done_folder: [], settings.kept_folder: []}
    for fetched in mailbox.fetch(uids, limit):
        row = _stored(db_session, fetched, now, tally)
        if row is not None:
            filed[_folder_of(row, settings, tally)].append(fetched.uid)
    for folder, moved in filed.items():
        mailbox.move(moved, folder)


def _stored(
    db_session: Session, fetched: Fetched, now: datetime, tally: Tally
) -> InboundMessage | None:
    """Return the message's row (stored now, or by an earlier run); None if it cannot be."""
    tally.read += 1
    try:
        return receive(
            db_session, fetched.raw, now, source="imap", complete=fetched.size <= len(fetched.raw)
        )
    except Exception as error:  # noqa: BLE001 - receive raises only when it cannot store
        db_session.rollback()
        tally.failed += 1
        log.warning("inbound message %s stays in the mailbox, not stored: %r", fetched.uid, error)
        return None


def _folder_of(row: InboundMessage, settings: Settings, tally: Tally) -> str:
    """Return the folder a stored message goes to, and count it."""
    if row.outcome == InboundOutcome.KEPT:
        tally.kept += 1
        return settings.kept_folder
    tally.handled += 1
    return settings.done_folder
