"""With no SMTP server configured, mail lands in a Maildir, readable by any mail program."""

from __future__ import annotations

import email
import email.policy
import mailbox
from pathlib import Path

from flask import Flask
from sqlalchemy.orm import Session

from campaign.jobs import tick
from tests.conftest import START, Network
from tests.outbox_helpers import participant, queue_welcome


def test_tick_delivers_to_the_maildir(app: Flask, session: Session, network: Network) -> None:
    assert app.config["CAMPAIGN_SMTP_URL"] is None
    with app.app_context():
        queue_welcome(session, participant(session, network, "asa@alpha.se"), START)
        session.commit()
    assert tick(app, START)["dispatch"] is True
    folder = mailbox.Maildir(Path(app.config["CAMPAIGN_MAILDIR"]), create=False)
    (stored,) = list(folder)
    mail = email.message_from_bytes(stored.as_bytes(), policy=email.policy.default)
    assert mail["Delivered-To"] == "asa@alpha.se"
    assert mail["Subject"] == "Välkommen till provgruppen, Åsa Öberg!"
