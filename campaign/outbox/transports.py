"""Where mail goes: an SMTP server, a Maildir (the embedded default), or memory (tests).

A transport opens a connection; a connection sends one message at a time and says how it went
by returning the server's answer or raising one of the errors below.
"""

from __future__ import annotations

import mailbox
import smtplib
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit


class DeliveryError(Exception):
    """The server did not take the message; `answer` is what it said (or what went wrong)."""

    def __init__(self, answer: str) -> None:
        super().__init__(answer)
        self.answer = answer[:1000]


class TemporaryFailure(DeliveryError):
    """A 4xx answer: try again later."""


class PermanentFailure(DeliveryError):
    """A 5xx answer to the message itself: it will never be accepted."""


class RecipientRefused(PermanentFailure):
    """A 5xx answer to the recipient: the address is bad, so it is suppressed."""


class ConnectionLost(DeliveryError):
    """The connection broke while sending: the message may or may not have arrived."""


class ConnectFailed(DeliveryError):
    """The server could not be reached or refused to start a session."""


class Connection(Protocol):
    """An open way to the mail server, one message at a time."""

    def send(self, sender: str, recipient: str, data: bytes) -> str: ...

    def close(self) -> None: ...


class Transport(Protocol):
    """Where mail goes; it opens connections."""

    def connect(self) -> Connection: ...


def _answer(code: int, text: bytes | str) -> str:
    """Return a server's answer as one line: "250 2.0.0 Ok"."""
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(text.split())}"


@dataclass(frozen=True)
class SMTPTransport:
    """An SMTP server: smtp:// (STARTTLS when offered) or smtps:// (TLS from the start)."""

    host: str
    port: int
    implicit_tls: bool = False
    starttls: bool = True
    verify: bool = True
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0

    @classmethod
    def from_url(cls, url: str) -> SMTPTransport:
        """Return the transport of a URL such as smtp://user:password@host:587?verify=off."""
        parts = urlsplit(url)
        options = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
        implicit = parts.scheme == "smtps"
        return cls(
            host=parts.hostname or "localhost",
            port=parts.port or (465 if implicit else 587),
            implicit_tls=implicit,
            starttls=_is_on(options, "starttls"),
            verify=_is_on(options, "verify"),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            timeout=float(options.get("timeout", 30)),
        )

    def _tls(self) -> ssl.SSLContext:
        """Return the TLS settings: the system's certificates, unless verifying is off."""
        context = ssl.create_default_context()
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def connect(self) -> SMTPConnection:
        """Open a session; ConnectFailed with the server's answer, or what went wrong."""
        try:
            smtp = self._open()
            self._start(smtp)
        except smtplib.SMTPResponseException as error:
            raise ConnectFailed(_answer(error.smtp_code, error.smtp_error)) from None
        except (OSError, smtplib.SMTPException) as error:
            raise ConnectFailed(f"{self.host}:{self.port}: {error}") from None
        return SMTPConnection(smtp)

    def _open(self) -> smtplib.SMTP:
        """Connect to the server, with TLS from the start for smtps://."""
        if self.implicit_tls:
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._tls())
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)

    def _start(self, smtp: smtplib.SMTP) -> None:
        """Greet the server, switch to TLS when it offers STARTTLS, and log in if asked to."""
        smtp.ehlo()
        if not self.implicit_tls and self.starttls and smtp.has_extn("starttls"):
            smtp.starttls(context=self._tls())
            smtp.ehlo()
        if self.username:
            smtp.login(self.username, self.password or "")


class SMTPConnection:
    """One SMTP session, reused for many messages."""

    def __init__(self, smtp: smtplib.SMTP) -> None:
        self.smtp = smtp

    def send(self, sender: str, recipient: str, data: bytes) -> str:
        """Send one message; return the server's answer, or raise what it means."""
        try:
            code, text = self.smtp.mail(sender)
            if code != 250:  # our own sender refused: a setting to fix, never the message's fault
                self._fail(code, text, temporary=True)
            code, text = self.smtp.rcpt(recipient)
            if code not in (250, 251):
                self._fail(code, text, recipient=True)
            code, text = self.smtp.data(data)
        except smtplib.SMTPDataError as error:
            self._fail(error.smtp_code, error.smtp_error)
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            raise ConnectionLost(f"connection lost: {error or type(error).__name__}") from None
        if code != 250:
            self._fail(code, text)
        return _answer(code, text)

    def _fail(
        self, code: int, text: bytes | str, *, recipient: bool = False, temporary: bool = False
    ) -> None:
        """Raise what a refusal means: the session is over, try again later, or never."""
        answer = _answer(code, text)
        if code == 421 or code < 0:  # the server is closing the session
            raise ConnectionLost(answer)
        self._reset(answer)
        if 400 <= code < 500 or temporary:
            raise TemporaryFailure(answer)
        raise RecipientRefused(answer) if recipient else PermanentFailure(answer)

    def _reset(self, answer: str) -> None:
        """Make the session ready for the next message; ConnectionLost if it cannot be."""
        try:
            self.smtp.rset()
        except (smtplib.SMTPException, OSError):
            raise ConnectionLost(answer) from None

    def close(self) -> None:
        """End the session, politely if the server still listens."""
        try:
            self.smtp.quit()
        except (smtplib.SMTPException, OSError):
            self.smtp.close()


@dataclass
class MaildirTransport:
    """A Maildir folder: what the demo and a machine without a mail server use."""

    path: Path

    def connect(self) -> MaildirConnection:
        """Open the folder, creating it if need be."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return MaildirConnection(mailbox.Maildir(self.path, create=True), self.path)


@dataclass
class MaildirConnection:
    """An open Maildir folder: each message sent is a file in it."""

    folder: mailbox.Maildir
    path: Path

    def send(self, sender: str, recipient: str, data: bytes) -> str:
        """Store the message, with the recipient in a Delivered-To header."""
        key = self.folder.add(b"Delivered-To: " + recipient.encode() + b"\r\n" + data)
        return f"250 stored in {self.path} as {key}"

    def close(self) -> None:
        pass


@dataclass
class MemoryTransport:
    """Keeps sent mail in a list, for tests that are not about SMTP."""

    sent: list[tuple[str, str, bytes]] = field(default_factory=list)

    def connect(self) -> MemoryTransport:
        return self

    def send(self, sender: str, recipient: str, data: bytes) -> str:
        self.sent.append((sender, recipient, data))
        return "250 kept in memory"

    def close(self) -> None:
        pass


def _is_on(options: dict[str, str], name: str) -> bool:
    """Whether a URL's option is on: anything but off, no or 0 (on when it is not given)."""
    return options.get(name, "on") not in ("off", "no", "0")


def transport_from_config(config: Any) -> Transport:
    """Return the transport the settings ask for: SMTP when CAMPAIGN_SMTP_URL is set."""
    if config.get("CAMPAIGN_TRANSPORT") is not None:  # installed by tests
        return config["CAMPAIGN_TRANSPORT"]
    if config.get("CAMPAIGN_SMTP_URL"):
        return SMTPTransport.from_url(config["CAMPAIGN_SMTP_URL"])
    return MaildirTransport(Path(config["CAMPAIGN_MAILDIR"]))
