"""Accounts in the web UI: signing in and out and one's own account (`signin`), single sign-on
through an OpenID provider (`sso`), setting a password through a signed link (`passwords`),
and the lead administrator's pages for representatives (`representatives`), the campaign's
people and roles (`people`, `handover`) and sign-in locks (`locks`). Importing them registers
their routes on `bp` (`base`)."""

from __future__ import annotations

from flask import Flask

from campaign.accounts.views import handover, locks, passwords, people, representatives, signin, sso
from campaign.accounts.views.base import bp, login_manager
from campaign.accounts.views.passwords import wait_for_reset_links

__all__ = [
    "bp", "handover", "init_app", "locks", "login_manager", "passwords", "people",
    "representatives", "signin", "sso", "wait_for_reset_links",
]  # fmt: skip


def init_app(app: Flask) -> None:
    """Register the views and the session-based login."""
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"
    app.register_blueprint(bp)
    sso.init_app(app)
