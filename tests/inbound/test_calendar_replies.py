"""Calendar answers: the real invitation made by the events code and sent by the real dispatcher
to a real SMTP server (aiosmtpd), answered as Outlook, Google Calendar and Thunderbird answer,
received through `receive`, and applied as the signed RSVP link applies an answer."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask import Flask
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.enrolment.lifecycle import erase, unsubscribe
from campaign.enrolment.models import Participant
from campaign.events import invitations
from campaign.events.models import Event, Invitation, Rsvp
from campaign.outbox.inbound import InboundKind, InboundMessage, InboundOutcome
from campaign.outbox.models import Message, MessageState
from tests.conftest import START, Network, sign_in
from tests.enrolment_helpers import group, make_event
from tests.inbound.itip_samples import filled
from tests.outbox_helpers import participant
from tests.urls import staff

Receive = Callable[..., InboundMessage]
ORGANISER = "rep@alpha.se"


@dataclass
class Sent:
    """What the invitation mail to one person really said: its return address and calendar."""

    envelope: str
    uid: str
    sequence: int
    attendee: str


@dataclass
class Meeting:
    event: Event
    people: list[Participant]
    sent: dict[str, Sent]  # by the address it went to


def _calendar_of(data: bytes) -> Calendar:
    mail = email.message_from_bytes(data, policy=email.policy.default)
    part = next(p for p in mail.walk() if p.get_content_type() == "text/calendar")
    return Calendar.from_ical(part.get_content())


def _sent(received) -> Sent:  # type: ignore[no-untyped-def]
    (item,) = _calendar_of(received.data).walk("VEVENT")
    attendee = str(item["ATTENDEE"]).removeprefix("mailto:")
    return Sent(received.sender, str(item["UID"]), int(item["SEQUENCE"]), attendee)


@pytest.fixture
def meeting(
    app: Flask, session: Session, network: Network, sink, send_due
) -> Callable[..., Meeting]:  # type: ignore[no-untyped-def]
    """A meeting of Alpha's pilot group, its invitations made and really sent."""
    server, _ = sink

    def invited(count: int = 3, capacity: int | None = None) -> Meeting:
        with app.app_context():
            target = group(session, network)
            people = [
                participant(session, network, f"p{n}@alpha.se", name=f"Åsa {n}")
                for n in range(count)
            ]
            for person in people:
                person.pilot_group_id = target.id
            event = make_event(session, network, target, capacity=capacity)
            invitations.invite(session, event, START)
            session.commit()
        send_due()
        sent = {r.recipients[0]: _sent(r) for r in server.received}
        return Meeting(event, people, sent)

    return invited


def _answer(
    receive_bytes: Receive, sample: str, sent: Sent, envelope_to: str = ORGANISER, **fill: object
) -> InboundMessage:
    values = {
        "uid": sent.uid,
        "attendee": sent.attendee,
        "sequence": sent.sequence,
        "organiser": ORGANISER,
    }
    values.update(fill)
    return receive_bytes(filled(sample, **values), envelope_to)


def _rsvp(session: Session, event: Event, person: Participant) -> Rsvp:
    session.expire_all()
    invitation = session.scalar(
        select(Invitation).where(
            Invitation.event_id == event.id, Invitation.participant_id == person.id
        )
    )
    return invitation.rsvp


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        ("itip-outlook-accept.eml", Rsvp.ACCEPTED),
        ("itip-google-accept.eml", Rsvp.ACCEPTED),
        ("itip-google-decline.eml", Rsvp.DECLINED),
        ("itip-thunderbird-tentative.eml", Rsvp.TENTATIVE),
    ],
)
def test_an_answer_from_each_client_updates_the_invitation(
    session: Session, meeting, receive_bytes: Receive, sample: str, expected: Rsvp
) -> None:  # type: ignore[no-untyped-def]
    made = meeting()
    sent = made.sent["p1@alpha.se"]
    assert sent.sequence == 0 and sent.attendee == "p1@alpha.se"
    row = _answer(receive_bytes, sample, sent, attendee="P1@Alpha.SE")  # calendars keep case
    assert (row.kind, row.outcome, row.needs_attention) == (
        InboundKind.CALENDAR_REPLY,
        InboundOutcome.APPLIED,
        False,
    )
    assert row.event_id == made.event.id and row.participant_id == made.people[1].id
    assert row.detail == f"{expected.value.upper()} seq 0"
    assert _rsvp(session, made.event, made.people[1]) is expected
    assert _rsvp(session, made.event, made.people[0]) is Rsvp.PENDING


def test_a_yes_to_a_full_meeting_waits_and_a_no_gives_the_place_to_the_next_in_line(
    session: Session, meeting, receive_bytes: Receive, sink, send_due
) -> None:  # type: ignore[no-untyped-def]
    server, _ = sink
    made = meeting(capacity=1)
    first, second = made.sent["p0@alpha.se"], made.sent["p1@alpha.se"]
    assert (
        _answer(receive_bytes, "itip-outlook-accept.eml", first).outcome is InboundOutcome.APPLIED
    )
    waiting = _answer(receive_bytes, "itip-google-accept.eml", second)
    assert (waiting.outcome, waiting.detail) == (
        InboundOutcome.APPLIED,
        "ACCEPTED seq 0: waitlisted",
    )
    assert _rsvp(session, made.event, made.people[1]) is Rsvp.WAITLISTED

    declined = _answer(receive_bytes, "itip-google-decline.eml", first)
    assert declined.outcome is InboundOutcome.APPLIED
    assert _rsvp(session, made.event, made.people[0]) is Rsvp.DECLINED
    assert _rsvp(session, made.event, made.people[1]) is Rsvp.ACCEPTED
    place = session.scalars(select(Message).where(Message.source_key.contains(":place:"))).one()
    assert place.recipient == "p1@alpha.se" and place.state is MessageState.QUEUED
    server.received.clear()
    send_due()
    assert [r.recipients for r in server.received] == [["p1@alpha.se"]]


def test_an_answer_back_to_the_return_address_is_the_person_of_that_mail(
    session: Session, meeting, receive_bytes: Receive
) -> None:  # type: ignore[no-untyped-def]
    made = meeting()
    sent = made.sent["p2@alpha.se"]
    assert sent.envelope.startswith("bounces+")
    # Exchange answers from the person's primary address, not the one we invited.
    row = _answer(
        receive_bytes, "itip-outlook-accept.eml", sent, sent.envelope, attendee="asa.two@alpha.se"
    )
    assert (row.outcome, row.participant_id) == (InboundOutcome.APPLIED, made.people[2].id)
    assert _rsvp(session, made.event, made.people[2]) is Rsvp.ACCEPTED


def test_an_answer_to_an_older_version_is_recorded_and_flagged_not_applied(
    app: Flask, session: Session, meeting, receive_bytes: Receive
) -> None:  # type: ignore[no-untyped-def]
    made = meeting()
    with app.app_context():
        invitations.change(session, made.event, {"room": "Sal 4"}, START)
        session.commit()
    assert made.event.sequence == 1
    row = _answer(receive_bytes, "itip-old-sequence.eml", made.sent["p0@alpha.se"])
    assert (row.kind, row.outcome, row.needs_attention) == (
        InboundKind.CALENDAR_REPLY,
        InboundOutcome.STALE,
        True,
    )
    assert row.detail == "ACCEPTED to SEQUENCE 0; the meeting is at SEQUENCE 1"
    assert _rsvp(session, made.event, made.people[0]) is Rsvp.PENDING
    current = _answer(receive_bytes, "itip-old-sequence.eml", made.sent["p0@alpha.se"], sequence=1)
    assert current.outcome is InboundOutcome.APPLIED


def test_a_counter_proposal_is_kept_and_shown_on_the_meeting_page(
    app: Flask, session: Session, meeting, receive_bytes: Receive
) -> None:  # type: ignore[no-untyped-def]
    made = meeting()
    row = _answer(receive_bytes, "itip-counter.eml", made.sent["p0@alpha.se"])
    assert (row.kind, row.outcome, row.needs_attention) == (
        InboundKind.CALENDAR_COUNTER,
        InboundOutcome.KEPT,
        True,
    )
    assert row.detail == "COUNTER seq 0: 2014-03-11T12:00Z/2014-03-11T13:00Z"
    assert _rsvp(session, made.event, made.people[0]) is Rsvp.PENDING
    client = app.test_client()
    sign_in(client, ORGANISER)
    page = client.get(staff(f"/organisations/alpha/events/{made.event.id}")).get_data(as_text=True)
    assert "Andra tider som föreslagits" in page
    assert "Åsa 0 (p0@alpha.se): 11 mars 2014 kl. 13.00–14.00 (Sverigetid)" in page
    sign_in(client, "rep@beta.se")
    other = client.get(staff(f"/organisations/beta/events/{made.event.id}"))
    assert "p0@alpha.se" not in other.get_data(as_text=True)


def test_an_answer_for_a_meeting_we_do_not_have_is_kept(meeting, receive_bytes: Receive) -> None:  # type: ignore[no-untyped-def]
    made = meeting(count=1)
    row = _answer(
        receive_bytes, "itip-google-accept.eml", made.sent["p0@alpha.se"], uid="gone@elsewhere"
    )
    assert (row.kind, row.outcome, row.needs_attention) == (
        InboundKind.CALENDAR_REPLY,
        InboundOutcome.NO_MATCH,
        True,
    )
    assert row.detail == "no meeting has UID gone@elsewhere" and row.event_id is None


def test_an_answer_from_someone_not_invited_is_kept(
    session: Session, meeting, receive_bytes: Receive
) -> None:  # type: ignore[no-untyped-def]
    made = meeting(count=1)
    row = _answer(
        receive_bytes,
        "itip-google-accept.eml",
        made.sent["p0@alpha.se"],
        attendee="stranger@else.se",
    )
    assert (row.outcome, row.event_id, row.participant_id) == (
        InboundOutcome.NO_MATCH,
        made.event.id,
        None,
    )
    assert row.detail == "stranger@else.se is not invited to this meeting"


@pytest.mark.parametrize("by_return_address", [False, True])
def test_an_answer_from_an_erased_person_applies_nothing(
    app: Flask, session: Session, meeting, receive_bytes: Receive, by_return_address: bool
) -> None:  # type: ignore[no-untyped-def]
    made = meeting(count=1)
    sent = made.sent["p0@alpha.se"]
    with app.app_context():
        erase(session, made.people[0], None, START)
        session.commit()
    envelope = sent.envelope if by_return_address else ORGANISER
    row = _answer(receive_bytes, "itip-outlook-accept.eml", sent, envelope)
    assert (row.kind, row.outcome, row.participant_id) == (
        InboundKind.CALENDAR_REPLY,
        InboundOutcome.ERASED,
        None,
    )
    assert _rsvp(session, made.event, made.people[0]) is Rsvp.PENDING


def test_no_answer_counts_for_a_cancelled_meeting_and_the_unsubscribed_may_only_decline(
    app: Flask, session: Session, meeting, receive_bytes: Receive
) -> None:  # type: ignore[no-untyped-def]
    made = meeting(count=2)
    with app.app_context():
        unsubscribe(session, made.people[1], START, "link")
        session.commit()
    refused = _answer(receive_bytes, "itip-outlook-accept.eml", made.sent["p1@alpha.se"])
    assert (refused.outcome, refused.needs_attention) == (InboundOutcome.RECORDED, True)
    assert (
        refused.detail == "ACCEPTED not applied: the person gets no more mail and may only decline"
    )
    declined = _answer(receive_bytes, "itip-google-decline.eml", made.sent["p1@alpha.se"])
    assert declined.outcome is InboundOutcome.APPLIED
    with app.app_context():
        invitations.cancel(session, made.event, START)
        session.commit()
    late = _answer(
        receive_bytes, "itip-thunderbird-tentative.eml", made.sent["p0@alpha.se"], sequence=1
    )
    assert late.detail == "TENTATIVE not applied: the meeting is cancelled"
    assert _rsvp(session, made.event, made.people[0]) is Rsvp.PENDING


def test_broken_icalendar_text_is_kept_for_a_person(receive_bytes: Receive) -> None:
    raw = (
        b"From: Anna <anna@beta.se>\r\nTo: rep@alpha.se\r\nSubject: Accepted: x\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/calendar; method=REPLY; charset=utf-8\r\n\r\n"
        b"BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nSEQUENCE:0\r\nATTENDEE;PARTST"
    )
    row = receive_bytes(raw, ORGANISER)
    assert (row.kind, row.outcome, row.needs_attention) == (
        InboundKind.CALENDAR_REPLY,
        InboundOutcome.KEPT,
        True,
    )
    assert row.detail.startswith("unreadable calendar: ")


def test_an_outlook_answer_in_tnef_is_kept_for_a_person_with_a_note(
    session: Session, meeting, receive_bytes: Receive
) -> None:  # type: ignore[no-untyped-def]
    made = meeting(count=1)
    row = _answer(receive_bytes, "itip-outlook-decline-tnef.eml", made.sent["p0@alpha.se"])
    assert (row.kind, row.outcome, row.needs_attention) == (
        InboundKind.CALENDAR_REPLY,
        InboundOutcome.KEPT,
        True,
    )
    assert "winmail.dat" in row.detail and "DECLINED" in row.detail
    assert row.participant_id == made.people[0].id
    assert _rsvp(session, made.event, made.people[0]) is Rsvp.PENDING


def test_the_same_answer_again_changes_nothing_and_says_so(
    session: Session, meeting, receive_bytes: Receive
) -> None:  # type: ignore[no-untyped-def]
    made = meeting(count=1)
    sent = made.sent["p0@alpha.se"]
    assert _answer(receive_bytes, "itip-outlook-accept.eml", sent).outcome is InboundOutcome.APPLIED
    again = _answer(receive_bytes, "itip-google-accept.eml", sent)
    assert (again.outcome, again.detail) == (InboundOutcome.RECORDED, "ACCEPTED seq 0")
    assert _rsvp(session, made.event, made.people[0]) is Rsvp.ACCEPTED
