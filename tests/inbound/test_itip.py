"""Reading the iTIP object of calendar answers as the clients send them (no database)."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime

import pytest

from campaign.inbound import itip
from tests.inbound.itip_samples import filled

VALUES = {"uid": "abc123@kampanj.example.se", "attendee": "Anna.Berg@Beta.se", "sequence": 2}


def _message(name: str) -> email.message.Message:
    raw = filled(name, organiser="rep@alpha.se", **VALUES)
    return email.message_from_bytes(raw, policy=email.policy.compat32)


@pytest.mark.parametrize(
    ("name", "method", "partstat"),
    [
        ("itip-outlook-accept.eml", "REPLY", "ACCEPTED"),
        ("itip-google-accept.eml", "REPLY", "ACCEPTED"),
        ("itip-google-decline.eml", "REPLY", "DECLINED"),
        ("itip-thunderbird-tentative.eml", "REPLY", "TENTATIVE"),
        ("itip-old-sequence.eml", "REPLY", "ACCEPTED"),
        ("itip-counter.eml", "COUNTER", "TENTATIVE"),
    ],
)
def test_each_client_s_answer_is_found_and_read(name: str, method: str, partstat: str) -> None:
    found = itip.find(_message(name))
    assert found is not None
    assert (found.method, found.uid, found.sequence) == (method, VALUES["uid"], 2)
    assert found.attendees == (itip.Attendee("anna.berg@beta.se", partstat),)


def test_outlook_s_answer_is_marked_as_a_calendar_message() -> None:
    assert itip.looks_like_calendar(_message("itip-outlook-accept.eml"))
    assert not itip.looks_like_calendar(_message("itip-google-accept.eml"))


def test_a_counter_proposes_its_own_time() -> None:
    found = itip.find(_message("itip-counter.eml"))
    assert isinstance(found.starts, datetime) and isinstance(found.ends, datetime)
    assert (found.starts.day, found.starts.hour, found.ends.hour) == (11, 13, 14)
    assert found.starts.utcoffset().total_seconds() == 3600  # W. Europe Standard Time in March


def test_a_tnef_answer_names_its_outlook_class_and_holds_no_calendar() -> None:
    message = _message("itip-outlook-decline-tnef.eml")
    assert itip.find(message) is None
    assert itip.tnef_class(message) == "IPM.Schedule.Meeting.Resp.Neg"
    assert itip.is_meeting_class(itip.tnef_class(message))
    assert itip.tnef_class(_message("itip-google-accept.eml")) is None


def test_a_broken_tnef_stream_names_no_class() -> None:
    message = email.message_from_string(
        "Content-Type: application/ms-tnef; name=winmail.dat\n"
        "Content-Transfer-Encoding: base64\n\neJ8+IgAAAAA=\n",
        policy=email.policy.compat32,
    )
    assert itip.tnef_class(message) == ""


@pytest.mark.parametrize(
    "text",
    [
        "garbage",
        "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nEND:VCALENDAR\r\n",
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nSEQUENCE:two\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n",
    ],
)
def test_broken_calendar_text_is_unreadable_with_a_reason(text: str) -> None:
    message = email.message_from_string(
        f"Content-Type: text/calendar; method=REPLY\n\n{text}", policy=email.policy.compat32
    )
    with pytest.raises(itip.Unreadable) as error:
        itip.find(message)
    assert str(error.value)


def test_a_mail_without_a_calendar_has_no_itip_object() -> None:
    message = email.message_from_string("Subject: hej\n\nhej", policy=email.policy.compat32)
    assert itip.find(message) is None


def test_the_method_of_the_content_type_stands_in_for_a_missing_one() -> None:
    text = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    message = email.message_from_string(
        f"Content-Type: application/ics; method=reply; name=invite.ics\n\n{text}",
        policy=email.policy.compat32,
    )
    found = itip.find(message)
    assert (found.method, found.sequence, found.attendees) == ("REPLY", 0, ())


def test_a_calendar_inside_a_carried_message_is_not_the_mail_s_own() -> None:
    answer = filled("itip-outlook-accept.eml", organiser="rep@alpha.se", **VALUES)
    bounce = (
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nUndeliverable\r\n"
        b"--b\r\nContent-Type: message/rfc822\r\n\r\n" + answer + b"\r\n--b--\r\n"
    )
    message = email.message_from_bytes(bounce, policy=email.policy.compat32)
    assert itip.find(message) is None
