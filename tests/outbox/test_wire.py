"""compose() writes the wire bytes itself (the email package's generator cost as much as the
rest of sending); these tests hold it to what the email package makes of the same mail."""

from __future__ import annotations

import email
import email.policy
import hashlib
import random
from datetime import UTC, datetime, timedelta
from email.charset import BASE64, Charset
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.utils import format_datetime, formataddr, parseaddr

from campaign.outbox.compose import SMTP_BYTES, calendar_method, compose, on_own_address

UTF8 = Charset("utf-8")
UTF8.body_encoding = BASE64
WORDS = ["Hej", "Åsa", "Öberg", "möte", "resfria", "naïve", "日本", "😀", "a" * 90, "x\ty", ""]


def _reference(**mail: object) -> bytes:
    """The same mail built with the email package's objects and generator."""
    headers = dict(mail["headers"] or {})  # type: ignore[call-overload]
    sender = on_own_address(headers.pop("From", ""), mail["sender"])  # type: ignore[arg-type]
    message = MIMEMultipart("alternative")
    for name, value in (("From", sender), ("To", mail["recipient"])):
        real, address = parseaddr(value)  # type: ignore[arg-type]
        message[name] = formataddr((real, address), charset="utf-8") if real else address
    subject = str(mail["subject"])
    message["Subject"] = subject if subject.isascii() else Header(subject, "utf-8").encode()
    message["Date"] = format_datetime(mail["date"])  # type: ignore[arg-type]
    message["Message-ID"] = mail["message_id"]
    for name, value in headers.items():
        message[name] = value
    for subtype, content in (("plain", mail["text"]), ("html", mail["html"])):
        part = MIMENonMultipart("text", subtype)
        part.set_payload(content, charset=UTF8)
        del part["MIME-Version"]
        message.attach(part)
    if mail["calendar"]:
        part = MIMENonMultipart("text", "calendar")
        part.set_payload(mail["calendar"], charset=UTF8)
        del part["MIME-Version"]
        part.set_param("method", calendar_method(str(mail["calendar"])))
        message.attach(part)
    message.set_boundary("=_" + hashlib.sha256(str(mail["message_id"]).encode()).hexdigest()[:32])
    return message.as_bytes(policy=SMTP_BYTES)


def _text(rng: random.Random, words: int) -> str:
    lines = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 12))) for _ in range(words)]
    return "\n".join(lines)


def test_the_bytes_are_the_email_packages_for_many_mails() -> None:
    rng = random.Random(2014)
    for n in range(300):
        name = rng.choice(["", "Kampanj", "Kungälvs kommun", 'Smith, "J"', "😀 " * 30])
        mail = {
            "sender": f"{name} <kampanj@kungalv.se>" if name else "kampanj@kungalv.se",
            "recipient": rng.choice(
                [f"p{n}@example.se", f"Åsa Öberg <p{n}@example.se>", f"<p{n}@example.se>"]
            ),
            "subject": _text(rng, 1)[: rng.choice([20, 200, 2000])].replace("\n", " "),
            "text": _text(rng, rng.randint(0, 40)),
            "html": "<p>" + _text(rng, rng.randint(0, 40)) + "</p>",
            "message_id": f"<{n}.{rng.random()}@kungalv.se>",
            "date": datetime(2026, 3, 29, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 10**5)),
            "headers": rng.choice(
                [
                    None,
                    {"List-Unsubscribe": f"<https://k.example.se/u/{'x' * rng.randint(1, 900)}>"},
                    {"From": "Åsa på Kungälv <other@elsewhere.se>", "Reply-To": "r@kungalv.se"},
                    {"X-Campaign": "ö" * rng.randint(1, 200)},
                ]
            ),
            "calendar": rng.choice(
                [None, "BEGIN:VCALENDAR\r\nMETHOD:CANCEL\r\nSUMMARY:Möte\r\nEND:VCALENDAR\r\n"]
            ),
        }
        assert compose(**mail) == _reference(**mail), mail  # type: ignore[arg-type]


SUBJECT = "Välkommen till provgruppen för resfria möten, Åsa! Vi ses på tisdag i Kungälv."


def test_the_bytes_parse_back_to_the_same_mail() -> None:
    data = compose(
        sender="Kungälvs kommun <kampanj@kungalv.se>",
        recipient="Åsa Öberg <asa@example.se>",
        subject=SUBJECT,
        text="Hej Åsa!\n\nVälkommen.\n",
        html="<p>Hej Åsa!</p>",
        message_id="<1@kungalv.se>",
        date=datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
        calendar="BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n",
    )
    mail = email.message_from_bytes(data, policy=email.policy.default)
    assert str(mail["Subject"]) == SUBJECT
    assert mail["To"].addresses[0].display_name == "Åsa Öberg"
    plain, html, calendar = mail.iter_parts()
    assert plain.get_content() == "Hej Åsa!\n\nVälkommen.\n"
    assert html.get_content() == "<p>Hej Åsa!</p>"
    assert calendar.get_content_type() == "text/calendar"
    assert calendar.get_param("method") == "REQUEST"
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))
    assert b"\n" not in data.replace(b"\r\n", b"")
