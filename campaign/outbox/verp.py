"""Each message's own return address (VERP): a bounce names the exact message it is about.

The envelope sender of every mail is the configured template with a token in place of
`{token}`, e.g. `bounces+1f3a-9c0e52d4b7@kommun.se` (plus addressing). The token is the row id
in hex and an HMAC of it, all lowercase, so that a mail server that folds case keeps it intact
and nobody can make up a token for another message. It carries an id, no personal data.
"""

from __future__ import annotations

import hashlib
import hmac
import re

TAG_LENGTH = 10
_TOKEN = re.compile(rf"([0-9a-f]{{1,12}})-([0-9a-f]{{{TAG_LENGTH}}})")


def default_template(sender_address: str) -> str:
    """Return the return-path template for a sender: `bounces+{token}@` its domain."""
    domain = sender_address.rpartition("@")[2] or "localhost"
    return "bounces+{token}@" + domain


def _tag(row_id: int, key: bytes) -> str:
    """Return the HMAC of a row id, as many hex digits as a token carries."""
    return hmac.new(key, b"verp:%d" % row_id, hashlib.sha256).hexdigest()[:TAG_LENGTH]


def token_of(row_id: int, key: bytes) -> str:
    """Return the token of a message row: its id in hex and the id's tag."""
    return f"{row_id:x}-{_tag(row_id, key)}"


def return_path(row_id: int, template: str, key: bytes) -> str:
    """Return the envelope sender of a message row."""
    return template.replace("{token}", token_of(row_id, key))


def row_id_of(address: str, template: str, key: bytes) -> int | None:
    """Return the message row an address of the template names; None when it names none, or
    its tag is not ours."""
    prefix, _, suffix = template.lower().partition("{token}")
    address = address.strip().strip("<>").lower()
    if not (address.startswith(prefix) and address.endswith(suffix)):
        return None
    found = _TOKEN.fullmatch(address[len(prefix) : len(address) - len(suffix)])
    if found is None:
        return None
    row_id = int(found.group(1), 16)
    return row_id if hmac.compare_digest(found.group(2), _tag(row_id, key)) else None
