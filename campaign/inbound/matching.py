"""Which of our messages, and whose, a received message is about.

First the return address it came back to: the envelope sender of each mail is the message's
own (VERP), so a report that reaches it names exactly one message even when its body is not
standard. Then a Message-ID of ours: in the headers of the original a report carries, or in
In-Reply-To and References of a reply.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.enrolment.models import Participant
from campaign.inbound.parsed import Incoming, address_of, embedded_headers
from campaign.outbox import verp
from campaign.outbox.compose import envelope_address
from campaign.outbox.dispatch import verp_key
from campaign.outbox.models import Message

_MESSAGE_ID = re.compile(r"<[^<>\s]{1,298}>")
# Where a forwarding server leaves the address a message was delivered to.
ENVELOPE_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To")


def verp_template() -> str:
    """Return the configured return-path template (or the default for the sender)."""
    config = current_app.config
    sender = envelope_address(config["CAMPAIGN_MAIL_FROM"])
    return config.get("CAMPAIGN_RETURN_PATH") or verp.default_template(sender)


def row_by_return_path(db_session: Session, address: str) -> Message | None:
    """Return our message whose return address `address` is, if its token is genuine."""
    if not address:
        return None
    row_id = verp.row_id_of(address, verp_template(), verp_key(current_app.config))
    return None if row_id is None else db_session.get(Message, row_id)


def envelope_candidates(incoming: Incoming) -> Iterator[str]:
    """Yield the addresses the message may have been delivered to, the envelope's first."""
    if incoming.row.envelope_to:
        yield incoming.row.envelope_to
    for name in (*ENVELOPE_HEADERS, "To"):
        for value in incoming.message.get_all(name) or ():
            yield from (
                found.group(0) for found in re.finditer(r"[^\s<>,;\"']+@[^\s<>,;\"']+", str(value))
            )


def message_ids_in(incoming: Incoming) -> Iterator[str]:
    """Yield the Message-IDs the message refers to: its originals' first, then its replies'."""
    for headers in embedded_headers(incoming.message):
        yield from _ids(headers.get_all("Message-ID") or ())
    for name in ("In-Reply-To", "References"):
        yield from _ids(incoming.message.get_all(name) or ())


def _ids(values: Iterable[object]) -> Iterator[str]:
    """Yield each <id> found in header values."""
    for value in values:
        yield from _MESSAGE_ID.findall(str(value))


def original_of(db_session: Session, incoming: Incoming) -> Message | None:
    """Return our message the received one is about, if any can be told."""
    for address in envelope_candidates(incoming):
        found = row_by_return_path(db_session, address)
        if found is not None:
            return found
    for message_id in message_ids_in(incoming):
        found = db_session.scalar(select(Message).where(Message.message_id == message_id))
        if found is not None:
            return found
    return None


def participant_by_address(
    db_session: Session, campaign_id: int | None, address: str
) -> Participant | None:
    """Return the participant with this address (in the campaign, when one is given); None when
    there is none, or several campaigns have one and none is given."""
    address = address.strip().lower()
    if not address:
        return None
    query = select(Participant).where(Participant.email == address).limit(2)
    if campaign_id is not None:
        query = query.where(Participant.campaign_id == campaign_id)
    found = list(db_session.scalars(query))
    return found[0] if len(found) == 1 else None


def sender_of(incoming: Incoming) -> str:
    """Return the bare address the message says it is from."""
    return address_of(incoming.message, "From")
