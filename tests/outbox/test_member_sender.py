"""Each member as sender, as mail arrives: a real SMTP delivery of every kind of participant
mail, parsed back with the email package; staff mail keeps the campaign's sender; no From can
carry a foreign domain; DKIM still covers From (and Reply-To)."""

from __future__ import annotations

import base64
import subprocess
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parseaddr

import dkim
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.enrolment import joining
from campaign.enrolment.mail import addressee_of
from campaign.events import invitations
from campaign.outbox.compose import Rendered, compose, on_own_address
from campaign.outbox.mail import Sender, queue_participant_mail, queue_test_mail
from campaign.outbox.models import Message, MessageKind
from campaign.outbox.queue import enqueue
from campaign.outbox.signing import dkim_sign
from campaign.outbox.texts import Letter
from tests.conftest import START, Network
from tests.enrolment_helpers import deliver, group, make_event
from tests.outbox_helpers import participant
from tests.sender_helpers import give_sender, image_bytes

NAME = "Alpha kommun – Resfria möten"
CAMPAIGN_ADDRESS = "kampanj@example.org"  # the test app's CAMPAIGN_MAIL_FROM


def _from(mail: EmailMessage) -> tuple[str, str]:
    address = mail["From"].addresses[0]
    return address.display_name, address.addr_spec


def _html(mail: EmailMessage) -> str:
    return str(mail.get_body(preferencelist=("html",)).get_content())  # type: ignore[union-attr]


def _text(mail: EmailMessage) -> str:
    return str(mail.get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]


def _queue_all(app: Flask, session: Session, network: Network) -> None:
    """Queue a step-like mail to an Alpha and a Beta participant, a meeting invitation to an
    Alpha group, a join confirmation for Alpha, and a test mail to Alpha's representative."""
    with app.app_context():
        alpha_group = group(session, network)
        anna = participant(session, network, "anna@alpha.se", name="Anna")
        anna.pilot_group_id = alpha_group.id
        bo = participant(session, network, "bo@beta.se", name="Bo", org="beta")
        letter = Letter("Hej {{ name }}", "Hej {{ name }}!\n\nVälkommen.", "test")
        for person in (anna, bo):
            queue_participant_mail(
                session, addressee_of(session, person), letter, {"name": person.name},
                kind=MessageKind.SEQUENCE_STEP, source_key=f"p:{person.id}:seq:x/01",
                due_at=START, now=START,
            )  # fmt: skip
        invitations.invite(session, make_event(session, network, alpha_group), START)
        joining.open_link(alpha_group)
        applicant = joining.Applicant("jo@alpha.se", "Jo", "", "sv", "127.0.0.1", "sv")
        joining.request_confirmation(session, alpha_group, applicant, START)
        queue_test_mail(session, network.rep_alpha, START, network.campaign.id)
        session.commit()


def test_every_participant_mail_of_a_member_comes_from_its_name_on_the_campaigns_address(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    alpha = give_sender(session, network, name=NAME, logo=image_bytes())
    session.commit()
    assert alpha.sender is not None and alpha.sender.logo_digest
    logo = f"http://127.0.0.1:5000/logos/{alpha.id}/{alpha.sender.logo_digest[:16]}.png"
    _queue_all(app, session, network)
    deliver(app, session, transport)
    mails = {r.recipients[0]: r.parsed() for r in server.received}
    kinds = {m.recipient: m.kind for m in session.scalars(select(Message))}
    anna_mails = [r.parsed() for r in server.received if r.recipients == ["anna@alpha.se"]]
    assert len(anna_mails) == 2  # the step and the meeting invitation
    for mail in (*anna_mails, mails["jo@alpha.se"]):
        assert _from(mail) == (NAME, CAMPAIGN_ADDRESS)
        assert [a.addr_spec for a in mail["Reply-To"].addresses] == ["kontakt@alpha.se"]
        assert f'<img src="{logo}" alt="Alpha kommun"' in _html(mail)
        assert "logos" not in _text(mail)  # the plain text part is as before
    assert kinds["jo@alpha.se"] is MessageKind.CONFIRMATION
    # Beta chose nothing; Alpha's representative is staff: both get the campaign's sender.
    for address in ("bo@beta.se", "rep@alpha.se"):
        assert _from(mails[address]) == ("Kampanj", CAMPAIGN_ADDRESS)
        assert mails[address]["Reply-To"] is None and "<img" not in _html(mails[address])


def test_no_from_can_carry_a_foreign_domain(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    """A row whose stored From names another address still goes out on the campaign's own
    address (its name kept); the Sender given by the layer above never writes one."""
    server, transport = sink
    with app.app_context():
        person = participant(session, network, "anna@alpha.se")
        mail = Sender("Chefen").headers("Kampanj <kampanj@example.org>")
        assert parseaddr(mail["From"]) == ("Chefen", CAMPAIGN_ADDRESS)
        enqueue(
            session, now=START, source_key="forged", recipient=person.email,
            kind=MessageKind.SEQUENCE_STEP, rendered=Rendered("Hej", "Hej", "<p>Hej</p>"),
            due_at=START, sender="Kampanj <kampanj@example.org>",
            headers={"From": "Chefen <boss@elsewhere.example>"}, participant_id=person.id,
            campaign_id=person.campaign_id, organisation_id=person.organisation_id,
        )  # fmt: skip
        session.commit()
    deliver(app, session, transport)
    (received,) = server.received
    parsed = received.parsed()
    assert _from(parsed) == ("Chefen", CAMPAIGN_ADDRESS)
    assert b"elsewhere.example" not in received.data
    assert on_own_address("", "Kampanj <k@example.org>") == "Kampanj <k@example.org>"
    assert on_own_address("x@evil.example", "Kampanj <k@example.org>") == "Kampanj <k@example.org>"


def _key_pair() -> tuple[bytes, bytes]:
    private = subprocess.run(["openssl", "genrsa", "2048"], check=True, capture_output=True).stdout
    public = subprocess.run(
        ["openssl", "rsa", "-pubout", "-outform", "DER"],
        input=private,
        check=True,
        capture_output=True,
    ).stdout
    return private, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


def test_dkim_covers_the_members_from_and_reply_to() -> None:
    private, record = _key_pair()
    data = compose(
        sender="Kampanj <kampanj@kungalv.se>", recipient="anna@alpha.se", subject="Hej",
        text="Hej", html="<p>Hej</p>", message_id="<1@kungalv.se>",
        date=datetime(2014, 3, 3, tzinfo=UTC),
        headers={"From": f'"{NAME}" <kampanj@kungalv.se>', "Reply-To": "kontakt@alpha.se"},
    )  # fmt: skip
    signed = dkim_sign(data, selector="kampanj", domain="kungalv.se", private_key=private)

    def dns(name: bytes, timeout: int = 5) -> bytes:
        return record

    assert dkim.verify(signed, dnsfunc=dns)
    header = signed.split(b"\r\n\r\n", 1)[0].replace(b"\r\n", b"").replace(b" ", b"")
    signed_names = header.split(b"h=", 1)[1].split(b";", 1)[0].lower().split(b":")
    assert b"from" in signed_names and b"reply-to" in signed_names
    forged = signed.replace(b"Reply-To: kontakt@alpha.se", b"Reply-To: thief@evil.example")
    assert not dkim.verify(forged, dnsfunc=dns)
