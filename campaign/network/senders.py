"""Each member as sender: how its participants see who their mail comes from.

A member may give a From display name, always shown on the campaign's own sending address
(never an address of its own: the campaign's domain is the one that signs and passes DMARC), a
Reply-To at the member, so that an answer reaches a person there, and a small logo for the top
of the HTML mail. The logo is served by the service at an address of the membership's id and the
logo's digest (`logo_path`): a new logo has a new address, so an address can be cached for good,
and the mail carries a link instead of 200 KB in every one of thousands of messages.
"""

from __future__ import annotations

import hashlib
import io
import re
from datetime import datetime
from typing import IO, Any

from email_validator import validate_email
from PIL import Image, UnidentifiedImageError
from PIL.Image import DecompressionBombError
from sqlalchemy.orm import Session

from campaign.audit import record
from campaign.network.models import MemberSender, Membership

MAX_LOGO_BYTES = 200 * 1024
MAX_LOGO_PIXELS = 2000  # on either side: a logo, not a photograph
LOGO_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg"}
_SIGNATURES = {b"\x89PNG\r\n\x1a\n": ("image/png", "PNG"), b"\xff\xd8\xff": ("image/jpeg", "JPEG")}
# Characters that would make a display name read as an address, or break out of the quoted
# name: "Kommun <boss@elsewhere>" must never be possible.
_NOT_IN_NAME = re.compile(r'[@<>"\\]|=\?|[\x00-\x1f\x7f]')
TEXTS = ("display_name", "reply_to")
KEEP = object()  # change_sender: leave the logo as it is
# What Pillow raises for bytes that are no image it can read (a claimed size too, if huge).
NOT_AN_IMAGE = (UnidentifiedImageError, DecompressionBombError, OSError, SyntaxError, ValueError)


class LogoRefused(ValueError):
    """An uploaded logo that is not taken: `reason` is "large" or "type"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_logo(stream: IO[bytes], limit: int = MAX_LOGO_BYTES) -> bytes:
    """Read an upload in chunks, never more than `limit` bytes and one: LogoRefused("large")."""
    chunks, size = [], 0
    while chunk := stream.read(min(64 * 1024, limit + 1 - size) or 1):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise LogoRefused("large")
    return b"".join(chunks)


def logo_type(data: bytes) -> str:
    """Return the media type of a PNG or JPEG logo, judged by its bytes and checked by decoding
    its structure; LogoRefused("type") for anything else."""
    found = next((kind for head, kind in _SIGNATURES.items() if data.startswith(head)), None)
    if found is None:
        raise LogoRefused("type")
    media_type, format_name = found
    try:
        with Image.open(io.BytesIO(data), formats=[format_name]) as image:
            image.verify()
            width, height = image.size
    except NOT_AN_IMAGE as error:
        raise LogoRefused("type") from error
    if not (0 < width <= MAX_LOGO_PIXELS and 0 < height <= MAX_LOGO_PIXELS):
        raise LogoRefused("type")
    return media_type


def name_is_plain(name: str) -> bool:
    """Whether a display name is only a name: nothing that reads as, or makes, an address."""
    return _NOT_IN_NAME.search(name) is None


def reply_address(text: str) -> str:
    """Return a Reply-To address as mail carries it (ASCII, the domain in IDNA); raises
    email_validator.EmailNotValidError for anything else."""
    checked = validate_email(text.strip(), check_deliverability=False, allow_smtputf8=False)
    return str(checked.ascii_email or checked.normalized).lower()


def logo_path(membership_id: int, sender: MemberSender) -> str | None:
    """Return the address (path) of a member's logo, None without one."""
    if not sender.logo_digest or sender.logo_type not in LOGO_EXTENSIONS:
        return None
    extension = LOGO_EXTENSIONS[sender.logo_type]
    return f"/logos/{membership_id}/{sender.logo_digest[:16]}.{extension}"


def change_sender(
    db_session: Session,
    membership: Membership,
    changes: dict[str, Any],
    actor: Any,
    now: datetime,
) -> list[str]:
    """Apply a member's sender settings (display_name, reply_to, and logo: bytes, None to
    remove it, KEEP); audit and return the names of what changed. The caller commits."""
    sender = membership.sender or MemberSender(updated_at=now, display_name="", reply_to="")
    changed = [name for name in TEXTS if getattr(sender, name) != changes[name]]
    for name in changed:
        setattr(sender, name, changes[name])
    if changes.get("logo", KEEP) is not KEEP and _set_logo(sender, changes["logo"]):
        changed.append("logo")
    if changed:
        sender.updated_at = now
        membership.sender = sender
        _audit(db_session, membership, changed, actor, now)
    return changed


def _set_logo(sender: MemberSender, data: bytes | None) -> bool:
    """Put a checked logo (or none) in place; return whether it changed."""
    digest = hashlib.sha256(data).hexdigest() if data else None
    if digest == sender.logo_digest:
        return False
    sender.logo = data
    sender.logo_type = logo_type(data) if data else None
    sender.logo_digest = digest
    return True


def _audit(
    db_session: Session, membership: Membership, changed: list[str], actor: Any, now: datetime
) -> None:
    """Record who changed the member's sender settings, and which of them."""
    organisation = membership.organisation
    record(
        db_session, actor, "member.sender_changed", now=now,
        campaign_id=membership.campaign_id, organisation_id=organisation.id,
        target=organisation.slug, fields=changed,
    )  # fmt: skip
