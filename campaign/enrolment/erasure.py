"""What an erasure leaves behind: a tombstone of the address, and nothing else that names it.

The tombstone is a keyed hash of the address (HMAC with the app's secret key), the campaign and
the moment. It lets the service recognise the address when it comes back, without keeping it:
nobody can read an address out of it, nor test one without the secret key. What it stops:

- any link made before the erasure: a self-enrolment request older than the erasure is never
  confirmed, whatever link carries it;
- staff enrolments (an import, the one-person form, a changed address): the person asked to be
  forgotten, and an old list must not undo that; the person can still come back by their own
  act, a self-enrolment request made after the erasure and confirmed from their mailbox.

Rotating the secret key makes old tombstones unrecognisable (they then stop nothing).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from typing import cast as cast_result

from sqlalchemy import CursorResult, String, cast, delete, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from campaign.db import among
from campaign.enrolment.models import ErasedAddress, JoinRequest
from campaign.outbox.models import Message, MessageState
from campaign.outbox.queue import OPEN_STATES
from campaign.security import keyed_hash, keyed_hasher

PURPOSE = "erased-address"


def address_hash(email: str) -> str:
    """The tombstone's keyed hash of an address (case and spaces do not matter)."""
    return keyed_hash(PURPOSE, email.strip().lower())


def leave_tombstone(db_session: Session, campaign_id: int, email: str, now: datetime) -> None:
    """Record that the address was erased from the campaign at `now` (the latest erasure wins)."""
    dialect = postgresql if db_session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(ErasedAddress).values(
        campaign_id=campaign_id, address_hash=address_hash(email), erased_at=now
    )
    db_session.execute(
        statement.on_conflict_do_update(
            index_elements=["campaign_id", "address_hash"],
            set_={"erased_at": statement.excluded.erased_at},
        )
    )


def erased_at(db_session: Session, campaign_id: int, email: str) -> datetime | None:
    """When the address was last erased from the campaign, or None."""
    return db_session.scalar(
        select(ErasedAddress.erased_at).where(
            ErasedAddress.campaign_id == campaign_id,
            ErasedAddress.address_hash == address_hash(email),
        )
    )


def erased_among(db_session: Session, campaign_id: int, emails: Iterable[str]) -> set[str]:
    """The addresses of `emails` that were erased from the campaign."""
    if not _has_tombstones(db_session, campaign_id):
        return set()  # the usual case: no address needs hashing
    hashed = keyed_hasher(PURPOSE)  # address_hash, with the key prepared once
    by_hash = {hashed(email.strip().lower()): email for email in emails}
    found = db_session.scalars(
        select(ErasedAddress.address_hash).where(
            ErasedAddress.campaign_id == campaign_id,
            among(db_session, ErasedAddress.address_hash, by_hash),
        )
    )
    return {by_hash[h] for h in found}


def _has_tombstones(db_session: Session, campaign_id: int) -> bool:
    """Whether anyone was ever erased from the campaign."""
    query = select(ErasedAddress.id).where(ErasedAddress.campaign_id == campaign_id).limit(1)
    return db_session.scalar(query) is not None


def forget_address(db_session: Session, campaign_id: int, participant_id: int, email: str) -> None:
    """Drop the person's self-enrolment requests, confirmed or not, and empty their mails."""
    drop_requests(
        db_session,
        "erased",
        or_(
            JoinRequest.participant_id == participant_id,
            (JoinRequest.campaign_id == campaign_id) & (JoinRequest.email == email),
        ),
    )


def drop_requests(db_session: Session, why: str, condition: ColumnElement[bool]) -> int:
    """Delete the self-enrolment requests matching `condition`; return how many.

    Their confirmation mails keep only kind, state and times (unsent ones are cancelled); the
    source key, which named the address, becomes `join:<why>:<id>`.
    """
    mails = Message.id.in_(
        select(JoinRequest.message_id).where(condition, JoinRequest.message_id.is_not(None))
    )
    _cancel_unsent(db_session, mails, why)
    _empty_mails(db_session, mails, why)
    result = db_session.execute(
        delete(JoinRequest).where(condition).execution_options(synchronize_session=False)
    )
    return cast_result(CursorResult[Any], result).rowcount  # a DELETE gives a cursor result


def _cancel_unsent(db_session: Session, mails: ColumnElement[bool], why: str) -> None:
    """Cancel the mails of `mails` that are not sent yet."""
    db_session.execute(
        update(Message)
        .where(mails, Message.state.in_(OPEN_STATES))
        .values(state=MessageState.CANCELLED, last_answer=f"cancelled: {why}")
        .execution_options(synchronize_session=False)
    )


def _empty_mails(db_session: Session, mails: ColumnElement[bool], why: str) -> None:
    """Keep only kind, state and times of the mails: what named the address goes."""
    db_session.execute(
        update(Message)
        .where(mails)
        .values(
            source_key=literal(f"join:{why}:") + cast(Message.id, String),
            recipient=f"confirmation@{why}.invalid",
            subject="",
            text_body="",
            html_body="",
            headers={},
        )
        .execution_options(synchronize_session=False)
    )
