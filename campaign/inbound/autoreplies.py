"""Out-of-office and other automatic replies: recognised, recorded, nothing changed.

A header marks an automatic reply by itself: RFC 3834's `Auto-Submitted` (anything but "no"),
the `X-Autoreply` and `X-Autorespond` of vacation programs, `Precedence: auto_reply`, and
Exchange's `X-MS-Exchange-Inbox-Rules-Loop` or a rules agent's generated-message source. A
subject such as "Automatic reply:", "Autosvar:" or "Frånvaro" counts only together with a
weaker header (`Precedence: bulk`, `junk` or `list`): a person may write "Frånvaro" too.

A delivery report is never an auto-reply, though it carries `Auto-Submitted: auto-replied`
(RFC 3464): a multipart/report, a mailer daemon's mail or a subject of undelivered mail is left
to the bounces (which run first) or to a person. So is a calendar answer that the calendar
handler did not take.
"""

from __future__ import annotations

import re
from email.message import Message

from sqlalchemy.orm import Session

from campaign.inbound import senders
from campaign.inbound.parsed import Incoming, header_text, walk_parts
from campaign.outbox.inbound import InboundKind, InboundOutcome

# Headers whose presence alone marks an automatic reply, with the values that do not.
STRONG = {
    "Auto-Submitted": {"no"},
    "X-Autoreply": {"no", "false"},
    "X-Autorespond": set(),
    "X-MS-Exchange-Inbox-Rules-Loop": set(),
}
SOURCE = "X-MS-Exchange-Generated-Message-Source"  # Exchange: "Mailbox Rules Agent", say
AUTO_SOURCE = re.compile(r"rules agent|auto.?repl|out.?of.?office|oof", re.IGNORECASE)
WEAK_PRECEDENCE = {"bulk", "junk", "list"}
AUTO_SUBJECT = re.compile(
    r"^\s*(auto|autoreply|autosvar|automatiskt svar)\s*:"
    r"|automatic reply|auto-?reply|autoresponse|automatiskt svar|autosvar"
    r"|out of (the )?office|frånvar|abwesen|réponse automatique|fraværende",
    re.IGNORECASE,
)
# What a delivery report looks like when it is not a standard one.
REPORT_TYPES = {
    "multipart/report",
    "message/delivery-status",
    "message/global-delivery-status",
    "message/feedback-report",
    "message/disposition-notification",
    "text/calendar",
}
DAEMONS = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mdaemon)@", re.IGNORECASE)
BOUNCE_SUBJECT = re.compile(
    r"undeliver|delivery status notification|delivery (has )?failed|mail delivery"
    r"|returned mail|failure notice|olevererbar|kunde inte levereras|unzustellbar|non remis",
    re.IGNORECASE,
)


def handle(db_session: Session, incoming: Incoming) -> bool:
    """Take an automatic reply: kind AUTO_REPLY, outcome RECORDED, nothing changed."""
    signal = auto_reply_signal(incoming.message)
    if signal is None:
        return False
    row = incoming.row
    row.kind, row.outcome = InboundKind.AUTO_REPLY, InboundOutcome.RECORDED
    row.detail, row.needs_attention = signal[:1000], False
    senders.link(db_session, incoming)
    return True


def auto_reply_signal(message: Message) -> str | None:
    """Return the header that marks `message` as an automatic reply (such as
    "Auto-Submitted: auto-replied"), None when none does or it is a report or calendar answer."""
    if is_report(message):
        return None
    return _strong(message) or _weak(message)


def is_report(message: Message) -> bool:
    """Whether `message` is a delivery, feedback or read report or a calendar message, or comes
    from a mailer daemon or reads like undelivered mail: never an automatic reply."""
    types = {part.get_content_type() for part in walk_parts(message)}
    if types & REPORT_TYPES:
        return True
    sender = _address(header_text(message, "From"))
    return bool(DAEMONS.match(sender) or BOUNCE_SUBJECT.search(header_text(message, "Subject")))


def _strong(message: Message) -> str | None:
    """Return the header that by itself marks an automatic reply, if there is one."""
    for name, not_auto in STRONG.items():
        value = _value(message, name)
        if value is not None and _first_word(value) not in not_auto:
            return f"{name}: {value}".strip()
    source = _value(message, SOURCE)
    if source is not None and AUTO_SOURCE.search(source):
        return f"{SOURCE}: {source}"
    if _first_word(_value(message, "Precedence") or "") == "auto_reply":
        return "Precedence: auto_reply"
    return None


def _weak(message: Message) -> str | None:
    """Return "Precedence: bulk" (or junk, list) with the subject when both say auto-reply."""
    precedence = _first_word(_value(message, "Precedence") or "")
    subject = header_text(message, "Subject")
    if precedence in WEAK_PRECEDENCE and AUTO_SUBJECT.search(subject):
        return f"Precedence: {precedence}; Subject: {subject}"
    return None


def _value(message: Message, name: str) -> str | None:
    """Return a header's value as one line of text, None when the message has no such header."""
    if message.get(name) is None:
        return None
    return header_text(message, name)


def _first_word(value: str) -> str:
    """Return the value's first word in lower case ("auto-replied" of "auto-replied; x=y")."""
    words = re.split(r"[\s;(]+", value.strip().lower(), maxsplit=1)
    return words[0] if words else ""


def _address(value: str) -> str:
    """Return the bare address of a From header's value."""
    found = re.search(r"<([^>]*)>", value)
    return (found.group(1) if found else value).strip()
