"""The calendar answers of tests/data/inbound/itip-*.eml, filled in for one test's event.

The samples are templates: {uid}, {attendee}, {sequence} and {organiser} stand for what the
test's own invitation says. A placeholder inside a base64 part (Outlook's and Google's calendar
parts, Google's invite.ics) is filled in the decoded text, and the part encoded again as the
client had it.
"""

from __future__ import annotations

import base64
import email
import email.policy
from pathlib import Path

SAMPLES = Path(__file__).parent.parent / "data" / "inbound"


def _replace(data: bytes, values: dict[str, str]) -> bytes:
    """Put the values in for their placeholders."""
    for name, value in values.items():
        data = data.replace(b"{" + name.encode() + b"}", value.encode("utf-8"))
    return data


def filled(name: str, **values: object) -> bytes:
    """Return the sample `name` with its placeholders filled in, in base64 parts too."""
    texts = {key: str(value) for key, value in values.items()}
    message = email.message_from_bytes(
        _replace((SAMPLES / name).read_bytes(), texts), policy=email.policy.compat32
    )
    for part in message.walk():
        if str(part.get("Content-Transfer-Encoding", "")).lower() == "base64":
            decoded = _replace(part.get_payload(decode=True), texts)
            part.set_payload(base64.encodebytes(decoded).decode("ascii"))
    return message.as_bytes()
