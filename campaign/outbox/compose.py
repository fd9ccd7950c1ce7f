"""Mail composition, pure: Markdown with placeholders in, a multipart/alternative mail out.

Nothing here reads the app, the request or the clock: every input is an argument, so the same
inputs always give the same bytes (tests snapshot them).
"""

from __future__ import annotations

import base64
import email.policy
import functools
import hashlib
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path
from typing import Any

import css_inline
import jinja2
from jinja2.sandbox import SandboxedEnvironment

from campaign.i18n import load_catalog
from campaign.markup import render_markdown
from campaign.plaintext import one_line


class _SMTPCompat32(email.policy.Compat32):
    """compat32 (4x faster than EmailMessage) with CRLF, writing short ASCII headers as is.

    Folding every header through email.header costs as much as the rest of the message; a
    header that is plain ASCII and fits on a line needs none of it.
    """

    def fold_binary(self, name: str, value: Any) -> bytes:
        """Return the header as wire bytes, folded only when it needs to be."""
        if (
            isinstance(value, str)
            and value.isascii()
            and "\r" not in value
            and "\n" not in value
            and len(name) + len(value) + 2 <= (self.max_line_length or 998)
        ):
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


SMTP_BYTES = _SMTPCompat32(linesep="\r\n", max_line_length=998)

# Placeholders in authored content: sandboxed, and an unknown name is an error, never blank.
CONTENT = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)
LAYOUT = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent.parent / "templates" / "mail"),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)
BARE_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+")
BLANK_LINES = re.compile(r"\n(?:[ \t]*\n){2,}")
INLINER = css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)


@functools.lru_cache(maxsize=512)
def content_template(source: str) -> jinja2.Template:
    """Return authored content compiled once: compiling costs more than rendering."""
    return CONTENT.from_string(source)


@dataclass(frozen=True)
class Logo:
    """An image at the top of the HTML mail: its public address and its text (alt)."""

    url: str
    text: str


@dataclass(frozen=True)
class Footer:
    """Why the recipient gets the mail, whom to ask, and their link to stop or pause it; and
    the logo of whom it comes from, shown at the top (the frame around the text, in short)."""

    reason: str
    unsubscribe_url: str | None = None
    contact: str | None = None
    logo: Logo | None = None


@dataclass(frozen=True)
class Rendered:
    """A mail's subject and its body as plain text and as HTML."""

    subject: str
    text: str
    html: str


def render(
    subject: str,
    body_markdown: str,
    context: Mapping[str, Any],
    *,
    language: str,
    footer: Footer,
) -> Rendered:
    """Fill the placeholders, then lay the Markdown out as plain text and as inlined HTML.
    Runs of blank lines read as one: a place left empty (`{{ local.help }}`) leaves no gap."""
    body = BLANK_LINES.sub("\n\n", content_template(body_markdown).render(context).strip())
    return _laid_out(render_subject(subject, context), body, footer, language)


def render_subject(subject: str, context: Mapping[str, Any]) -> str:
    """Fill a subject's placeholders, on one line: as every mail's subject is filled."""
    return one_line(content_template(subject).render(context))


def _laid_out(subject: str, body: str, footer: Footer, language: str) -> Rendered:
    """Lay a filled-in mail out in the mail layouts: plain text, and HTML with inlined CSS."""
    gettext = load_catalog(language).gettext
    html = LAYOUT.get_template("base.html").render(
        subject=subject,
        body=render_markdown(body),
        footer=footer,
        language=language,
        _=gettext,
    )
    text = LAYOUT.get_template("base.txt").render(body=body, footer=footer, _=gettext)
    return Rendered(subject, text.strip() + "\n", INLINER.inline(html))


def new_message_id(sender: str) -> str:
    """Return a globally unique Message-ID in the sender's domain."""
    domain = envelope_address(sender).rpartition("@")[2] or "localhost"
    return f"<{uuid.uuid4().hex}@{domain}>"


def compose(
    *,
    sender: str,
    recipient: str,
    subject: str,
    text: str,
    html: str,
    message_id: str,
    date: datetime,
    headers: Mapping[str, str] | None = None,
    calendar: str | None = None,
) -> bytes:
    """Return the wire bytes (CRLF) of a multipart/alternative mail, text part first.

    With `calendar` (an iCalendar object), a text/calendar part with its METHOD follows the
    HTML, the last and richest alternative: the form Outlook and Google Calendar take as an
    invitation.
    """
    headers = dict(headers or {})
    sender = on_own_address(headers.pop("From", ""), sender)
    boundary = _boundary(message_id)
    head = [
        ("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
        ("MIME-Version", "1.0"),
        ("From", _address(sender)),
        ("To", _address(recipient)),
        ("Subject", _subject(subject)),
        ("Date", format_datetime(date)),
        ("Message-ID", message_id),
        *headers.items(),
    ]
    parts = [_part("plain", text), _part("html", html)]
    if calendar:
        parts.append(_calendar_part(calendar))
    separator = b"\r\n--" + boundary.encode("ascii")
    return b"".join(
        [
            _header_block(head),
            separator[2:] + b"\r\n",
            (separator + b"\r\n").join(parts),
            separator + b"--\r\n",
        ]
    )


def _header_block(headers: list[tuple[str, str]]) -> bytes:
    """Return headers as wire bytes, each folded as the email package folds it, and the blank
    line after them."""
    return b"".join(SMTP_BYTES.fold_binary(name, value) for name, value in headers) + b"\r\n"


@functools.lru_cache(maxsize=1024)  # a fan-out's mails often share their subject
def _subject(subject: str) -> str:
    """Return the Subject header's value: as is in ASCII, else RFC 2047 encoded words."""
    return subject if subject.isascii() else Header(subject, "utf-8").encode()


@functools.lru_cache(maxsize=256)
def on_own_address(named: str, sender: str) -> str:
    """Return the sender under the display name of `named` (a From a message row carries), but
    always on the sender's own address: no row can put another domain in From (DMARC)."""
    name = parseaddr(named)[0]
    return formataddr((name, envelope_address(sender)), charset="utf-8") if name else sender


def _calendar_part(calendar: str) -> bytes:
    """Return the text/calendar part of an iCalendar object, naming its iTIP METHOD."""
    content_type = f'text/calendar; charset="utf-8"; method="{calendar_method(calendar)}"'
    headers = [("Content-Transfer-Encoding", "base64"), ("Content-Type", content_type)]
    return _header_block(headers) + _base64(calendar)


def _boundary(message_id: str) -> str:
    """Return the message's MIME boundary: derived, not random, so the same message gives the
    same bytes. Parts are base64, whose alphabet has no "_", so it cannot occur inside them."""
    return "=_" + hashlib.sha256(message_id.encode()).hexdigest()[:32]


def calendar_method(calendar: str) -> str:
    """Return the iTIP METHOD of an iCalendar object (REQUEST, CANCEL, ...)."""
    for line in calendar.splitlines():
        if line.upper().startswith("METHOD:"):
            return line.split(":", 1)[1].strip().upper()
    return "PUBLISH"


def _part(subtype: str, content: str) -> bytes:
    """Return a text part of this subtype, in UTF-8 and base64."""
    content_type = f'text/{subtype}; charset="utf-8"'
    headers = [("Content-Type", content_type), ("Content-Transfer-Encoding", "base64")]
    return _header_block(headers) + _base64(content)


def _base64(content: str) -> bytes:
    """Return text as UTF-8 in base64 lines of 76 characters, each ended by CRLF."""
    encoded = base64.encodebytes(content.encode("utf-8", "surrogateescape"))
    return encoded.replace(b"\n", b"\r\n")


@functools.lru_cache(maxsize=1024)  # the sender's, on every mail
def _address(value: str) -> str:
    """Return 'Name <address>' as a header carries it (the name encoded if it must be)."""
    if BARE_ADDRESS.fullmatch(value):
        return value  # what parseaddr would give back: nothing to encode
    name, address = parseaddr(value)
    return formataddr((name, address), charset="utf-8") if name else address


@functools.lru_cache(maxsize=64)  # the same sender for every message of a fan-out
def envelope_address(value: str) -> str:
    """Return the bare address of 'Name <address>' for the SMTP envelope."""
    return parseaddr(value)[1]
