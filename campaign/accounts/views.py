"""Signing in and out, one's own account, and the language switch."""

from __future__ import annotations

from flask import Blueprint, Flask, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import LoginManager, current_user, login_user, logout_user
from sqlalchemy import select

from campaign import db
from campaign.accounts.forms import LoginForm, PasswordForm, ProfileForm
from campaign.accounts.models import User
from campaign.accounts.scope import Access, access
from campaign.audit import record
from campaign.i18n import LANGUAGES
from campaign.security import hash_password, is_safe_redirect, verify_password
from campaign.timing import current_clock

bp = Blueprint("accounts", __name__)
login_manager = LoginManager()
# Spent on unknown addresses so that a wrong address takes as long as a wrong password.
_DUMMY_HASH = hash_password("not a real password, only a timing equaliser")


def init_app(app: Flask) -> None:
    """Register the views and the session-based login."""
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"
    app.register_blueprint(bp)


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    return db.session().get(User, int(user_id)) if user_id.isdigit() else None


def authenticate(email: str, password: str) -> User | None:
    """Return the enabled account with this address and password, or None."""
    user = db.session().scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        verify_password(_DUMMY_HASH, password)
        return None
    if not verify_password(user.password_hash, password) or not user.is_enabled:
        return None
    return user


@bp.route("/login", methods=["GET", "POST"])
@access(Access.PUBLIC)
def login():  # type: ignore[no-untyped-def]
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data or "", form.password.data or "")
        if user is None:
            flash(_("The e-mail address or password is wrong."), "error")
        else:
            session.clear()  # a fresh session at every sign-in
            login_user(user)
            user.last_login_at = current_clock().now()
            record(db.session(), user, "login", organisation_id=user.organisation_id)
            db.session().commit()
            target = request.args.get("next")
            return redirect(target if is_safe_redirect(target) else url_for("network.home"))
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
@access(Access.STAFF)
def logout():  # type: ignore[no-untyped-def]
    logout_user()
    session.clear()
    flash(_("You are signed out."), "success")
    return redirect(url_for("accounts.login"))


@bp.route("/account", methods=["GET", "POST"])
@access(Access.STAFF)
def account():  # type: ignore[no-untyped-def]
    profile = ProfileForm(prefix="profile", obj=current_user)
    password = PasswordForm(prefix="password")
    if request.method == "POST" and "profile-name" in request.form and profile.validate():
        current_user.name = profile.name.data
        current_user.language = profile.language.data
        record(db.session(), current_user, "account.profile_changed")
        db.session().commit()
        flash(_("Your details are saved."), "success")
        return redirect(url_for("accounts.account"))
    if request.method == "POST" and "password-new_password" in request.form and password.validate():
        if not verify_password(current_user.password_hash, password.current_password.data or ""):
            password.current_password.errors.append(_("The current password is wrong."))
        else:
            current_user.password_hash = hash_password(password.new_password.data or "")
            record(db.session(), current_user, "account.password_changed")
            db.session().commit()
            flash(_("Your password is changed."), "success")
            return redirect(url_for("accounts.account"))
    return render_template("accounts/account.html", profile=profile, password=password)


@bp.post("/language")
@access(Access.PUBLIC)
def set_language():  # type: ignore[no-untyped-def]
    language = request.form.get("language", "")
    if language in LANGUAGES:
        session["language"] = language
        if current_user.is_authenticated:
            current_user.language = language
            db.session().commit()
    target = request.form.get("next")
    return redirect(target if is_safe_redirect(target) else url_for("network.home"))
