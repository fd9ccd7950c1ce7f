"""Building blocks for the outbox tests: participants and queued mail."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from campaign.enrolment.models import Participant, ParticipantStatus
from campaign.outbox.compose import Footer, render
from campaign.outbox.models import MessageKind
from campaign.outbox.queue import enqueue
from campaign.outbox.unsubscribe import list_headers
from tests.conftest import Network

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
        source_key=f"p:{person.id}:seq:welcome/{step}",
        recipient=person.email,
        kind=MessageKind.SEQUENCE_STEP,
        rendered=rendered,
        due_at=due_at,
        sender=SENDER,
        headers=list_headers(person, BASE_URL, SENDER),
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
    for n in range(count):
        enqueue(
            session,
            source_key=f"{prefix}:{n}",
            recipient=f"{prefix}{n}@alpha.se",
            kind=MessageKind.ANNOUNCEMENT,
            rendered=rendered,
            due_at=due_at,
            sender=SENDER,
            campaign_id=campaign_id,
        )
