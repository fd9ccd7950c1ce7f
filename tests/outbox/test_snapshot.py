"""The mail as it goes on the wire, compared with a reviewed snapshot.

After an intended change, run with UPDATE_SNAPSHOTS=1, read the diff of tests/outbox/snapshots/,
and commit it with the change. A missing snapshot fails: it is written only when asked.
"""

from __future__ import annotations

import email
import email.policy
import os
from datetime import UTC, datetime
from pathlib import Path

from campaign.outbox.compose import Footer, compose, render

SNAPSHOTS = Path(__file__).parent / "snapshots"


def readable(data: bytes) -> str:
    """Return the mail with its headers as sent and each part decoded, for a person to review."""
    mail = email.message_from_bytes(data, policy=email.policy.compat32)
    head = data.split(b"\r\n\r\n", 1)[0].decode("ascii")
    parts = [head]
    for part in mail.walk():
        if part.get_content_maintype() == "multipart":
            continue
        headers = "\n".join(f"{k}: {v}" for k, v in part.items())
        parts.append(f"--- part\n{headers}\n\n{part.get_payload(decode=True).decode('utf-8')}")
    return "\n\n".join(parts).replace("\r\n", "\n")


def _check(name: str, data: bytes) -> None:
    path = SNAPSHOTS / name
    text = readable(data)
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{name} has no snapshot: run with UPDATE_SNAPSHOTS=1 and review it"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{name} changed: rerun with UPDATE_SNAPSHOTS=1 and review the diff"


def test_welcome_mail_snapshot() -> None:
    rendered = render(
        "Välkommen till provgruppen, {{ name }}!",
        "Hej {{ name }}!\n\nVälkommen till **provgruppen** för resfria möten.\n\n"
        "- Börja med någon du känner.\n- Testa ljudet före mötet.",
        {"name": "Åsa Öberg"},
        language="sv",
        footer=Footer(
            "Du får det här för att du är med i provgruppen i Öckerö kommun.",
            "https://kampanj.example.se/u/TOKEN",
        ),
    )
    data = compose(
        sender="Kampanj Kungälv <kampanj@kungalv.se>",
        recipient="asa.oberg@ockero.se",
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        message_id="<0123456789abcdef@kungalv.se>",
        date=datetime(2014, 3, 3, 7, 0, tzinfo=UTC),
        headers={
            "List-Unsubscribe": "<https://kampanj.example.se/u/TOKEN>, "
            "<mailto:kampanj@kungalv.se?subject=unsubscribe>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    _check("welcome.txt", data)
