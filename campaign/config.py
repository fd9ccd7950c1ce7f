"""Every setting once: its default, one line of documentation, and its validation.

Precedence, lowest first: built-in defaults, `.env` in the working directory,
`instance/config.py`, `CAMPAIGN_*` environment variables, then `test_config`.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dotenv import load_dotenv

from campaign import config_checks as checks
from campaign import config_sso
from campaign.webhooks import settings as webhook_settings
from campaign.webhooks.settings import DECLARED as WEBHOOK_SETTINGS

DEMO_MAIL_FROM = "Kampanj <kampanj@example.org>"


class ConfigError(Exception):
    """A setting has a value the service cannot run with; the message names it."""


@dataclass(frozen=True)
class Setting:
    """One setting: its name, one line of documentation, its default and its check."""

    name: str
    doc: str
    default: Callable[[Path], str | None]
    check: Callable[[str], None] | None = None


IMAP_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "CAMPAIGN_IMAP_URL",
        "Mailbox the imap job reads returned mail from (imaps://user@host:993/INBOX);"
        " unset means no mailbox is read.",
        lambda instance: None,
        checks.check_imap_url,
    ),
    Setting("CAMPAIGN_IMAP_PASSWORD", "Password of the mailbox's user.", lambda instance: None),
    Setting(
        "CAMPAIGN_IMAP_CA_FILE",
        "PEM file of the CA certificates trusted for the IMAP server; the system's by default.",
        lambda instance: None,
        checks.check_readable_file,
    ),
    Setting(
        "CAMPAIGN_IMAP_OAUTH2_TOKEN_URL",
        "OAuth2 token endpoint for XOAUTH2 (Microsoft 365:"
        " https://login.microsoftonline.com/TENANT/oauth2/v2.0/token); unset means a password.",
        lambda instance: None,
        checks.check_http_url,
    ),
    Setting("CAMPAIGN_IMAP_OAUTH2_CLIENT_ID", "OAuth2 client (application) id.", lambda i: None),
    Setting("CAMPAIGN_IMAP_OAUTH2_CLIENT_SECRET", "OAuth2 client secret.", lambda i: None),
    Setting(
        "CAMPAIGN_IMAP_OAUTH2_SCOPE",
        "Scope asked for with the client credentials.",
        lambda instance: "https://outlook.office365.com/.default",
    ),
    Setting(
        "CAMPAIGN_IMAP_DONE_FOLDER",
        "Folder that handled messages are moved to (/ between levels).",
        lambda instance: "Campaign/Handled",
        checks.check_folder,
    ),
    Setting(
        "CAMPAIGN_IMAP_KEPT_FOLDER",
        "Folder that messages kept for a person to read are moved to.",
        lambda instance: "Campaign/Kept",
        checks.check_folder,
    ),
    Setting(
        "CAMPAIGN_IMAP_BATCH",
        "How many messages one run of the imap job reads at most.",
        lambda instance: "200",
        checks.check_positive_int,
    ),
)


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "CAMPAIGN_DATABASE_URL",
        "SQLAlchemy URL of the database; SQLite in the instance folder by default.",
        lambda instance: f"sqlite:///{instance / 'campaign.sqlite3'}",
        checks.check_database_url,
    ),
    Setting(
        "CAMPAIGN_SECRET_KEY",
        "Key that signs sessions and links; generated into instance/secret_key when unset.",
        lambda instance: None,
    ),
    Setting(
        "CAMPAIGN_BASE_URL",
        "Public address of the web UI, used in links sent by e-mail.",
        lambda instance: "http://127.0.0.1:5000",
        checks.check_http_url,
    ),
    Setting(
        "CAMPAIGN_SMTP_URL",
        "SMTP server to send through; unset means mail is written to the Maildir instead.",
        lambda instance: None,
        checks.check_smtp_url,
    ),
    Setting(
        "CAMPAIGN_MAILDIR",
        "Maildir that receives mail when no SMTP server is configured.",
        lambda instance: str(instance / "maildir"),
    ),
    Setting(
        "CAMPAIGN_MAIL_FROM",
        "Sender address of every e-mail.",
        lambda instance: DEMO_MAIL_FROM,
        checks.check_mail_from,
    ),
    Setting(
        "CAMPAIGN_RETURN_PATH",
        "Envelope sender of every mail, {token} naming the message (VERP); "
        "bounces+{token}@ the sender's domain when unset.",
        lambda instance: None,
        checks.check_return_path,
    ),
    Setting(
        "CAMPAIGN_INBOUND_MAX_BYTES",
        "Largest inbound message kept whole; a larger one is kept cut short, for a person.",
        lambda instance: "60000000",
        checks.check_positive_int,
    ),
    Setting(
        "CAMPAIGN_DISPATCH_BATCH",
        "How many messages one dispatcher claims at a time.",
        lambda instance: "200",
        checks.check_positive_int,
    ),
    Setting(
        "CAMPAIGN_DISPATCH_LEASE_SECONDS",
        "How long claimed messages stay with a dispatcher before another may take them over.",
        lambda instance: "300",
        checks.check_positive_int,
    ),
    Setting(
        "CAMPAIGN_SMTP_CONNECTIONS",
        "How many sessions one dispatcher keeps open to the mail server at once.",
        lambda instance: "2",
        checks.check_positive_int,
    ),
    Setting(
        "CAMPAIGN_DKIM_KEY_FILE",
        "PEM file of the RSA key that DKIM-signs outgoing mail; unset means no signing.",
        lambda instance: None,
        checks.check_readable_file,
    ),
    Setting(
        "CAMPAIGN_DKIM_SELECTOR",
        "DKIM selector whose DNS record holds the public key (needed with the key file).",
        lambda instance: None,
    ),
    Setting(
        "CAMPAIGN_DKIM_DOMAIN",
        "Domain that signs; the sender address's domain when unset.",
        lambda instance: None,
    ),
    Setting(
        "CAMPAIGN_TRUSTED_PROXIES",
        "How many reverse proxies stand in front (their X-Forwarded-* headers are believed).",
        lambda instance: "0",
        checks.check_whole_number,
    ),
    Setting(
        "CAMPAIGN_API_RATE_LIMIT",
        "How many API requests one token may make a minute (more get 429 Too Many Requests).",
        lambda instance: "600",
        checks.check_positive_int,
    ),
    Setting(
        "CAMPAIGN_DEFAULT_LANGUAGE",
        "Language of the UI when the user has not chosen one (sv or en).",
        lambda instance: "sv",
        checks.check_language,
    ),
    Setting(
        "CAMPAIGN_CLOCK_FILE",
        "Simulations only (bench/scale.py): a file whose simulated moment every process takes"
        " for now; refused unless mail goes to a server on this machine. Unset: the real clock.",
        lambda instance: None,
        checks.check_readable_file,
    ),
    *IMAP_SETTINGS,
    *(Setting(*row) for row in config_sso.ROWS),
    *(Setting(*declared) for declared in WEBHOOK_SETTINGS),
)


def load(instance_path: Path, test_config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return the validated settings from all sources, generating the secret key if needed."""
    values = _from_sources(instance_path, test_config)
    validate(values)
    if not values["CAMPAIGN_SECRET_KEY"]:
        values["CAMPAIGN_SECRET_KEY"] = _stored_secret_key(instance_path)
    return values


def _from_sources(instance_path: Path, test_config: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return the settings as the sources give them, each over the one before."""
    load_dotenv(Path.cwd() / ".env", override=False)
    values: dict[str, Any] = {s.name: s.default(instance_path) for s in SETTINGS}
    values.update(_read_instance_config(instance_path))
    values.update({s.name: os.environ[s.name] for s in SETTINGS if os.environ.get(s.name)})
    values.update(test_config or {})
    return values


def validate(values: Mapping[str, Any]) -> None:
    """Raise ConfigError naming the first setting whose value is unusable."""
    for setting in SETTINGS:
        _check(setting, values.get(setting.name))
    _check_together(values)


def _check(setting: Setting, value: Any) -> None:
    """Raise ConfigError if a setting's value (when given) fails its check."""
    if value and setting.check:
        try:
            setting.check(str(value))
        except ValueError as error:
            raise ConfigError(f"{setting.name}={value!r} {error}.") from None


def _check_together(values: Mapping[str, Any]) -> None:
    """Raise ConfigError for settings that need another: DKIM, a real sender for SMTP, a way
    to log in to the inbound mailbox, single sign-on's client, and no webhook exceptions in a
    deployment served over https."""
    _check_dkim(values)
    _check_sender(values)
    _check_simulated_clock(values)
    _check_imap_login(values)
    try:
        config_sso.check_together(values)
        webhook_settings.check_together(values)
    except ValueError as error:
        raise ConfigError(str(error)) from None


def _check_dkim(values: Mapping[str, Any]) -> None:
    """Raise ConfigError for a DKIM key without its selector."""
    if values.get("CAMPAIGN_DKIM_KEY_FILE") and not values.get("CAMPAIGN_DKIM_SELECTOR"):
        raise ConfigError("CAMPAIGN_DKIM_SELECTOR must be set when CAMPAIGN_DKIM_KEY_FILE is.")


def _check_sender(values: Mapping[str, Any]) -> None:
    """Raise ConfigError for real mail (an SMTP server) sent as the demo's sender."""
    if values.get("CAMPAIGN_SMTP_URL") and values.get("CAMPAIGN_MAIL_FROM") == DEMO_MAIL_FROM:
        raise ConfigError(
            "CAMPAIGN_MAIL_FROM must be set to your organisation's address when "
            "CAMPAIGN_SMTP_URL is set."
        )


def _check_simulated_clock(values: Mapping[str, Any]) -> None:
    """Raise ConfigError for a simulated clock with mail going anywhere but this machine: the
    clock would send real people mail at simulated moments."""
    smtp_url = values.get("CAMPAIGN_SMTP_URL")
    if values.get("CAMPAIGN_CLOCK_FILE") and smtp_url and not checks.is_loopback_url(smtp_url):
        raise ConfigError(
            "CAMPAIGN_CLOCK_FILE is for simulations: set it only with a CAMPAIGN_SMTP_URL on"
            " this machine (127.0.0.1, ::1 or localhost)."
        )


def _check_imap_login(values: Mapping[str, Any]) -> None:
    """Raise ConfigError for a mailbox with neither a password nor a whole OAuth2 client."""
    if not values.get("CAMPAIGN_IMAP_URL"):
        return
    oauth2 = ("CAMPAIGN_IMAP_OAUTH2_CLIENT_ID", "CAMPAIGN_IMAP_OAUTH2_CLIENT_SECRET")
    if values.get("CAMPAIGN_IMAP_OAUTH2_TOKEN_URL"):
        missing = [name for name in oauth2 if not values.get(name)]
        if missing:
            raise ConfigError(f"{missing[0]} must be set when CAMPAIGN_IMAP_OAUTH2_TOKEN_URL is.")
    elif not values.get("CAMPAIGN_IMAP_PASSWORD"):
        raise ConfigError(
            "CAMPAIGN_IMAP_PASSWORD (or CAMPAIGN_IMAP_OAUTH2_TOKEN_URL with a client id and"
            " secret) must be set when CAMPAIGN_IMAP_URL is."
        )


def _read_instance_config(instance_path: Path) -> dict[str, Any]:
    """Return the CAMPAIGN_* settings of instance/config.py, if there is one."""
    path = instance_path / "config.py"
    if not path.exists():
        return {}
    namespace: dict[str, Any] = {}
    try:
        exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)
    except Exception as error:  # any mistake in the file is the operator's to fix
        raise ConfigError(f"{path} could not be read: {error}.") from None
    return {k: v for k, v in namespace.items() if k.startswith("CAMPAIGN_")}


def _stored_secret_key(instance_path: Path) -> str:
    """Return the key in instance/secret_key, generated the first time."""
    path = instance_path / "secret_key"
    if not path.exists():
        _write_secret_key(instance_path, path)
    return path.read_text().strip()


def _write_secret_key(instance_path: Path, path: Path) -> None:
    """Write a new random key to `path`, unless another process has just written one.

    Written aside, then linked into place: two processes starting at once agree on one key.
    """
    instance_path.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=instance_path, prefix=".secret_key.")
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(temporary)
