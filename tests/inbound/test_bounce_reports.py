"""Reading delivery reports: the samples of tests/data/inbound/, and reports bent out of shape."""

from __future__ import annotations

import email
import email.policy
from email.message import Message

import pytest

from campaign.inbound.reports import Failure, Severity, delivery_status, failures_of, status_in
from tests.inbound.conftest import sample

ANNA = "anna.berg@alpha.se"


def _parsed(data: bytes) -> Message:
    return email.message_from_bytes(data, policy=email.policy.compat32)


def _sample(name: str) -> bytes:
    return sample(name, envelope="bounces+1-0f3a9c5e7d@kungalv.se", message_id="<4e1c@kungalv.se>")


@pytest.mark.parametrize(
    ("name", "severity", "status", "words"),
    [
        ("bounce-rfc3464-hard.eml", Severity.HARD, "5.1.1", "User unknown"),
        ("bounce-rfc3464-delayed.eml", Severity.DELAYED, "4.4.1", ""),
        ("bounce-exchange-ndr.eml", Severity.HARD, "5.1.10", "RecipientNotFound"),
        ("bounce-postfix.eml", Severity.HARD, "5.1.1", "virtual mailbox table"),
        ("bounce-exim.eml", Severity.HARD, "5.1.1", "Recipient address rejected"),
        ("bounce-gmail.eml", Severity.HARD, "5.1.1", "local recipient table"),
        ("bounce-qmail.eml", Severity.HARD, "5.1.1", "550 5.1.1 <anna"),
        ("bounce-soft-mailbox-full.eml", Severity.SOFT, "4.2.2", "Mailbox full"),
    ],
)
def test_each_sample_names_its_recipient_code_and_words(
    name: str, severity: Severity, status: str, words: str
) -> None:
    [failure] = failures_of(_parsed(_sample(name)))
    assert (failure.address, failure.severity, failure.status) == (ANNA, severity, status)
    assert words in failure.diagnostic
    assert status in failure.reason


def test_office_365_text_without_its_dsn_part_falls_to_the_last_resort() -> None:
    """The NDR's human part alone: no detector knows Office 365's words, but the report says
    it is one and gives its code; whose it is comes from the original (VERP)."""
    message = _parsed(_sample("bounce-exchange-ndr.eml"))
    message.set_payload([message.get_payload(0)])
    [failure] = failures_of(message)
    assert failure == Failure("", Severity.HARD, "5.1.10", "550 5.1.10")


def test_a_delivery_status_left_as_text_is_read_block_by_block() -> None:
    raw = _sample("bounce-postfix.eml").replace(
        b"Content-Type: message/delivery-status",
        b"Content-Type: message/delivery-status\nContent-Transfer-Encoding: quoted-printable",
    )
    failures = failures_of(_parsed(raw))
    assert [(f.address, f.status) for f in failures] == [(ANNA, "5.1.1")]


def test_an_unknown_charset_and_broken_mime_do_not_raise() -> None:
    raw = (
        b"From: MAILER-DAEMON@mx.alpha.se\nSubject: Undeliverable: hej\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="x"\n\n'
        b"--x\nContent-Type: text/plain; charset=x-unknown-8\n\n"
        b"Delivery failed: 550 5.7.1 Avvisad \xe5\xe4\xf6\n--x\nContent-Type: message/delivery"
    )
    [failure] = failures_of(_parsed(raw))
    assert (failure.severity, failure.status) == (Severity.HARD, "5.7.1")
    assert "Avvisad åäö" in failure.diagnostic


def test_an_ordinary_letter_is_no_report() -> None:
    raw = "From: anna.berg@alpha.se\nSubject: Fråga\n\nJag ringer från 10.5.1.1, 550 5.1.1.\n"
    assert failures_of(_parsed(raw.encode())) == []


def test_a_delivered_recipient_is_no_failure() -> None:
    raw = _sample("bounce-rfc3464-hard.eml").replace(b"Action: failed", b"Action: delivered")
    raw = raw.replace(b"Status: 5.1.1", b"Status: 2.0.0")
    assert delivery_status(_parsed(raw)) == []


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("550 5.1.1 User unknown", "5.1.1"),
        ("host 198.51.100.5 said: 452 mailbox full", "4.0.0"),
        ("from 192.0.2.4.5.1 via 10.4.2.2", ""),
        ("Status: 4.2.2", "4.2.2"),
        ("version 5.1.10.2", ""),
    ],
)
def test_status_codes_are_not_taken_from_addresses(text: str, status: str) -> None:
    assert status_in(text) == status
