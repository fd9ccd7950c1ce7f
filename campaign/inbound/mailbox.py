"""The IMAP mailbox the imap job reads: its settings, a connection whose TLS certificate is
verified, the login (password, or an OAuth2 token by XOAUTH2), the messages waiting, and moving
them to a folder. Every failure of the server's becomes CannotRun with one sentence."""

from __future__ import annotations

import imaplib
import logging
import re
import ssl
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from campaign.inbound import oauth2
from campaign.jobs import CannotRun

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 60.0
UID = re.compile(rb"\bUID (\d+)")
SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")


@dataclass(frozen=True)
class Fetched:
    """One message as fetched: its UID, its bytes (perhaps only the first part) and full size."""

    uid: str
    raw: bytes
    size: int


@dataclass(frozen=True)
class Settings:
    """Where the mailbox is, how to log in, and where handled and kept messages go."""

    host: str
    port: int
    starttls: bool
    user: str
    folder: str  # read from
    done_folder: str
    kept_folder: str
    batch: int
    password: str | None = field(default=None, repr=False)
    client: oauth2.Client | None = None  # XOAUTH2 instead of the password
    ca_file: str | None = None

    @property
    def server(self) -> str:
        return f"{self.host}:{self.port}"


def settings_from_config(config: Mapping[str, Any]) -> Settings | None:
    """Return the mailbox's settings from the app's configuration; None when none is set."""
    url = config.get("CAMPAIGN_IMAP_URL")
    if not url:
        return None
    parts = urlsplit(url)
    starttls = parts.scheme == "imap+starttls"
    return Settings(
        host=parts.hostname or "",
        port=parts.port or (143 if starttls else 993),
        starttls=starttls,
        user=unquote(parts.username or ""),
        folder=unquote(parts.path.lstrip("/")) or "INBOX",
        done_folder=config.get("CAMPAIGN_IMAP_DONE_FOLDER") or "Campaign/Handled",
        kept_folder=config.get("CAMPAIGN_IMAP_KEPT_FOLDER") or "Campaign/Kept",
        batch=int(config.get("CAMPAIGN_IMAP_BATCH") or 200),
        password=config.get("CAMPAIGN_IMAP_PASSWORD"),
        client=_client(config),
        ca_file=config.get("CAMPAIGN_IMAP_CA_FILE") or None,
    )


def _client(config: Mapping[str, Any]) -> oauth2.Client | None:
    """Return the OAuth2 client of the settings, if a token endpoint is set."""
    if not config.get("CAMPAIGN_IMAP_OAUTH2_TOKEN_URL"):
        return None
    return oauth2.Client(
        config["CAMPAIGN_IMAP_OAUTH2_TOKEN_URL"],
        config.get("CAMPAIGN_IMAP_OAUTH2_CLIENT_ID") or "",
        config.get("CAMPAIGN_IMAP_OAUTH2_CLIENT_SECRET") or "",
        config.get("CAMPAIGN_IMAP_OAUTH2_SCOPE") or "https://outlook.office365.com/.default",
    )


class Mailbox:
    """A logged-in connection with the source folder selected."""

    def __init__(self, connection: imaplib.IMAP4, settings: Settings) -> None:
        self.connection = connection
        self.settings = settings
        self.capabilities = _capabilities(connection)
        self.delimiter = _delimiter(connection)
        self.created: set[str] = set()

    def select(self) -> None:
        """Open the folder to read from."""
        name = _quoted(self.settings.folder.replace("/", self.delimiter))
        _ok(self, self.connection.select(name), f"open the folder {self.settings.folder}")

    def waiting(self) -> list[str]:
        """Return the UIDs of the messages in the folder (not marked deleted), oldest first,
        at most a run's batch of them."""
        answer = _ok(self, self.connection.uid("SEARCH", "UNDELETED"), "search the folder")
        uids = b" ".join(part for part in answer if isinstance(part, bytes)).decode().split()
        return sorted(uids, key=int)[: self.settings.batch]

    def fetch(self, uids: Sequence[str], limit: int) -> list[Fetched]:
        """Return the messages, at most `limit` bytes of each, leaving them unread (PEEK)."""
        items = f"(UID RFC822.SIZE BODY.PEEK[]<0.{limit}>)"
        return _messages_in(_ok(self, self.connection.uid("FETCH", ",".join(uids), items)))

    def move(self, uids: Sequence[str], folder: str) -> None:
        """Move the messages to `folder` (settings' names: / between levels), creating it."""
        if not uids:
            return
        name = self._existing(folder)
        uid_set = ",".join(uids)
        if "MOVE" in self.capabilities:
            _ok(self, self.connection.uid("MOVE", uid_set, name), f"move messages to {folder}")
            return
        _ok(self, self.connection.uid("COPY", uid_set, name), f"copy messages to {folder}")
        _ok(self, self.connection.uid("STORE", uid_set, "+FLAGS.SILENT", r"(\Deleted)"))
        if "UIDPLUS" in self.capabilities:  # without it EXPUNGE would remove others' too
            _ok(self, self.connection.uid("EXPUNGE", uid_set), "expunge moved messages")

    def _existing(self, folder: str) -> str:
        """Return the folder's quoted name on this server, creating the folder if missing."""
        name = _quoted(folder.replace("/", self.delimiter))
        if folder not in self.created:
            _, listed = self.connection.list('""', name)
            if not [line for line in listed if line]:
                _ok(self, self.connection.create(name), f"create the folder {folder}")
                self.connection.subscribe(name)
            self.created.add(folder)
        return name


@contextmanager
def opened(settings: Settings) -> Iterator[Mailbox]:
    """Connect, log in and select the source folder; log out when the block ends."""
    connection = _connect(settings)
    try:
        _log_in(connection, settings)
        mailbox = Mailbox(connection, settings)
        mailbox.select()
        yield mailbox
    except (imaplib.IMAP4.error, OSError) as error:
        raise CannotRun(f"The IMAP server {settings.server} broke off: {_said(error)}.") from None
    finally:
        _close(connection)


def _connect(settings: Settings) -> imaplib.IMAP4:
    """Open a TLS connection (direct or by STARTTLS) whose certificate is verified."""
    context = ssl.create_default_context(cafile=settings.ca_file)
    try:
        if not settings.starttls:
            return imaplib.IMAP4_SSL(
                settings.host, settings.port, ssl_context=context, timeout=TIMEOUT_SECONDS
            )
        return _starttls(
            imaplib.IMAP4(settings.host, settings.port, timeout=TIMEOUT_SECONDS), context
        )
    except ssl.SSLCertVerificationError as error:
        raise CannotRun(_untrusted(settings, error)) from None
    except (OSError, imaplib.IMAP4.error) as error:
        said = f"The IMAP server {settings.server} could not be reached: {_said(error)}."
        raise CannotRun(said) from None


def _starttls(connection: imaplib.IMAP4, context: ssl.SSLContext) -> imaplib.IMAP4:
    """Turn a plain connection into a TLS one, or close it and raise."""
    try:
        connection.starttls(context)
    except BaseException:
        with suppress(OSError):  # a failed handshake may have closed the socket already
            connection.shutdown()
        raise
    return connection


def _untrusted(settings: Settings, error: ssl.SSLCertVerificationError) -> str:
    return (
        f"The IMAP server {settings.server} showed a TLS certificate that is not trusted"
        f" ({error.verify_message}); nothing was read. Set CAMPAIGN_IMAP_CA_FILE to the CA"
        " that signed it."
    )


def _log_in(connection: imaplib.IMAP4, settings: Settings) -> None:
    """Log in by XOAUTH2 with a token, or with the password (SASL PLAIN when offered, which
    carries any letters; the LOGIN command only ASCII)."""
    try:
        if settings.client is not None:
            token = oauth2.access_token(settings.client)
            connection.authenticate("XOAUTH2", _once(oauth2.xoauth2(settings.user, token)))
        elif "AUTH=PLAIN" in _capabilities(connection):
            secret = f"\0{settings.user}\0{settings.password or ''}".encode()
            connection.authenticate("PLAIN", lambda _: secret)
        else:
            connection.login(settings.user, settings.password or "")
    except (imaplib.IMAP4.error, UnicodeEncodeError) as error:
        if settings.client is not None:
            oauth2.forget(settings.client)
        raise CannotRun(
            f"The IMAP server {settings.server} refused the login of {settings.user}:"
            f" {_said(error)}."
        ) from None


def _once(initial: bytes) -> Callable[[bytes], bytes]:
    """Answer the first challenge with `initial`, and any later one (XOAUTH2's error details
    before the refusal) with an empty line, as the mechanism asks."""
    answered: list[bytes] = []

    def answer(challenge: bytes) -> bytes:
        answered.append(challenge)
        return initial if len(answered) == 1 else b""

    return answer


def _capabilities(connection: imaplib.IMAP4) -> set[str]:
    """Return the server's capabilities as it states them now (they change at login)."""
    _, answer = connection.capability()
    words = b" ".join(part for part in answer if isinstance(part, bytes)).decode("ascii", "replace")
    return {word.upper() for word in words.split()}


def _delimiter(connection: imaplib.IMAP4) -> str:
    """Return the server's folder hierarchy delimiter ("/" for Exchange, "." for many Dovecots)."""
    _, answer = connection.list('""', '""')
    line = answer[0] if answer and isinstance(answer[0], bytes) else b""
    match = re.search(rb'\) "((?:\\.|[^"\\])+)"', line)
    return match.group(1).decode().replace("\\", "") if match else "/"


def _messages_in(answer: list[Any]) -> list[Fetched]:
    """Return the messages of a FETCH answer, whether the UID and size come before the body or
    after it (imaplib gives a (line, body) pair, then the rest of the line)."""
    found: list[tuple[bytes, bytes]] = []  # each message's line (both halves) and body
    for item in answer:
        if isinstance(item, tuple):
            found.append((item[0], item[1]))
        elif isinstance(item, bytes) and found:
            line, body = found[-1]
            found[-1] = (line + item, body)
    return [fetched for line, body in found if (fetched := _fetched(line, body)) is not None]


def _fetched(line: bytes, body: bytes) -> Fetched | None:
    """Return the message of one FETCH line, or None if the server left out its UID."""
    uid, size = UID.search(line), SIZE.search(line)
    if uid is None:
        return None
    return Fetched(uid.group(1).decode(), body, int(size.group(1)) if size else len(body))


def _ok(mailbox: Mailbox, result: tuple[str, list[Any]], doing: str = "read") -> list[Any]:
    """Return a command's data; raise CannotRun saying what failed when it is not OK."""
    status, data = result
    if status != "OK":
        said = b" ".join(part for part in data if isinstance(part, bytes)).decode(errors="replace")
        raise CannotRun(f"The IMAP server {mailbox.settings.server} would not {doing}: {said}.")
    return data


def _quoted(name: str) -> str:
    """Return a folder name as an IMAP quoted string."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _said(error: BaseException) -> str:
    """Return an error's text without the b'...' wrapping imaplib gives it."""
    first = error.args[0] if error.args else error
    text = first.decode(errors="replace") if isinstance(first, bytes) else str(first)
    return (getattr(error, "strerror", None) or text).rstrip(".")


def _close(connection: imaplib.IMAP4) -> None:
    """Log out, whatever state the connection is in."""
    try:
        connection.logout()
    except (imaplib.IMAP4.error, OSError):
        log.debug("the IMAP logout failed", exc_info=True)
