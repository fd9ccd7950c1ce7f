"""The inbound core: every message is kept, linked to the message of ours it is about (by the
VERP return address the real dispatcher used, else by Message-ID), applied once, and never lost
or crashed on, whatever its bytes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.cli import main
from campaign.enrolment.lifecycle import erase
from campaign.inbound import classify
from campaign.inbound.receive import TRUNCATED
from campaign.outbox import verp
from campaign.outbox.dispatch import settings_from_config, verp_key
from campaign.outbox.inbound import InboundKind, InboundMessage, InboundOutcome
from campaign.outbox.models import Message
from campaign.timing import clock_of
from tests.conftest import START, Network
from tests.inbound.conftest import sample
from tests.outbox_helpers import participant, queue_welcome

Receive = Callable[..., InboundMessage]


def _sent_one(app: Flask, session: Session, network: Network, sink, send_due) -> Message:  # type: ignore[no-untyped-def]
    with app.app_context():
        person = participant(session, network, "asa.oberg@alpha.se")
        queue_welcome(session, person, START)
        session.commit()
    assert send_due().sent == 1
    return session.scalars(select(Message)).one()


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(InboundMessage)) or 0


def test_each_mail_leaves_with_its_own_return_address_that_leads_back_to_it(
    app: Flask, session: Session, network: Network, sink, send_due, receive_file: Receive
) -> None:  # type: ignore[no-untyped-def]
    server, _ = sink
    message = _sent_one(app, session, network, sink, send_due)
    envelope = server.received[0].sender
    # bounces+<id in hex>-<tag>@ the test app's sender's domain: an id, no personal data
    assert envelope == f"bounces+{message.id:x}-{envelope.split('-')[1].split('@')[0]}@example.org"
    assert "oberg" not in envelope and len(envelope.split("-")[1].split("@")[0]) == 10
    row = receive_file("other-plain-reply.eml", envelope=envelope, in_reply_to="<none@x>")
    assert row.outbox_message_id == message.id
    assert (row.participant_id, row.organisation_id, row.campaign_id) == (
        message.participant_id,
        message.organisation_id,
        message.campaign_id,
    )
    assert row.envelope_to == envelope  # read from Delivered-To, as IMAP gives no envelope
    assert row.from_address == "asa.oberg@alpha.se" and row.subject.startswith("Re: Välkommen")
    assert (row.kind, row.outcome, row.needs_attention) == (
        InboundKind.OTHER,
        InboundOutcome.KEPT,
        True,
    )


def test_a_configured_return_path_is_used_and_a_made_up_token_names_nothing(
    app: Flask, session: Session, network: Network, sink, send_due, receive_file: Receive
) -> None:  # type: ignore[no-untyped-def]
    server, _ = sink
    app.config["CAMPAIGN_RETURN_PATH"] = "kampanj+{token}@kungalv.se"
    message = _sent_one(app, session, network, sink, send_due)
    envelope = server.received[0].sender
    assert envelope.startswith("kampanj+") and envelope.endswith("@kungalv.se")
    settings = settings_from_config(app.config)
    assert verp.row_id_of(envelope.upper(), settings.return_path, settings.verp_key) == message.id
    forged = verp.return_path(message.id, settings.return_path, b"someone else's key")
    row = receive_file("other-plain-reply.eml", envelope=forged, in_reply_to="<none@x>")
    assert row.outbox_message_id is None  # whose it is comes from its From address alone
    assert row.participant_id == message.participant_id  # (campaign/inbound/senders.py)


def test_the_message_id_is_the_fallback(
    app: Flask, session: Session, network: Network, sink, send_due, receive_file: Receive
) -> None:  # type: ignore[no-untyped-def]
    message = _sent_one(app, session, network, sink, send_due)
    row = receive_file(
        "other-plain-reply.eml", envelope="kampanj@kungalv.se", in_reply_to=message.message_id
    )
    assert row.outbox_message_id == message.id


def test_the_same_bytes_twice_are_one_message(
    session: Session, network: Network, receive_file: Receive
) -> None:
    first = receive_file("other-plain-reply.eml", envelope="a@b.se", in_reply_to="<x@y>")
    again = receive_file("other-plain-reply.eml", envelope="a@b.se", in_reply_to="<x@y>")
    assert again.id == first.id and _count(session) == 1


def test_a_handler_that_fails_leaves_the_message_kept_and_its_changes_undone(
    session: Session, network: Network, receive_file: Receive, monkeypatch: pytest.MonkeyPatch
) -> None:
    def half_done(db_session: Session, incoming: object) -> bool:
        network.alpha.name = "Halvgjort"
        raise KeyError("a bug")

    monkeypatch.setattr(classify, "HANDLERS", (half_done,))
    row = receive_file("other-plain-reply.eml", envelope="a@b.se", in_reply_to="<x@y>")
    session.expire_all()
    assert (row.kind, row.outcome, row.needs_attention) == (
        InboundKind.UNREADABLE,
        InboundOutcome.KEPT,
        True,
    )
    assert "KeyError" in row.detail and network.alpha.name != "Halvgjort"
    assert session.get(InboundMessage, row.id) is not None


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff\xfe garbage with no headers at all\r\n",
        b"Subject: =?x-unknown?q?=E5=E4?=\r\nFrom: <<<\r\nContent-Type: text/plain; "
        b"charset=x-unknown\r\n\r\n\xe5\xe4\xf6\r\n",
        b"Content-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nContent-Type: text/plain\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64\r\n",  # no closing boundary
        b"Content-Type: message/rfc822\r\n\r\nMessage-ID: <\r\n",
    ],
)
def test_broken_bytes_are_kept_never_a_crash(
    session: Session, network: Network, receive_bytes: Receive, raw: bytes
) -> None:
    row = receive_bytes(raw)
    session.expire_all()
    assert session.get(InboundMessage, row.id).raw == raw  # type: ignore[union-attr]
    assert row.outcome is InboundOutcome.KEPT and row.size == len(raw)


def test_the_pipe_stores_a_message_and_says_so(
    app: Flask, session: Session, network: Network
) -> None:
    raw = sample("other-plain-reply.eml", envelope="kampanj@kungalv.se", in_reply_to="<x@y>")
    result = CliRunner().invoke(
        main, ["inbound", "--recipient", "kampanj@kungalv.se"], obj=app, input=raw
    )
    assert result.exit_code == 0, result.output
    assert "stored as inbound message" in result.output
    row = session.scalars(select(InboundMessage)).one()
    assert row.source == "pipe" and row.raw == raw


def test_a_message_over_the_limit_is_kept_cut_short_for_a_person(
    app: Flask, session: Session, network: Network
) -> None:
    app.config["CAMPAIGN_INBOUND_MAX_BYTES"] = "1000"
    raw = b"From: a@b.se\r\nSubject: big\r\n\r\n" + b"x" * 5000
    result = CliRunner().invoke(main, ["inbound"], obj=app, input=raw)
    assert result.exit_code == 0, result.output
    row = session.scalars(select(InboundMessage)).one()
    assert row.size == 1000 and row.raw == raw[:1000] and row.detail == TRUNCATED
    assert row.outcome is InboundOutcome.KEPT and row.needs_attention


def test_the_pipe_says_try_again_later_when_nothing_can_be_stored(
    app: Flask, session: Session, network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr("campaign.cli.inbound.receive", broken)
    result = CliRunner().invoke(main, ["inbound"], obj=app, input=b"Subject: x\r\n\r\nx")
    assert result.exit_code == 75 and "could not be stored" in result.output


def test_erasing_a_person_deletes_the_mail_that_came_back_from_them(
    app: Flask, session: Session, network: Network, sink, send_due, receive_file: Receive
) -> None:  # type: ignore[no-untyped-def]
    message = _sent_one(app, session, network, sink, send_due)
    linked = receive_file(
        "other-plain-reply.eml", envelope="x@y.se", in_reply_to=message.message_id
    )
    assert linked.participant_id == message.participant_id
    person = message.participant_id
    with app.app_context():
        from campaign.enrolment.models import Participant

        erase(session, session.get(Participant, person), None, clock_of(app).now())  # type: ignore[arg-type]
        session.commit()
    assert _count(session) == 0


def test_the_verp_key_follows_the_secret_key(app: Flask) -> None:
    first = verp_key(app.config)
    app.config["SECRET_KEY"] = "another"
    assert verp_key(app.config) != first


def test_mail_about_an_erased_person_keeps_no_address_or_words(
    app: Flask, session: Session, network: Network, sink, send_due, receive_file: Receive
) -> None:  # type: ignore[no-untyped-def]
    from campaign.enrolment.models import Participant

    message = _sent_one(app, session, network, sink, send_due)
    with app.app_context():
        erase(session, session.get(Participant, message.participant_id), None, clock_of(app).now())  # type: ignore[arg-type]
        session.commit()
    envelope = sink[0].received[0].sender
    row = receive_file("bounce-postfix.eml", envelope=envelope, message_id=message.message_id)
    session.expire_all()
    assert row.outcome is InboundOutcome.ERASED
    assert (row.raw, row.from_address, row.subject, row.participant_id) == (b"", "", "", None)
