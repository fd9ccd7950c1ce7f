"""Building blocks for the tests of each member as sender: logos, and Alpha with one."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.network.models import Membership
from campaign.network.senders import change_sender, logo_path
from tests.conftest import START, Network


def image_bytes(kind: str = "PNG", size: tuple[int, int] = (120, 40)) -> bytes:
    """Return a small real image of this format."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (11, 46, 79)).save(buffer, format=kind)
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """Return a small PNG whose header claims this size (a decompression bomb, when large)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = chunk(b"IDAT", zlib.compress(b"\0" * 100))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + pixels + chunk(b"IEND", b"")


def membership(session: Session, network: Network, org: str = "alpha") -> Membership:
    """Return the member's membership of the network's campaign."""
    organisation = getattr(network, org)
    return session.scalars(
        select(Membership).where(
            Membership.campaign_id == network.campaign.id,
            Membership.organisation_id == organisation.id,
        )
    ).one()


def give_sender(
    session: Session,
    network: Network,
    org: str = "alpha",
    name: str = "Alpha kommun – Resfria möten",
    reply_to: str = "kontakt@alpha.se",
    logo: bytes | None = None,
) -> Membership:
    """Set a member's sender (the caller commits)."""
    row = membership(session, network, org)
    changes = {"display_name": name, "reply_to": reply_to, "logo": logo}
    change_sender(session, row, changes, None, START)
    session.flush()
    return row


def sender_objects(session: Session, network: Network) -> dict[str, str]:
    """Give Alpha a logo; return the parts of its address, by URL parameter."""
    row = give_sender(session, network, logo=image_bytes())
    session.commit()
    assert row.sender is not None
    path = logo_path(row.id, row.sender)
    assert path is not None
    membership_id, logo_file = path.split("/")[2:]
    return {"membership_id": membership_id, "logo_file": logo_file}
