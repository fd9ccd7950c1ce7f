"""What a delivery report says: which addresses failed, for good or for now, and why.

Mail servers report in two ways. A delivery status notification (RFC 3464: multipart/report
with a message/delivery-status part) names each recipient with its Action (failed, delayed, ...)
and Status (5.x.x permanent, 4.x.x transient); the standard library's parser reads those
fields. Many servers send something else: Exchange's and Office 365's NDR text, Exim's "Mail
delivery failed", qmail's "failure notice", Sendmail's transcripts. For those, flufl.bounce
(Mailman's detectors, `all_failures`: the temporary and the permanent failures) finds the
addresses first, and the status code is looked for in the report's own words (never in the
returned original). Only when neither finds an address does the hand-written last resort
look: a message from a mailer daemon, or titled as one, whose text gives a status code.

A failure with a 5.x.x code (or none) is hard; with 4.x.x it is soft: the server gave up on a
mailbox that may come back (full, over quota). A delayed notice ("will retry") is neither.
"""

from __future__ import annotations

import enum
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser

from flufl.bounce import all_failures

from campaign.inbound.parsed import text_of

log = logging.getLogger(__name__)

# An enhanced status code (RFC 3463), not a piece of an IP address or a version number.
ENHANCED = re.compile(r"(?<![\d.])([45])\.(\d{1,3})\.(\d{1,3})(?!\.?\d)")
# A plain SMTP reply code, when a server gives no enhanced one: "550 User unknown".
BASIC = re.compile(r"(?<![\d.])([45])\d\d(?=[ -])")
# Where a report's own words end and the returned original begins.
ORIGINAL_FOLLOWS = re.compile(
    r"^\s*-{2,}.*(copy of the message|below this line|original message)"
    r"|^\s*original message (headers|details|follows)",
    re.IGNORECASE,
)
DELAY_WORDS = re.compile(r"will (keep )?(re)?try|still trying|delayed|warning", re.IGNORECASE)
BOUNCE_SENDERS = re.compile(r"mailer-daemon|postmaster|mail delivery", re.IGNORECASE)
BOUNCE_SUBJECTS = re.compile(
    r"undeliver|undelivered|delivery (status notification|failure|has failed)|failure notice"
    r"|returned mail|mail delivery failed|non.?delivery|kunde inte levereras",
    re.IGNORECASE,
)
ORIGINALS = ("message/rfc822", "text/rfc822-headers", "message/global-headers")
DIAGNOSTIC_LENGTH = 300
# A Message-ID header in a returned original quoted as text (Exim, qmail: no MIME part of its own).
QUOTED_MESSAGE_ID = re.compile(
    r"^Message-ID:[ \t]*(<[^<>\s]{1,298}>)", re.IGNORECASE | re.MULTILINE
)


class Severity(enum.Enum):
    HARD = "hard"  # a permanent failure: the address does not work
    SOFT = "soft"  # a transient failure the server gave up on
    DELAYED = "delayed"  # not delivered yet; the server will try again


@dataclass(frozen=True)
class Failure:
    """One recipient a report names: "" when the report does not say whom (the last resort)."""

    address: str
    severity: Severity
    status: str = ""  # "5.1.1"; "" when the report gives none
    diagnostic: str = ""  # the server's own words, on one line

    @property
    def reason(self) -> str:
        """The status code and the server's words, for a last answer or a suppression."""
        if self.status and self.status not in self.diagnostic:
            return f"{self.status} {self.diagnostic}".strip()[:DIAGNOSTIC_LENGTH]
        return (self.diagnostic or self.status)[:DIAGNOSTIC_LENGTH]


def failures_of(message: Message) -> list[Failure]:
    """Return the failures a report names: from its DSN fields, then from flufl.bounce's
    detectors, then (only if neither found an address) from the last resort."""
    found = {f.address: f for f in delivery_status(message)}
    temporary, permanent = detected(message)
    text = report_text(message)
    for address in sorted(permanent - found.keys()):
        found[address] = from_text(address, text, Severity.HARD)
    for address in sorted(temporary - found.keys()):
        found[address] = from_text(address, text, Severity.DELAYED)
    if not found:
        return last_resort(message, text)
    return list(found.values())


# --- RFC 3464 fields, by the standard library -------------------------------------------------


def delivery_status(message: Message) -> list[Failure]:
    """Return the failed and delayed recipients of the report's message/delivery-status parts."""
    failures = []
    for part in message.walk():
        if part.get_content_type() == "message/delivery-status":
            failures += [f for f in map(from_fields, recipient_blocks(part)) if f]
    return failures


def recipient_blocks(part: Message) -> list[Message]:
    """Return the per-recipient field blocks of a delivery-status part (the first block is
    about the whole message); a part the parser left as text is read block by block."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload[1:] if isinstance(block, Message)]
    text = payload if isinstance(payload, str) else ""
    blocks = re.split(r"\r?\n\s*\r?\n", text.strip())
    return [HeaderParser().parsestr(block) for block in blocks[1:]]


def from_fields(block: Message) -> Failure | None:
    """Return the failure one recipient's fields report; None for a delivered one."""
    action = one_line(block.get("Action", "")).lower()
    address = recipient_of(block)
    if not address or not action.startswith(("failed", "error", "delayed")):
        return None
    diagnostic = one_line(block.get("Diagnostic-Code", "")).partition(";")[2].strip()
    status = status_in(one_line(block.get("Status", ""))) or status_in(diagnostic)
    if action.startswith("delayed"):
        return Failure(address, Severity.DELAYED, status, diagnostic)
    return Failure(address, severity_of(status), status, diagnostic)


def recipient_of(block: Message) -> str:
    """The address the recipient's block names: the original recipient, else the final one."""
    for name in ("Original-Recipient", "Final-Recipient"):
        kind, _, address = one_line(block.get(name, "")).partition(";")
        address = address.strip().strip("<>").strip().lower()
        if kind.strip().lower() == "rfc822" and "@" in address:
            return address
    return ""


# --- flufl.bounce's detectors -----------------------------------------------------------------


def detected(message: Message) -> tuple[set[str], set[str]]:
    """Return the temporary and the permanent failures flufl.bounce's detectors find; none if a
    detector stumbles on a broken message (it is then left to the last resort)."""
    try:
        temporary, permanent = all_failures(message)
    except Exception:  # a detector meeting a report it does not expect: logged, not fatal
        log.warning("flufl.bounce could not read a report", exc_info=True)
        return set(), set()
    return _addresses(temporary), _addresses(permanent)


def _addresses(found: frozenset[bytes]) -> set[str]:
    """The detected addresses as lowercase text."""
    return {a.decode("ascii", "replace").strip().strip("<>").lower() for a in found if b"@" in a}


def from_text(address: str, text: str, severity: Severity) -> Failure:
    """Return a failure a detector found, its status code looked for in the report's words:
    near the address if it is named there, else anywhere."""
    status, line = code_near(text, address)
    if severity is Severity.HARD:
        severity = severity_of(status)
    return Failure(address, severity, status, line)


# --- The report's own words, and the last resort -----------------------------------------------


def last_resort(message: Message, text: str) -> list[Failure]:
    """A report no detector understood: if it comes from a mailer daemon (or says it is one)
    and gives a status code, its failure is of the original message's recipient ("")."""
    if not looks_like_report(message):
        return []
    status, line = code_near(text, "")
    if not status:
        return []
    delayed = status.startswith("4") and DELAY_WORDS.search(text)
    severity = Severity.DELAYED if delayed else severity_of(status)
    return [Failure("", severity, status, line)]


def looks_like_report(message: Message) -> bool:
    """Whether the message says it is a delivery report, by its type, sender or subject."""
    if str(message.get_param("report-type", "")).lower() == "delivery-status":
        return True
    sender, subject = str(message.get("From", "")), str(message.get("Subject", ""))
    return bool(BOUNCE_SENDERS.search(sender) or BOUNCE_SUBJECTS.search(subject))


def report_text(message: Message) -> str:
    """The report's own words: its text parts up to the returned original (HTML only when it
    has no plain text)."""
    plain = [text_until_original(p) for p in own_parts(message, "text/plain")]
    if any(plain):
        return "\n".join(plain)
    html = "\n".join(text_until_original(p) for p in own_parts(message, "text/html"))
    return re.sub(r"<[^>]+>", " ", html).replace("&lt;", "<").replace("&gt;", ">")


def own_parts(part: Message, content_type: str) -> Iterator[Message]:
    """The leaf parts of one type, leaving out a returned original and the DSN fields."""
    kind = part.get_content_type()
    if kind in ORIGINALS or kind == "message/delivery-status":
        return
    if part.is_multipart():
        for child in part.get_payload():
            if isinstance(child, Message):
                yield from own_parts(child, content_type)
    elif kind == content_type:
        yield part


def text_until_original(part: Message) -> str:
    """A text part decoded (an unknown charset as latin-1), cut where the original begins."""
    lines = text_of(part).splitlines()
    end = next((n for n, line in enumerate(lines) if ORIGINAL_FOLLOWS.search(line)), len(lines))
    return "\n".join(lines[:end])


def quoted_message_ids(message: Message) -> list[str]:
    """The Message-IDs of originals a report quotes in its text (after its own words)."""
    found: list[str] = []
    for part in own_parts(message, "text/plain"):
        found += QUOTED_MESSAGE_ID.findall(text_of(part))
    return found


def code_near(text: str, address: str) -> tuple[str, str]:
    """The first status code in the lines from where `address` is named (or in all of them),
    and its line; ("", "") if none. An SMTP reply code alone stands for its class (550:
    5.0.0)."""
    lines = [one_line(line) for line in text.splitlines()]
    start = next((n for n, line in enumerate(lines) if address and address in line.lower()), 0)
    for line in lines[start:] + lines[:start]:
        status = status_in(line)
        if status:
            return status, from_code(line)[:DIAGNOSTIC_LENGTH]
    return "", ""


def from_code(line: str) -> str:
    """The line from its reply code on ("Remote host said: 550 5.1.1 …" -> "550 5.1.1 …")."""
    found = BASIC.search(line) or ENHANCED.search(line)
    return line[found.start() :] if found else line


def status_in(text: str) -> str:
    """The enhanced status code in `text` ("5.1.1"), else the class of an SMTP reply code
    ("5.0.0"), else ""."""
    enhanced = ENHANCED.search(text)
    if enhanced:
        return enhanced.group(0)
    basic = BASIC.search(text)
    return f"{basic.group(1)}.0.0" if basic else ""


def severity_of(status: str) -> Severity:
    """A failure's severity by its code: 4.x.x soft, anything else (5.x.x, none) hard."""
    return Severity.SOFT if status.startswith("4") else Severity.HARD


def one_line(value: object) -> str:
    """A header value unfolded to one line with single spaces."""
    return " ".join(str(value).split())
