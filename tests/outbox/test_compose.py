"""Composition: both parts, encodings for å ä ö, placeholders, and the same bytes every time."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime

import pytest
from jinja2 import UndefinedError

from campaign.outbox.compose import Footer, compose, new_message_id, render

WHEN = datetime(2014, 3, 3, 8, 0, tzinfo=UTC)


def _rendered():  # type: ignore[no-untyped-def]
    return render(
        "Välkommen, {{ name }}!",
        "Hej {{ name }}!\n\nTesta med **någon du känner** först. <script>alert(1)</script>",
        {"name": "Åsa Öberg"},
        language="sv",
        footer=Footer("Du är med i provgruppen i Öckerö.", "https://k.example.se/u/tok"),
    )


def test_render_fills_placeholders_and_lays_out_both_parts() -> None:
    rendered = _rendered()
    assert rendered.subject == "Välkommen, Åsa Öberg!"
    assert rendered.text.startswith("Hej Åsa Öberg!\n\nTesta med **någon du känner** först.")
    assert "Pausa eller avsluta e-posten: https://k.example.se/u/tok" in rendered.text
    assert "<strong>någon du känner</strong>" in rendered.html
    assert "<script>" not in rendered.html  # placeholders and content cannot inject markup
    assert "<style" not in rendered.html and 'style="' in rendered.html  # CSS is inlined
    assert 'href="https://k.example.se/u/tok"' in rendered.html


def test_unknown_placeholder_is_an_error_not_a_blank() -> None:
    with pytest.raises(UndefinedError):
        render("Hej {{ nme }}", "x", {"name": "Åsa"}, language="sv", footer=Footer("x"))


def test_footer_follows_the_recipients_language() -> None:
    rendered = render("Hi", "Hello", {}, language="en", footer=Footer("Why", "https://x/u/t"))
    assert "Pause or stop these e-mails: https://x/u/t" in rendered.text


def test_compose_is_multipart_alternative_with_utf8_parts() -> None:
    rendered = _rendered()
    data = compose(
        sender="Kampanj Kungälv <kampanj@kungalv.se>",
        recipient="asa@ockero.se",
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        message_id="<abc@kungalv.se>",
        date=WHEN,
        headers={"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")  # CRLF only
    assert data.isascii()  # 7-bit on the wire: every server takes it
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert message.get_content_type() == "multipart/alternative"
    plain, html = message.get_payload()
    assert plain.get_content_type() == "text/plain" and html.get_content_type() == "text/html"
    assert plain.get_content_charset() == "utf-8"
    assert "Åsa Öberg" in plain.get_content() and "Åsa Öberg" in html.get_content()
    assert message["Subject"] == "Välkommen, Åsa Öberg!"
    assert message["From"].addresses[0].display_name == "Kampanj Kungälv"
    assert message["Message-ID"] == "<abc@kungalv.se>"
    assert message["Date"].datetime == WHEN


def test_same_inputs_same_bytes_and_message_ids_are_unique() -> None:
    rendered = _rendered()
    args = dict(
        sender="k@kungalv.se",
        recipient="a@b.se",
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        message_id="<x@y>",
        date=WHEN,
    )
    assert compose(**args) == compose(**args)
    ids = {new_message_id("Kampanj <kampanj@kungalv.se>") for _ in range(1000)}
    assert len(ids) == 1000 and all(i.endswith("@kungalv.se>") for i in ids)
