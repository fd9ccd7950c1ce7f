"""`campaign inbound`: one received message on standard input, for a mail server's pipe.

Postfix (master.cf `pipe` with `argv=campaign inbound --recipient ${original_recipient}`) or
Exim (a `pipe` transport) hands each message over; the exit status tells it what became of it:
0 when it was stored (applied, or kept for a person to read), 75 (EX_TEMPFAIL) when it could not
be stored, so that the mail server keeps it and tries again. Nothing else is ever returned.
"""

from __future__ import annotations

import logging
import sys
from typing import BinaryIO

import click
from sqlalchemy.exc import OperationalError

from campaign import db
from campaign.cli.context import app_of, require_schema
from campaign.cli.failures import TryLater
from campaign.inbound.receive import receive
from campaign.outbox.inbound import InboundMessage
from campaign.timing import current_clock

log = logging.getLogger(__name__)
CHUNK = 1 << 16


@click.command()
@click.option(
    "--recipient",
    default=None,
    help="The envelope recipient (Postfix: ${original_recipient}); else Delivered-To is read.",
)
@click.pass_context
def inbound(ctx: click.Context, recipient: str | None) -> None:
    """Receive one message on standard input (exit 0: stored; 75: try again later)."""
    app = app_of(ctx)
    try:
        require_schema(app)
    except click.ClickException as refusal:
        raise TryLater(refusal.message) from None
    raw, complete = read_limited(sys.stdin.buffer, int(app.config["CAMPAIGN_INBOUND_MAX_BYTES"]))
    with app.app_context():
        row = _stored(raw, recipient, complete)
    click.echo(f"stored as inbound message {row.id}: {row.kind.value}, {row.outcome.value}")


def _stored(raw: bytes, recipient: str | None, complete: bool) -> InboundMessage:
    """Receive the message; any failure to store it ends the command with EX_TEMPFAIL."""
    try:
        return receive(
            db.session(),
            raw,
            current_clock().now(),
            source="pipe",
            envelope_to=recipient,
            complete=complete,
        )
    except OperationalError:
        raise  # the command group says which database, with EX_TEMPFAIL
    except Exception as error:  # noqa: BLE001 - the mail server must keep the message
        log.exception("inbound message not stored")
        raise TryLater(f"The message could not be stored: {error}.") from None


def read_limited(stream: BinaryIO, limit: int) -> tuple[bytes, bool]:
    """Read a stream in chunks: up to `limit` bytes are kept, the rest read and dropped (the
    writer must not block). Return the bytes and whether they are the whole message."""
    kept = bytearray()
    complete = True
    while chunk := stream.read(CHUNK):
        room = limit - len(kept)
        if len(chunk) > room:
            complete = False
        kept += chunk[: max(room, 0)]
    return bytes(kept), complete
