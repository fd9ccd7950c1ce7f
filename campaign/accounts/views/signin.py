"""Signing in and out, one's own account, and the language switch."""

from __future__ import annotations

import math
from datetime import datetime

from flask import flash, make_response, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from campaign import db
from campaign.accounts import staff, throttle
from campaign.accounts.forms import LoginForm, PasswordForm, ProfileForm
from campaign.accounts.models import User
from campaign.accounts.scope import Access, access
from campaign.accounts.views.base import (
    bp,
    local_clock,
    minutes_until,
    password_login_on,
    provider_name,
    redirect_within,
)
from campaign.i18n import LANGUAGES
from campaign.security import verify_password
from campaign.timing import current_clock


def authenticate(email: str, password: str) -> User | None:
    """Return the enabled account with this address and password, or None; the same password
    hashing whether the address has an account, a password, or neither."""
    user = db.session().scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        verify_password(None, password)
        return None
    if not verify_password(user.password_hash, password) or not user.is_enabled:
        return None
    return user


@bp.route("/login", methods=["GET", "POST"])
@access(Access.PUBLIC)
def login() -> ResponseReturnValue:
    form = LoginForm()
    if request.method == "POST" and not password_login_on():
        return _password_off(form)
    if form.validate_on_submit():
        email = (form.email.data or "").strip().lower()
        client = request.remote_addr or "unknown"
        now = current_clock().now()
        until = throttle.blocked_until(db.session(), email, client, now)
        if until is not None:
            return _locked_out(form, until, now)
        user = authenticate(email, form.password.data or "")
        throttle.note(db.session(), email, client, now, succeeded=user is not None)
        if user is not None:
            return signed_in(user, now, request.args.get("next"))
        db.session().commit()
        flash(_("The e-mail address or password is wrong."), "error")
    return login_page(form)


def login_page(form: LoginForm, status: int = 200) -> ResponseReturnValue:
    """The sign-in page: the password form, when it is on, and the OpenID provider's button."""
    page = render_template(
        "accounts/login.html", form=form, sso_name=provider_name(), password_on=password_login_on(),
    )  # fmt: skip
    return page, status


def password_off_text() -> str:
    """Say that passwords are switched off, and how to sign in instead."""
    return _(
        "Signing in with a password is switched off here. Sign in with %(name)s instead.",
        name=provider_name() or "SSO",
    )


def _password_off(form: LoginForm) -> ResponseReturnValue:
    """Refuse a password sign-in when passwords are switched off."""
    flash(password_off_text(), "error")
    return login_page(form, 403)


def signed_in(user: User, now: datetime, target: str | None) -> ResponseReturnValue:
    """Give the user a fresh session and send them to `target` (a page of this site)."""
    session.clear()  # a fresh session at every sign-in
    login_user(user)  # it carries the account's session generation
    staff.signed_in(db.session(), user, now)
    db.session().commit()
    return redirect_within(target)


def _locked_out(form: LoginForm, until: datetime, now: datetime) -> ResponseReturnValue:
    """The sign-in page again, saying when the next try may come (429, Retry-After)."""
    flash(_try_again_text(until, now), "error")
    response = make_response(login_page(form, 429))
    response.headers["Retry-After"] = str(math.ceil((until - now).total_seconds()))
    return response


def _try_again_text(until: datetime, now: datetime) -> str:
    """Say in how many minutes, and at what time, the next try to sign in may come."""
    return ngettext(
        "Too many failed attempts. Try again in %(num)d minute, at %(time)s.",
        "Too many failed attempts. Try again in %(num)d minutes, at %(time)s.",
        minutes_until(until, now),
        time=local_clock(until),
    )


@bp.post("/logout")
@access(Access.SIGNED_IN)
def logout() -> ResponseReturnValue:
    current_user.end_sessions()  # a copy of this session's cookie stops working too
    db.session().commit()
    logout_user()
    session.clear()
    flash(_("You are signed out."), "success")
    return redirect(url_for("accounts.login"))


@bp.route("/account", methods=["GET", "POST"])
@access(Access.SIGNED_IN)
def account() -> ResponseReturnValue:
    profile = ProfileForm(prefix="profile", obj=current_user)
    password = PasswordForm(prefix="password")
    if request.method == "POST" and "profile-name" in request.form and profile.validate():
        return _details_saved(profile)
    asked = request.method == "POST" and "password-new_password" in request.form
    if asked and not password_login_on():
        flash(password_off_text(), "error")
    elif asked and password.validate() and _changed_password(password):
        flash(_("Your password is changed."), "success")
        return redirect(url_for("accounts.account"))
    return render_template(
        "accounts/account.html", profile=profile, password=password,
        password_on=password_login_on(),
    )  # fmt: skip


def _details_saved(form: ProfileForm) -> ResponseReturnValue:
    """Store the user's own name and language, and show the page again."""
    name, language = form.name.data or "", form.language.data or current_user.language
    staff.change_details(db.session(), current_user, name=name, language=language)
    db.session().commit()
    flash(_("Your details are saved."), "success")
    return redirect(url_for("accounts.account"))


def _changed_password(form: PasswordForm) -> bool:
    """Change the user's password if the form has the current one right (else say so)."""
    if not verify_password(current_user.password_hash, form.current_password.data or ""):
        form.current_password.errors.append(_("The current password is wrong."))
        return False
    staff.change_password(db.session(), current_user, form.new_password.data or "")
    db.session().commit()
    # Every session has ended, but this one, which now carries the new generation (the
    # account, not the proxy).
    login_user(current_user._get_current_object())
    return True


@bp.post("/language")
@access(Access.PUBLIC)
def set_language() -> ResponseReturnValue:
    language = request.form.get("language", "")
    if language in LANGUAGES:
        session["language"] = language
        if current_user.is_authenticated:
            current_user.language = language
            db.session().commit()
    return redirect_within(request.form.get("next"))
