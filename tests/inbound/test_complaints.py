"""An abuse report (ARF, RFC 5965) unsubscribes the person it concerns, suppresses their address
as a complaint, and tells the lead administrators by a mail that names nobody."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.audit import AuditEvent
from campaign.enrolment.lifecycle import erase
from campaign.enrolment.models import Participant, ParticipantStatus
from campaign.inbound.complaints import Feedback, feedback_of
from campaign.inbound.parsed import parse
from campaign.outbox.inbound import InboundKind, InboundMessage, InboundOutcome
from campaign.outbox.models import (
    Message,
    MessageKind,
    MessageState,
    Suppression,
    SuppressionReason,
)
from tests.conftest import START, Network
from tests.inbound.conftest import sample
from tests.outbox_helpers import participant, queue_welcome

Receive = Callable[..., InboundMessage]


@pytest.fixture
def anna(app: Flask, session: Session, network: Network) -> Message:
    """Anna of Alpha, with two mails queued: the welcome and the next step."""
    with app.app_context():
        person = participant(session, network, "anna@alpha.se", name="Anna Andersson")
        message = session.get(Message, queue_welcome(session, person, START))
        queue_welcome(session, person, START, step="02")
        session.commit()
    assert message is not None
    return message


def _notices(session: Session) -> list[Message]:
    return list(session.scalars(select(Message).where(Message.kind == MessageKind.NOTICE)))


def test_the_report_is_read_as_rfc_5965_writes_it() -> None:
    report = parse(sample("arf-abuse.eml", message_id="<x@example.org>"))
    assert feedback_of(report) == Feedback(
        "abuse", "anna@alpha.se", "bounces+2e-0f9e8d7c6b@example.org"
    )
    assert feedback_of(parse(sample("auto-rfc3834.eml"))) is None
    assert feedback_of(parse(sample("other-human-reply.eml"))) is None


def test_an_abuse_report_unsubscribes_and_suppresses_the_person_and_tells_the_lead(
    session: Session, network: Network, anna: Message, receive_file: Receive
) -> None:
    row = receive_file("arf-abuse.eml", message_id=anna.message_id)
    assert (row.kind, row.outcome, row.needs_attention) == (
        InboundKind.COMPLAINT,
        InboundOutcome.APPLIED,
        True,
    )
    assert (row.participant_id, row.outbox_message_id) == (anna.participant_id, anna.id)
    session.expire_all()
    person = session.get(Participant, anna.participant_id)
    assert person is not None and person.status is ParticipantStatus.UNSUBSCRIBED
    suppression = session.scalars(select(Suppression)).one()
    assert (suppression.email, suppression.reason) == ("anna@alpha.se", SuppressionReason.COMPLAINT)
    states = session.scalars(select(Message.state).where(Message.participant_id == person.id))
    assert set(states) == {MessageState.CANCELLED}
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "participant.unsubscribed")
    ).one()
    assert event.details["how"] == "complaint" and event.campaign_id == network.campaign.id
    (notice,) = _notices(session)
    assert notice.recipient == network.lead.email and notice.user_id == network.lead.id
    assert f"/campaigns/test/inbox/{row.id}" in notice.text_body
    assert "anmält" in notice.subject and "avregistrerad" in notice.text_body
    for personal in ("anna", "Anna", "Andersson"):  # a link to the entry, no personal data
        assert personal not in notice.subject + notice.text_body + notice.html_body


def test_a_report_that_names_no_mail_of_ours_only_notes_whom_it_is_about(
    session: Session, anna: Message, receive_file: Receive
) -> None:
    """Anyone can write a report naming an address: it unsubscribes nobody by itself."""
    row = receive_file("arf-abuse.eml", message_id="<redacted@example.org>")
    assert (row.outcome, row.needs_attention) == (InboundOutcome.KEPT, True)
    assert row.participant_id == anna.participant_id and row.outbox_message_id is None
    session.expire_all()
    assert session.get(Participant, anna.participant_id).status is ParticipantStatus.ACTIVE  # type: ignore[union-attr]
    assert session.scalars(select(Suppression)).all() == []
    (notice,) = _notices(session)
    assert "ingen är avregistrerad" in notice.text_body


def test_a_report_about_nobody_of_ours_is_kept_for_a_person_and_changes_nothing(
    session: Session, network: Network, receive_bytes: Receive
) -> None:
    raw = sample("arf-abuse.eml", message_id="<unknown@example.org>")
    row = receive_bytes(raw.replace(b"anna@alpha.se", b"nobody@elsewhere.example"))
    assert (row.kind, row.outcome, row.needs_attention) == (
        InboundKind.COMPLAINT,
        InboundOutcome.NO_MATCH,
        True,
    )
    assert session.scalars(select(Suppression)).all() == []
    assert _notices(session) == []  # of no campaign: it waits in the lead's inbox


def test_a_not_spam_report_is_kept_and_unsubscribes_nobody(
    session: Session, anna: Message, receive_bytes: Receive
) -> None:
    raw = sample("arf-abuse.eml", message_id=anna.message_id)
    row = receive_bytes(raw.replace(b"Feedback-Type: abuse", b"Feedback-Type: not-spam"))
    assert (row.kind, row.outcome) == (InboundKind.COMPLAINT, InboundOutcome.KEPT)
    session.expire_all()
    assert session.get(Participant, anna.participant_id).status is ParticipantStatus.ACTIVE  # type: ignore[union-attr]
    (notice,) = _notices(session)
    assert "ingen är avregistrerad" in notice.text_body


def test_a_report_about_an_erased_person_applies_nothing(
    app: Flask, session: Session, network: Network, anna: Message, receive_file: Receive
) -> None:
    with app.app_context():
        person = session.get(Participant, anna.participant_id)
        erase(session, person, network.lead, START)
        session.commit()
    row = receive_file("arf-abuse.eml", message_id=anna.message_id)
    assert row.kind is InboundKind.COMPLAINT
    assert row.outcome in (InboundOutcome.ERASED, InboundOutcome.NO_MATCH)
    assert session.scalars(select(Suppression)).all() == []


def test_the_notice_is_in_english_for_an_english_lead(
    session: Session, network: Network, anna: Message, receive_file: Receive
) -> None:
    network.lead.language = "en"
    session.commit()
    receive_file("arf-abuse.eml", message_id=anna.message_id)
    (notice,) = _notices(session)
    assert notice.subject == "A mail of Testöverenskommelsen was reported as spam"
    assert "The recipient is unsubscribed" in notice.text_body
