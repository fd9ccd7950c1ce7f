"""Building blocks for the outbox tests: participants and queued mail."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.orm import Session

from campaign.enrolment.models import Participant, ParticipantStatus
from campaign.outbox.compose import Footer, new_message_id, render
from campaign.outbox.mail import list_headers
from campaign.outbox.models import Message, MessageKind, MessageState
from campaign.outbox.queue import enqueue
from campaign.outbox.unsubscribe import token_for
from tests.conftest import START, Network

SENDER = "Kampanj Kungälv <kampanj@kungalv.se>"
BASE_URL = "https://kampanj.example.se"


def participant(
    session: Session, network: Network, email: str, name: str = "Åsa Öberg", org: str = "alpha"
) -> Participant:
    organisation = getattr(network, org)
    person = Participant(
        campaign_id=network.campaign.id,
        organisation_id=organisation.id,
        email=email,
        name=name,
        status=ParticipantStatus.ACTIVE,
        starts_on=date(2014, 3, 3),
        created_at=START,
        updated_at=START,
    )
    session.add(person)
    session.flush()
    return person


def queue_welcome(session: Session, person: Participant, due_at: datetime, step: str = "01") -> int:
    """Queue the welcome step for `person` (in an app context: it signs the unsubscribe link)."""
    rendered = render(
        "Välkommen till provgruppen, {{ person.name }}!",
        "Hej {{ person.name }}!\n\nVälkommen till **provgruppen** för resfria möten i Öckerö.",
        {"person": person},
        language="sv",
        footer=Footer("Du får det här för att du är med i provgruppen.", f"{BASE_URL}/u/x"),
    )
    message_id = enqueue(
        session,
        now=START,
        source_key=f"p:{person.id}:seq:welcome/{step}",
        recipient=person.email,
        kind=MessageKind.SEQUENCE_STEP,
        rendered=rendered,
        due_at=due_at,
        sender=SENDER,
        headers=list_headers(f"{BASE_URL}/u/{token_for(person)}", SENDER),
        campaign_id=person.campaign_id,
        organisation_id=person.organisation_id,
        participant_id=person.id,
    )
    assert message_id is not None
    return message_id


def queue_plain(
    session: Session, count: int, campaign_id: int, due_at: datetime, prefix: str = "bulk"
) -> None:
    """Queue `count` small announcements to made-up addresses, without participants."""
    rendered = render(
        "Nyhetsbrev {{ n }}",
        "Hej!\n\nDet här är nyhetsbrev nummer {{ n }}.",
        {"n": 1},
        language="sv",
        footer=Footer("Du är med i provgruppen."),
    )
    # One multi-row INSERT: these tests are about sending, and 20,000 single INSERTs would
    # take longer than the sending they prepare for. The rows are those enqueue() writes.
    session.execute(
        insert(Message),
        [
            {
                "source_key": f"{prefix}:{n}",
                "recipient": f"{prefix}{n}@alpha.se",
                "kind": MessageKind.TEST,
                "subject": rendered.subject,
                "text_body": rendered.text,
                "html_body": rendered.html,
                "headers": {},
                "message_id": new_message_id(SENDER),
                "due_at": due_at,
                "state": MessageState.QUEUED,
                "attempts": 0,
                "campaign_id": campaign_id,
                "created_at": START,
            }
            for n in range(count)
        ],
    )


def worker_process(
    database_url: str, port: int, folder: Path, name: str, lease_seconds: int = 2
) -> subprocess.Popen[bytes]:
    """Start a real `campaign worker` that sends to the SMTP server on `port`; log to a file."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGN_")}
    environment.update(
        CAMPAIGN_DATABASE_URL=database_url,
        CAMPAIGN_SMTP_URL=f"smtp://127.0.0.1:{port}?starttls=off&timeout=5",
        CAMPAIGN_MAIL_FROM=SENDER,
        CAMPAIGN_SECRET_KEY="test-secret-key",
        CAMPAIGN_INSTANCE_PATH=str(folder / "instance"),
        CAMPAIGN_DISPATCH_LEASE_SECONDS=str(lease_seconds),
        CAMPAIGN_DISPATCH_BATCH="100",
    )
    log = (folder / f"{name}.log").open("w")
    return subprocess.Popen(
        [sys.executable, "-m", "campaign", "worker"],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    """Poll `condition` until it holds (True) or `seconds` have passed (False)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False
