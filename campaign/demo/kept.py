"""The instance folder `campaign simulate --keep DIR` leaves: what `campaign serve` opens.

DIR holds what the configuration (campaign/config.py) reads from an instance folder by default:
the SQLite database `campaign.sqlite3`, the key that signs links `secret_key`, the Maildir
`maildir` (every mail the simulation sent, and every mail the served campaign sends later, as no
SMTP server is configured), and `config.py` with the address the links in the mails lead to
and the sender. A lead administrator's account with a new password lets one sign in.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import Flask

from campaign import db
from campaign.accounts.models import Role, User
from campaign.network.models import Campaign
from campaign.security import hash_password

BASE_URL = "http://127.0.0.1:5000"  # where `campaign serve` listens by default
MAIL_FROM = "Kampanjen <kampanj@simulation.example.org>"
ACCOUNT = ("lead@simulation.example.org", "Lena Lindgren")
# Settings that, set in the environment, would win over the folder's (config.py's precedence).
OVERRIDING = (
    "CAMPAIGN_DATABASE_URL",
    "CAMPAIGN_SECRET_KEY",
    "CAMPAIGN_BASE_URL",
    "CAMPAIGN_SMTP_URL",
    "CAMPAIGN_MAILDIR",
)

CONFIG = f'''\
"""Settings of a campaign made by `campaign simulate --keep`; serve it with
CAMPAIGN_INSTANCE_PATH=<this folder> campaign serve

The database (campaign.sqlite3), the secret key (secret_key) and the Maildir (maildir) are
this folder's by default. No SMTP server is set: mail is written to the Maildir.
"""

CAMPAIGN_BASE_URL = "{BASE_URL}"
CAMPAIGN_MAIL_FROM = "{MAIL_FROM}"
'''


@dataclass(frozen=True)
class Account:
    """The account to sign in to a kept campaign with."""

    email: str
    password: str


def unusable(folder: Path) -> str | None:
    """Say why `folder` cannot become a kept campaign's folder (None: it can)."""
    if folder.exists() and not folder.is_dir():
        return f"{folder} is a file: give the name of a new or empty folder."
    if folder.is_dir() and any(folder.iterdir()):
        return (
            f"The folder {folder} is not empty: give a new or empty folder,"
            " so that nothing in it is overwritten."
        )
    return None


def database(folder: Path) -> Path:
    """Return the SQLite file of the instance folder (config.py's default)."""
    return folder / "campaign.sqlite3"


def maildir(folder: Path) -> Path:
    """Return the Maildir of the instance folder (config.py's default)."""
    return folder / "maildir"


def prepare(folder: Path) -> dict[str, str]:
    """Make `folder` an instance folder with a new secret key and config.py; return the
    settings the simulation's app needs to sign links as the served app will check them."""
    folder.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    (folder / "secret_key").write_text(key)
    (folder / "config.py").write_text(CONFIG, encoding="utf-8")
    return {"CAMPAIGN_SECRET_KEY": key}


def add_account(app: Flask, campaign_id: int, at: datetime) -> Account:
    """Add a lead administrator of the campaign's lead organisation, with a new password."""
    account = Account(ACCOUNT[0], secrets.token_urlsafe(12))
    with app.app_context(), db.open_session(app) as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        session.add(
            User(
                email=account.email, name=ACCOUNT[1], role=Role.LEAD_ADMIN,
                organisation=campaign.lead_organisation, created_at=at,
                password_hash=hash_password(account.password),
            )
        )  # fmt: skip
        session.commit()
    return account


def overriding(environment: dict[str, str]) -> list[str]:
    """Return the settings of `environment` that would open something other than the folder."""
    return [name for name in OVERRIDING if environment.get(name)]
