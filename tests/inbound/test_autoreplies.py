"""Automatic replies are recognised by their headers and change nothing; a delivery report,
though it says Auto-Submitted too, is never taken for one, nor is a person's reply."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.enrolment.models import Participant, ParticipantStatus
from campaign.inbound.autoreplies import auto_reply_signal
from campaign.inbound.parsed import parse
from campaign.outbox.inbound import InboundKind, InboundMessage, InboundOutcome
from campaign.outbox.models import Message, MessageState, Suppression
from tests.conftest import START, Network
from tests.outbox_helpers import participant, queue_welcome

Receive = Callable[..., InboundMessage]

SIGNALS = {
    "auto-outlook-ooo.eml": "Auto-Submitted: auto-generated",
    "auto-rfc3834.eml": "Auto-Submitted: auto-replied (vacation)",
    "auto-precedence.eml": "X-Autoreply: yes",
    "auto-swedish-autosvar.eml": "Precedence: bulk; Subject: Autosvar: Frånvaro - Åter den 17 mars",
}


@pytest.fixture
def anna(app: Flask, session: Session, network: Network) -> Message:
    """Anna of Alpha, and the welcome mail she was sent."""
    with app.app_context():
        person = participant(session, network, "anna@alpha.se", name="Anna Andersson")
        message = session.get(Message, queue_welcome(session, person, START))
        session.commit()
    assert message is not None
    return message


@pytest.mark.parametrize("name", sorted(SIGNALS))
def test_each_kind_of_automatic_reply_is_recorded_and_changes_nothing(
    session: Session, anna: Message, receive_file: Receive, name: str
) -> None:
    row = receive_file(name, message_id=anna.message_id)
    assert (row.kind, row.outcome, row.needs_attention) == (
        InboundKind.AUTO_REPLY,
        InboundOutcome.RECORDED,
        False,
    )
    assert row.detail == SIGNALS[name]
    session.expire_all()
    assert session.get(Participant, anna.participant_id).status is ParticipantStatus.ACTIVE  # type: ignore[union-attr]
    assert session.get(Message, anna.id).state is MessageState.QUEUED  # type: ignore[union-attr]
    assert session.scalar(select(func.count()).select_from(Suppression)) == 0


def test_an_out_of_office_reply_belongs_to_the_person_by_our_message_or_their_address(
    app: Flask, session: Session, network: Network, anna: Message, receive_file: Receive
) -> None:
    outlook = receive_file("auto-outlook-ooo.eml", message_id=anna.message_id)
    assert (outlook.participant_id, outlook.outbox_message_id) == (anna.participant_id, anna.id)
    with app.app_context():
        goran = participant(session, network, "goran.akesson@alpha.se", name="Göran Åkesson")
        session.commit()
    swedish = receive_file("auto-swedish-autosvar.eml")  # names no message of ours
    assert swedish.participant_id == goran.id
    assert (swedish.campaign_id, swedish.organisation_id) == (network.campaign.id, network.alpha.id)
    unknown = receive_file("auto-precedence.eml")  # cecilia@gamma.se takes part nowhere
    assert unknown.participant_id is None and unknown.kind is InboundKind.AUTO_REPLY


DSN = b"""From: Mail Delivery System <MAILER-DAEMON@mx.alpha.se>
To: bounces+2a-4f0c1d9e7b@example.org
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

I'm sorry to have to inform you that your message could not be delivered.
--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.alpha.se

Final-Recipient: rfc822; gone@alpha.se
Action: failed
Status: 5.1.1
--b--
"""


def _headers(*lines: str, sender: str = "someone@alpha.se") -> bytes:
    return ("\n".join((f"From: {sender}", *lines)) + "\n\nText\n").encode()


@pytest.mark.parametrize(
    "raw",
    [
        DSN,
        DSN.replace(b"multipart/report; report-type=delivery-status", b"multipart/mixed"),
        _headers("Auto-Submitted: auto-generated", sender="postmaster@alpha.se"),
        _headers("Subject: Undeliverable: Välkommen", "X-MS-Exchange-Inbox-Rules-Loop: x@y"),
        _headers("Auto-Submitted: no", "Subject: Frånvaro på mötet i morgon?"),
        _headers("Subject: Automatic reply: Välkommen"),  # the subject alone: a weak signal
        _headers("Precedence: list", "Subject: Veckobrev"),
        _headers("X-Autoreply: no"),
        _headers("Auto-Submitted: auto-replied", "Content-Type: text/calendar; method=REPLY"),
    ],
)
def test_reports_calendar_answers_and_people_are_not_automatic_replies(raw: bytes) -> None:
    assert auto_reply_signal(parse(raw)) is None


def test_a_delivery_report_that_says_auto_replied_is_never_recorded_as_one(
    receive_bytes: Receive, receive_file: Receive
) -> None:
    assert receive_bytes(DSN).kind is not InboundKind.AUTO_REPLY
    human = receive_file("other-human-reply.eml", message_id="<not-ours@x>")
    assert (human.kind, human.outcome, human.needs_attention) == (
        InboundKind.OTHER,
        InboundOutcome.KEPT,
        True,
    )


@pytest.mark.parametrize(
    ("lines", "signal"),
    [
        (("Auto-Submitted: auto-notified",), "Auto-Submitted: auto-notified"),
        (("X-Autorespond: Hej",), "X-Autorespond: Hej"),
        (("Precedence: auto_reply",), "Precedence: auto_reply"),
        (
            ("X-MS-Exchange-Inbox-Rules-Loop: anna@alpha.se",),
            "X-MS-Exchange-Inbox-Rules-Loop: anna@alpha.se",
        ),
        (
            ("X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent",),
            "X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent",
        ),
        (
            ("Precedence: junk", "Subject: Out of Office: resfria möten"),
            "Precedence: junk; Subject: Out of Office: resfria möten",
        ),
    ],
)
def test_each_header_that_marks_an_automatic_reply(lines: tuple[str, ...], signal: str) -> None:
    assert auto_reply_signal(parse(_headers(*lines))) == signal
