"""What staff may read of a message: the one place that decides it, by the message's kind.

A message shows its envelope to staff (recipient, kind, state, times, the server's answer), and
its content only if its kind allows it (MessageKind.disclosure). Content is shown with each
signed link replaced by a marker, everywhere: subject, text, HTML, headers, calendar part. A
signed link acts for its recipient (to unsubscribe, answer a meeting or a questionnaire), so
whoever reads it could act as them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markupsafe import escape

from campaign.i18n import load_catalog
from campaign.outbox.models import Disclosure, Message
from campaign.security import SIGNED_TOKEN, hide_signed_links

_ANCHOR = re.compile(r"<a\b[^>]*>(.*?)</a>", re.DOTALL | re.IGNORECASE)
_FOLD = re.compile(r"\r?\n[ \t]")  # RFC 5545 folds long lines; a folded token reads whole again


@dataclass(frozen=True)
class Readable:
    """The content of a message as staff may read it."""

    subject: str
    text: str
    html: str
    headers: dict[str, str]
    calendar: str | None


def marker(language: str) -> str:
    """Return the words that stand where a personal link was, in `language`."""
    _ = load_catalog(language).gettext
    return _("[personal link, hidden]")


def readable(message: Message, language: str) -> Readable | None:
    """Return what staff may read of `message`; None when only its envelope may be shown."""
    if message.kind.disclosure is not Disclosure.CONTENT:
        return None
    words = marker(language)
    return Readable(
        subject=hide_signed_links(message.subject, words),
        text=hide_signed_links(message.text_body, words),
        html=_html(message.html_body, words),
        headers=_headers(message.headers or {}, words),
        calendar=_calendar(message.calendar, words),
    )


def _headers(headers: dict[str, str], words: str) -> dict[str, str]:
    """Return the headers with their signed links hidden (List-Unsubscribe carries one)."""
    return {name: hide_signed_links(str(value), words) for name, value in headers.items()}


def _calendar(calendar: str | None, words: str) -> str | None:
    """Return the calendar part unfolded, its signed links hidden (its DESCRIPTION has one)."""
    if not calendar:
        return None
    return hide_signed_links(_FOLD.sub("", calendar), words)


def subject_of(message: Message, language: str) -> str | None:
    """Return the subject staff may read; None when only the envelope may be shown."""
    if message.kind.disclosure is not Disclosure.CONTENT:
        return None
    return hide_signed_links(message.subject, marker(language))


def _html(html: str, words: str) -> str:
    """Unlink each anchor to a signed link, its words followed by the marker; then the rest."""
    shown = str(escape(words))

    def anchor(match: re.Match[str]) -> str:
        if not SIGNED_TOKEN.search(match[0]):
            return match[0]
        return shown if SIGNED_TOKEN.search(match[1]) else f"{match[1]} {shown}"

    return hide_signed_links(_ANCHOR.sub(anchor, html), shown)
