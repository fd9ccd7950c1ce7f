"""Bounces end to end: mail queued and sent by the real dispatcher to a real SMTP server, its
delivery report received as an MTA's pipe hands it over, and what that changes (or not)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.audit import AuditEvent
from campaign.enrolment import details
from campaign.enrolment.lifecycle import BOUNCED_ANSWER, erase
from campaign.enrolment.models import Participant, ParticipantStatus
from campaign.outbox import verp
from campaign.outbox.dispatch import settings_from_config
from campaign.outbox.inbound import InboundKind, InboundMessage, InboundOutcome
from campaign.outbox.models import Message, MessageState, Suppression, SuppressionReason
from campaign.outbox.queue import suppress
from campaign.report.figures import compute
from campaign.timing import FixedClock, clock_of
from tests.conftest import START, Network, sign_in
from tests.outbox_helpers import participant, queue_welcome
from tests.urls import staff

Receive = Callable[..., InboundMessage]
ANNA = "anna.berg@alpha.se"
HARD = [
    ("bounce-rfc3464-hard.eml", "5.1.1"),
    ("bounce-exchange-ndr.eml", "5.1.10"),
    ("bounce-postfix.eml", "5.1.1"),
    ("bounce-exim.eml", "5.1.1"),
    ("bounce-gmail.eml", "5.1.1"),
    ("bounce-qmail.eml", "5.1.1"),
]


@dataclass
class Sent:
    person: Participant
    messages: list[Message]  # those sent, in step order
    envelopes: list[str]  # the envelope sender (VERP) each went out with
    later: Message  # a step not due yet


def _clock(app: Flask) -> FixedClock:
    clock = clock_of(app)
    assert isinstance(clock, FixedClock)
    return clock


@pytest.fixture
def sent(app: Flask, session: Session, network: Network, sink, send_due) -> Callable[..., Sent]:  # type: ignore[no-untyped-def]
    """Enrol someone, send them `steps` mails now through the dispatcher, queue one for later."""
    server, _ = sink

    def sending(email: str = ANNA, steps: int = 1) -> Sent:
        with app.app_context():
            person = participant(session, network, email, name="Anna Berg")
            for step in range(1, steps + 1):
                queue_welcome(session, person, START, step=f"0{step}")
            later = queue_welcome(session, person, START + timedelta(days=30), step="09")
            session.commit()
        assert send_due().sent == steps
        by_id = {r.message_id: r.sender for r in server.received}
        rows = session.scalars(
            select(Message).where(Message.state == MessageState.SENT).order_by(Message.id)
        ).all()
        return Sent(
            person, list(rows), [by_id[m.message_id] for m in rows], session.get(Message, later)
        )

    return sending


def _received(
    receive_file: Receive, name: str, sent: Sent, n: int = 0, **fill: str
) -> InboundMessage:
    envelope = fill.pop("envelope", sent.envelopes[n])
    fill.setdefault("message_id", sent.messages[n].message_id)
    return receive_file(name, envelope_to=envelope, envelope=envelope, **fill)


def _suppression(session: Session, email: str = ANNA) -> Suppression | None:
    return session.scalar(select(Suppression).where(Suppression.email == email))


def _unchanged(session: Session, sent: Sent) -> None:
    session.expire_all()
    assert sent.person.status is ParticipantStatus.ACTIVE
    assert sent.messages[0].state is MessageState.SENT
    assert sent.later.state is MessageState.QUEUED
    assert _suppression(session) is None


@pytest.mark.parametrize(("name", "status"), HARD)
def test_a_hard_bounce_fails_the_message_suppresses_and_stops_the_person(
    session: Session, sent: Callable[..., Sent], receive_file: Receive, name: str, status: str
) -> None:
    mail = sent()
    row = _received(receive_file, name, mail)
    session.expire_all()
    assert (row.kind, row.outcome, row.needs_attention) == (
        InboundKind.HARD_BOUNCE,
        InboundOutcome.APPLIED,
        False,
    )
    assert (row.participant_id, row.outbox_message_id) == (mail.person.id, mail.messages[0].id)
    assert status in row.detail
    assert mail.messages[0].state is MessageState.FAILED
    assert mail.messages[0].last_answer.startswith(f"bounced: 550 {status}")
    assert mail.person.status is ParticipantStatus.BOUNCED
    assert (mail.later.state, mail.later.last_answer) == (MessageState.CANCELLED, BOUNCED_ANSWER)
    suppression = _suppression(session)
    assert suppression is not None and suppression.reason is SuppressionReason.HARD_BOUNCE
    assert status in suppression.detail
    audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "participant.bounced"))
    [event] = audit.all()
    assert event.target == f"participant:{mail.person.id}" and ANNA not in str(event.details)


def test_a_bounced_person_gets_nothing_more_from_the_dispatcher(
    app: Flask, session: Session, sent: Callable[..., Sent], receive_file: Receive, send_due
) -> None:  # type: ignore[no-untyped-def]
    mail = sent()
    _received(receive_file, "bounce-postfix.eml", mail)
    with app.app_context():
        queue_welcome(session, mail.person, START, step="05")
        session.commit()
    _clock(app).advance(timedelta(days=31))
    report = send_due()
    assert report.sent == 0


@pytest.mark.parametrize("name", ["bounce-exim.eml", "bounce-postfix.eml"])
def test_the_message_id_is_enough_when_the_report_comes_to_the_plain_sender(
    session: Session, sent: Callable[..., Sent], receive_file: Receive, name: str
) -> None:
    """Postfix returns the original's headers as a part; Exim quotes them in its text."""
    mail = sent()
    row = _received(receive_file, name, mail, envelope="kampanj@example.org")
    session.expire_all()
    assert row.outbox_message_id == mail.messages[0].id and row.outcome is InboundOutcome.APPLIED
    assert mail.person.status is ParticipantStatus.BOUNCED


def test_with_no_message_of_ours_a_participants_address_is_enough(
    session: Session, network: Network, sent: Callable[..., Sent], receive_file: Receive
) -> None:
    mail = sent()
    row = _received(
        receive_file, "bounce-gmail.eml", mail, envelope="kampanj@example.org", message_id="<x@y>"
    )
    session.expire_all()
    assert row.outbox_message_id is None and row.participant_id == mail.person.id
    assert row.campaign_id == network.campaign.id and row.organisation_id == network.alpha.id
    assert row.outcome is InboundOutcome.APPLIED
    assert mail.person.status is ParticipantStatus.BOUNCED
    assert mail.messages[0].state is MessageState.SENT  # which one bounced is not known


@pytest.mark.parametrize("key", [b"someone else's key", None])
def test_a_forged_or_unknown_token_changes_nothing_and_is_kept(
    app: Flask,
    session: Session,
    sent: Callable[..., Sent],
    receive_file: Receive,
    key: bytes | None,
) -> None:
    mail = sent()
    settings = settings_from_config(app.config)
    template = verp.default_template("kampanj@example.org")
    if key is None:  # genuine, but for a message that does not exist
        envelope = verp.return_path(mail.later.id + 100, template, settings.verp_key)
    else:
        envelope = verp.return_path(mail.messages[0].id, template, key)
    row = _received(receive_file, "bounce-postfix.eml", mail, envelope=envelope, message_id="<x@y>")
    assert (row.kind, row.outcome, row.needs_attention) == (
        InboundKind.HARD_BOUNCE,
        InboundOutcome.KEPT,
        True,
    )
    assert row.participant_id is None and row.outbox_message_id is None
    _unchanged(session, mail)


def test_a_report_naming_another_address_than_the_message_is_kept(
    session: Session, sent: Callable[..., Sent], receive_file: Receive
) -> None:
    mail = sent(email="bo.ek@alpha.se")
    row = _received(receive_file, "bounce-rfc3464-hard.eml", mail)
    assert (row.outcome, row.needs_attention) == (InboundOutcome.KEPT, True)
    session.expire_all()
    assert mail.person.status is ParticipantStatus.ACTIVE
    assert _suppression(session) is None and _suppression(session, "bo.ek@alpha.se") is None


def test_a_delayed_notice_changes_nothing_but_is_shown(
    session: Session, sent: Callable[..., Sent], receive_file: Receive
) -> None:
    mail = sent()
    row = _received(receive_file, "bounce-rfc3464-delayed.eml", mail)
    assert (row.kind, row.outcome, row.needs_attention) == (
        InboundKind.DELAYED,
        InboundOutcome.RECORDED,
        False,
    )
    assert row.detail == "4.4.1" and row.participant_id == mail.person.id
    _unchanged(session, mail)


def test_three_soft_bounces_within_14_days_make_a_hard_one(
    app: Flask, session: Session, sent: Callable[..., Sent], receive_file: Receive
) -> None:
    mail = sent(steps=3)
    outcomes = []
    for n, days in enumerate((1, 6, 13)):
        _clock(app).set(START + timedelta(days=days))
        row = _received(receive_file, "bounce-soft-mailbox-full.eml", mail, n)
        outcomes.append((row.kind, row.outcome))
        if n < 2:
            _unchanged(session, mail)
    assert outcomes == [(InboundKind.SOFT_BOUNCE, InboundOutcome.RECORDED)] * 2 + [
        (InboundKind.SOFT_BOUNCE, InboundOutcome.APPLIED)
    ]
    session.expire_all()
    assert mail.person.status is ParticipantStatus.BOUNCED
    assert mail.messages[2].state is MessageState.FAILED
    assert "3 soft bounces within 14 days" in mail.messages[2].last_answer
    assert [m.state for m in mail.messages[:2]] == [MessageState.SENT] * 2
    assert _suppression(session) is not None and mail.later.state is MessageState.CANCELLED


def test_soft_bounces_further_apart_are_only_counted(
    app: Flask, session: Session, sent: Callable[..., Sent], receive_file: Receive
) -> None:
    mail = sent(steps=3)
    for n, days in enumerate((1, 10, 16)):
        _clock(app).set(START + timedelta(days=days))
        row = _received(receive_file, "bounce-soft-mailbox-full.eml", mail, n)
        assert row.outcome is InboundOutcome.RECORDED
    _unchanged(session, mail)


def test_a_report_about_an_erased_person_applies_nothing(
    app: Flask, session: Session, sent: Callable[..., Sent], receive_file: Receive
) -> None:
    mail = sent()
    with app.app_context():
        erase(session, mail.person, None, START)
        session.commit()
    row = _received(receive_file, "bounce-exchange-ndr.eml", mail)
    assert (row.outcome, row.detail) == (InboundOutcome.ERASED, "5.1.10")
    session.expire_all()
    assert session.scalars(select(Suppression)).all() == []
    assert mail.person.status is ParticipantStatus.ERASED


def test_the_list_and_the_page_say_bounced_in_swedish_to_the_member_only(
    app: Flask,
    session: Session,
    network: Network,
    sent: Callable[..., Sent],
    receive_file: Receive,
) -> None:
    mail = sent()
    _received(receive_file, "bounce-postfix.eml", mail)
    alpha, beta = app.test_client(), app.test_client()
    sign_in(alpha, "rep@alpha.se")
    sign_in(beta, "rep@beta.se")
    listed = alpha.get(staff("/organisations/alpha/participants")).get_data(as_text=True)
    assert "Studsar sedan 3 mars 2014 kl. 10.00" in listed
    page = alpha.get(staff(f"/organisations/alpha/participants/{mail.person.id}"))
    text = page.get_data(as_text=True)
    assert "E-postservern svarade att adressen inte kan ta emot e-post" in text
    assert "User unknown in virtual mailbox table" in text
    filtered = alpha.get(staff("/organisations/alpha/participants?status=bounced"))
    assert "Anna Berg" in filtered.get_data(as_text=True)
    assert beta.get(staff(f"/organisations/alpha/participants/{mail.person.id}")).status_code == 404
    assert "Anna Berg" not in beta.get(staff("/organisations/beta/participants")).get_data(
        as_text=True
    )


def test_the_dashboard_counts_the_bounced_apart_and_the_soft_bounces(
    app: Flask,
    session: Session,
    network: Network,
    sent: Callable[..., Sent],
    receive_file: Receive,
) -> None:
    mail = sent(steps=2)
    _received(receive_file, "bounce-soft-mailbox-full.eml", mail, 0)
    _received(receive_file, "bounce-gmail.eml", mail, 1)
    with app.app_context():
        figures = compute(session, network.campaign, START + timedelta(hours=1))
    [alpha] = [m for m in figures.members if m.organisation.slug == "alpha"]
    assert (alpha.participants, alpha.by_status, alpha.soft_bounces) == (0, {"bounced": 1}, 1)
    client: FlaskClient = app.test_client()
    sign_in(client, "rep@alpha.se")
    board = client.get(staff("/organisations/alpha/dashboard")).get_data(as_text=True)
    assert "Studsar" in board and "Tillfälliga studsar" in board


def test_a_corrected_address_makes_the_person_active_and_lifts_only_its_bounce(
    app: Flask, session: Session, network: Network, sent: Callable[..., Sent], receive_file: Receive
) -> None:
    mail = sent()
    _received(receive_file, "bounce-postfix.eml", mail)
    with app.app_context():
        person = session.get(Participant, mail.person.id)
        new = details.Details("anna.berg2@alpha.se", person.name, person.title, person.language)
        details.change(session, person, new, network.rep_alpha, START)
        session.commit()
    session.expire_all()
    assert person.status is ParticipantStatus.ACTIVE and _suppression(session) is None
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "participant.readdressed"))


def test_a_corrected_address_keeps_an_unsubscription_of_the_old_one(
    app: Flask, session: Session, network: Network, sent: Callable[..., Sent], receive_file: Receive
) -> None:
    mail = sent()
    with app.app_context():
        suppress(session, ANNA, SuppressionReason.UNSUBSCRIBED, "link", START)
        session.commit()
    _received(receive_file, "bounce-postfix.eml", mail)
    with app.app_context():
        person = session.get(Participant, mail.person.id)
        assert person.status is ParticipantStatus.BOUNCED
        new = details.Details("anna.berg2@alpha.se", person.name, person.title, person.language)
        details.change(session, person, new, network.rep_alpha, START)
        session.commit()
    suppression = _suppression(session)
    assert suppression is not None and suppression.reason is SuppressionReason.UNSUBSCRIBED


def test_an_address_refused_while_sending_makes_the_person_bounced_too(
    app: Flask, session: Session, network: Network, sink, send_due
) -> None:  # type: ignore[no-untyped-def]
    """The dispatcher's own 5xx (no report comes back) ends as a later report does."""
    server, _ = sink
    server.rcpt_answers = {ANNA: ["550 5.1.1 No such user"]}
    with app.app_context():
        person = participant(session, network, ANNA)
        queue_welcome(session, person, START)
        later = queue_welcome(session, person, START + timedelta(days=30), step="09")
        session.commit()
    assert send_due().failed == 1
    session.expire_all()
    assert person.status is ParticipantStatus.BOUNCED
    assert session.get(Message, later).state is MessageState.CANCELLED
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "participant.bounced"))
    assert event is not None and event.details == {"status": "550"}
