"""The checks of single settings' values: each raises ValueError with the end of a sentence
that config.py begins with the setting's name and value."""

from __future__ import annotations

import os
from urllib.parse import SplitResult, unquote, urlsplit

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


def check_database_url(value: str) -> None:
    """Refuse anything but a SQLite or PostgreSQL URL."""
    try:
        url = make_url(value)
    except ArgumentError:
        raise ValueError("is not a database URL such as sqlite:///path or postgresql://…") from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ValueError("must be a sqlite:// or postgresql:// URL")


def check_http_url(value: str) -> None:
    """Refuse anything but an http(s) address with a host."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            "must be an http:// or https:// address such as https://kampanj.example.se"
        )


def check_smtp_url(value: str) -> None:
    """Refuse anything but an smtp(s) URL whose login smtplib can send."""
    parts = urlsplit(value)
    check_port(parts)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("must look like smtp://user:password@host:587 or smtps://host:465")
    if not unquote(f"{parts.username or ''}{parts.password or ''}").isascii():
        raise ValueError(
            "has a user name or password with letters such as å, ä, ö, which SMTP "
            "login (and Python's smtplib) cannot send"
        )


def check_port(parts: SplitResult) -> None:
    """Refuse a URL whose port is not a number."""
    try:
        parts.port  # noqa: B018 - raises ValueError on a non-numeric port
    except ValueError:
        raise ValueError("has a port that is not a number") from None


def check_mail_from(value: str) -> None:
    """Refuse a sender that is not an e-mail address (with or without a name)."""
    from email.utils import parseaddr

    _, address = parseaddr(value)
    try:
        validate_email(address, check_deliverability=False, globally_deliverable=False)
    except EmailNotValidError:
        raise ValueError("is not an e-mail address such as Kampanj <kampanj@kungalv.se>") from None


def check_return_path(value: str) -> None:
    """Refuse a return-path template without {token}, or that is no address when filled in."""
    if value.count("{token}") != 1 or "@" not in value.partition("{token}")[2]:
        raise ValueError("must hold {token} once, before the @, such as bounces+{token}@kungalv.se")
    check_mail_from(value.replace("{token}", "1-0123456789"))


def check_positive_int(value: str) -> None:
    """Refuse anything but a whole number of at least 1."""
    if not value.isdigit() or int(value) < 1:
        raise ValueError("must be a whole number of at least 1")


def check_whole_number(value: str) -> None:
    """Refuse anything but a whole number."""
    if not value.isdigit():
        raise ValueError("must be a whole number (0 or more)")


def check_readable_file(value: str) -> None:
    """Refuse a path this process cannot read."""
    if not os.access(value, os.R_OK):
        raise ValueError("is not a file this process can read")


def check_language(value: str) -> None:
    """Refuse a language the UI does not speak."""
    if value not in ("sv", "en"):
        raise ValueError("must be sv or en")


def check_imap_url(value: str) -> None:
    """Refuse anything but an imaps:// or imap+starttls:// URL with a user and a host."""
    parts = urlsplit(value)
    check_port(parts)
    if parts.scheme not in ("imaps", "imap+starttls") or not parts.hostname or not parts.username:
        raise ValueError(
            "must look like imaps://user@host:993/INBOX or imap+starttls://user@host:143/INBOX"
            " (the mailbox is only read over TLS)"
        )


def check_folder(value: str) -> None:
    """Refuse a folder name that is not plain ASCII (IMAP would need it in modified UTF-7)."""
    if not value.isascii() or not value.isprintable():
        raise ValueError("must be a folder name of plain letters a-z, digits and / between levels")


def is_loopback_url(value: str) -> bool:
    """Return whether a URL names a server on this machine (127.0.0.1, ::1 or localhost)."""
    return urlsplit(value).hostname in ("127.0.0.1", "::1", "localhost")
