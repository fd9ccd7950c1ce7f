"""The accounts blueprint, the session-based login, and what its pages share: a redirect that
stays on the site, and times of day in the campaign's zone."""

from __future__ import annotations

import math
from datetime import datetime

from flask import Blueprint, current_app, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_login import LoginManager

from campaign import db
from campaign.accounts.models import User
from campaign.network.timezone import campaign_zone
from campaign.security import is_safe_redirect
from campaign.timing import clock_text

bp = Blueprint("accounts", __name__)
login_manager = LoginManager()
SSO = "campaign_sso"  # the OpenID provider's client among the app's extensions (views/sso.py)


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    """Return the account of a session while it is enabled and the session is of its current
    generation (User.get_id): a new password, signing out or disabling ends older sessions."""
    key, _, generation = user_id.partition(":")
    user = db.session().get(User, int(key)) if key.isdigit() else None
    if user is None or not user.is_enabled or generation != str(user.session_generation):
        return None
    return user


def redirect_within(target: str | None) -> ResponseReturnValue:
    """Redirect to `target` if it is a page of this site, else to the start page."""
    return redirect(target if target and is_safe_redirect(target) else url_for("network.home"))


def local_clock(instant: datetime) -> str:
    """Return the local time of day of `instant`, as the page's language writes it."""
    return clock_text(instant, campaign_zone(), str(get_locale() or "sv"))


def minutes_until(until: datetime, now: datetime) -> int:
    """Return how many minutes, rounded up (at least one), are left until `until`."""
    return max(math.ceil((until - now).total_seconds() / 60), 1)


def provider_name() -> str | None:
    """Return the OpenID provider's name for the sign-in button, None without single sign-on."""
    if SSO not in current_app.extensions:
        return None
    return str(current_app.config["CAMPAIGN_OIDC_NAME"])


def password_login_on() -> bool:
    """Return whether staff may sign in with a password (CAMPAIGN_PASSWORD_LOGIN)."""
    return current_app.config.get("CAMPAIGN_PASSWORD_LOGIN", "on") != "off"
