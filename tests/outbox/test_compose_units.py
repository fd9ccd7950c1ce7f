"""render() and compose() alone, called as the mail paths call them: placeholders, the footer,
escaping, and the bytes on the wire (Swedish names in headers, parts, boundary, line length)."""

from __future__ import annotations

import base64
import email
import email.policy
from datetime import UTC, datetime
from email.errors import HeaderParseError
from email.message import EmailMessage
from typing import Any

import pytest
from jinja2.exceptions import SecurityError, TemplateSyntaxError

from campaign.outbox.compose import Footer, compose, render

WHEN = datetime(2014, 3, 3, 8, 0, tzinfo=UTC)
CALENDAR = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"


def rendered(body: str = "Hej {{ name }}!", **context: Any) -> Any:
    return render(
        "Välkommen, {{ name }}",
        body,
        {"name": "Åsa Öberg", **context},
        language="sv",
        footer=Footer("Du är med i provgruppen.", "https://k.example.se/u/tok"),
    )


def wire(**changes: Any) -> bytes:
    arguments: dict[str, Any] = {
        "sender": "Kampanj Kungälv <kampanj@kungalv.se>",
        "recipient": "asa@ockero.se",
        "subject": "Välkommen, Åsa Öberg",
        "text": "Hej Åsa!\n",
        "html": "<p>Hej Åsa!</p>",
        "message_id": "<abc@kungalv.se>",
        "date": WHEN,
    }
    return compose(**{**arguments, **changes})


def parsed(data: bytes) -> EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)


def test_the_text_part_keeps_the_body_as_written_and_ends_with_the_footer() -> None:
    text = rendered("Hej {{ name }}!\n\nLäs **detta**.").text
    assert text == (
        "Hej Åsa Öberg!\n\nLäs **detta**.\n\n-- \nDu är med i provgruppen.\n"
        "Pausa eller avsluta e-posten: https://k.example.se/u/tok\n"
    )


def test_the_body_is_trimmed_and_the_text_ends_with_one_line_break() -> None:
    assert rendered("\n\n  Hej!  \n\n\n").text.startswith("Hej!\n\n-- \n")
    assert rendered().text.endswith("/u/tok\n") and not rendered().text.endswith("\n\n")


def test_without_an_unsubscribe_link_the_footer_gives_only_the_reason() -> None:
    mail = render("Hej", "Text", {}, language="sv", footer=Footer("Du är inbjuden."))
    assert mail.text == "Text\n\n-- \nDu är inbjuden.\n"
    assert "Du är inbjuden." in mail.html and "Pausa" not in mail.html and "href" not in mail.html


def test_the_html_part_is_in_the_recipients_language() -> None:
    assert '<html lang="sv">' in rendered().html
    english = render("Hi", "Hello", {}, language="en", footer=Footer("Why.", "https://x/u/t"))
    assert '<html lang="en">' in english.html and "Pause or stop these e-mails" in english.html


def test_a_placeholder_in_the_subject_cannot_add_a_line() -> None:
    assert rendered(name="Åsa\r\nBcc: evil@example.org").subject == (
        "Välkommen, Åsa Bcc: evil@example.org"
    )


def test_a_placeholder_value_is_escaped_in_html_and_kept_in_text() -> None:
    mail = rendered("{{ org }} {{ html }}", org="A & B", html="<b>x</b><script>y</script>")
    assert "A &amp; B x" in mail.html and "<script" not in mail.html and "<b>" not in mail.html
    assert mail.text.startswith("A & B <b>x</b><script>y</script>\n")


def test_the_footer_is_escaped_in_html() -> None:
    mail = render("s", "b", {}, language="sv", footer=Footer("<i>Varför</i>", 'https://x/u/"t'))
    assert "&lt;i&gt;Varför&lt;/i&gt;" in mail.html and "<i>" not in mail.html
    assert 'href="https://x/u/&quot;t"' in mail.html


def test_placeholders_cannot_reach_python_internals() -> None:
    with pytest.raises(SecurityError):
        rendered("{{ name.__class__.__mro__ }}")


def test_a_broken_placeholder_is_an_error() -> None:
    with pytest.raises(TemplateSyntaxError):
        rendered("Hej {{ name }")


def test_the_same_inputs_render_the_same_mail() -> None:
    assert rendered() == rendered()


def test_an_ascii_subject_is_written_as_is_and_a_swedish_one_encoded() -> None:
    assert b"\r\nSubject: Hello there\r\n" in wire(subject="Hello there")
    data = wire()
    assert b"Subject: =?utf-8?" in data and parsed(data)["Subject"] == "Välkommen, Åsa Öberg"


def test_swedish_display_names_are_encoded_and_addresses_kept() -> None:
    message = parsed(wire(recipient="Åsa Öberg <asa@ockero.se>"))
    sender, recipient = message["From"].addresses[0], message["To"].addresses[0]
    assert (sender.display_name, sender.addr_spec) == ("Kampanj Kungälv", "kampanj@kungalv.se")
    assert (recipient.display_name, recipient.addr_spec) == ("Åsa Öberg", "asa@ockero.se")


def test_a_bare_address_stays_bare() -> None:
    assert b"\r\nTo: asa@ockero.se\r\n" in wire()


def test_an_ascii_subject_with_a_line_break_is_refused() -> None:
    with pytest.raises(HeaderParseError):
        wire(subject="Hej\r\nBcc: evil@example.org")


def test_a_swedish_subject_with_a_line_break_stays_one_header() -> None:
    message = parsed(wire(subject="Hej Åsa\r\nBcc: evil@example.org"))
    assert message["Bcc"] is None and "evil@example.org" in message["Subject"]


def test_a_long_subject_is_folded_within_the_line_limit() -> None:
    data = wire(subject="Öckerö " * 60)
    assert max(len(line) for line in data.split(b"\r\n")) <= 998
    assert parsed(data)["Subject"] == "Öckerö " * 60


def test_the_date_and_message_id_are_the_ones_given() -> None:
    data = wire()
    assert b"\r\nDate: Mon, 03 Mar 2014 08:00:00 +0000\r\n" in data
    assert b"\r\nMessage-ID: <abc@kungalv.se>\r\n" in data


def test_extra_headers_are_added_as_given() -> None:
    message = parsed(wire(headers={"List-Unsubscribe": "<https://k.se/u/t>", "X-Kind": "step"}))
    assert message["List-Unsubscribe"] == "<https://k.se/u/t>" and message["X-Kind"] == "step"


def test_the_parts_are_text_then_html_in_base64_utf8() -> None:
    data = wire()
    message = parsed(data)
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert all(p["Content-Transfer-Encoding"] == "base64" for p in message.iter_parts())
    assert base64.b64encode("Hej Åsa!\n".encode()) in data
    assert data.count(b"MIME-Version") == 1  # the message's, not each part's


@pytest.mark.parametrize(
    ("calendar", "method"),
    [
        (CALENDAR, "REQUEST"),
        (CALENDAR.replace("METHOD:REQUEST", "method:cancel"), "CANCEL"),
        (CALENDAR.replace("METHOD:REQUEST\r\n", ""), "PUBLISH"),
    ],
)
def test_a_calendar_is_the_last_part_with_its_method(calendar: str, method: str) -> None:
    parts = list(parsed(wire(calendar=calendar)).iter_parts())
    assert [p.get_content_type() for p in parts][-1] == "text/calendar"
    assert parts[-1].get_param("method") == method and len(parts) == 3


def test_the_bytes_are_seven_bit_with_crlf_only() -> None:
    data = wire(calendar=CALENDAR)
    assert data.isascii() and b"\n" not in data.replace(b"\r\n", b"")


def test_the_boundary_follows_the_message_id() -> None:
    first, again = wire(), wire()
    other = wire(message_id="<other@kungalv.se>")
    assert first == again and parsed(first).get_boundary() != parsed(other).get_boundary()
