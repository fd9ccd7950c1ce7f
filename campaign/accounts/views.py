"""Signing in and out, one's own account, and the language switch."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import cast
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import force_locale, get_locale, ngettext
from flask_babel import gettext as _
from flask_login import LoginManager, current_user, login_user, logout_user
from sqlalchemy import select
from werkzeug.local import LocalProxy

from campaign import db
from campaign.accounts import invitations, staff, throttle
from campaign.accounts.forms import (
    ForgotForm,
    InviteForm,
    LoginForm,
    NewPasswordForm,
    PasswordForm,
    ProfileForm,
    UnlockForm,
)
from campaign.accounts.models import Role, User
from campaign.accounts.scope import Access, access
from campaign.i18n import LANGUAGES
from campaign.network.models import Organisation
from campaign.network.timezone import campaign_zone
from campaign.security import TokenError, is_safe_redirect, verify_password
from campaign.timing import clock_text, current_clock

bp = Blueprint("accounts", __name__)
login_manager = LoginManager()


def init_app(app: Flask) -> None:
    """Register the views and the session-based login."""
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"
    app.register_blueprint(bp)


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    """Return the account of a session while it is enabled and the session is of its current
    generation (User.get_id): a new password, signing out or disabling ends older sessions."""
    key, _, generation = user_id.partition(":")
    user = db.session().get(User, int(key)) if key.isdigit() else None
    if user is None or not user.is_enabled or generation != str(user.session_generation):
        return None
    return user


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
            return _signed_in(user, now)
        db.session().commit()
        flash(_("The e-mail address or password is wrong."), "error")
    return render_template("accounts/login.html", form=form)


def _signed_in(user: User, now: datetime) -> ResponseReturnValue:
    """Give the user a fresh session and send them where they were going."""
    session.clear()  # a fresh session at every sign-in
    login_user(user)  # it carries the account's session generation
    staff.signed_in(db.session(), user, now)
    db.session().commit()
    return _redirect_within(request.args.get("next"))


def _redirect_within(target: str | None) -> ResponseReturnValue:
    """Redirect to `target` if it is a page of this site, else to the start page."""
    return redirect(target if target and is_safe_redirect(target) else url_for("network.home"))


def _locked_out(form: LoginForm, until: datetime, now: datetime) -> ResponseReturnValue:
    """The sign-in page again, saying when the next try may come (429, Retry-After)."""
    flash(_try_again_text(until, now), "error")
    response = make_response(render_template("accounts/login.html", form=form), 429)
    response.headers["Retry-After"] = str(math.ceil((until - now).total_seconds()))
    return response


def _try_again_text(until: datetime, now: datetime) -> str:
    """Say in how many minutes, and at what time, the next try to sign in may come."""
    return ngettext(
        "Too many failed attempts. Try again in %(num)d minute, at %(time)s.",
        "Too many failed attempts. Try again in %(num)d minutes, at %(time)s.",
        _minutes_until(until, now),
        time=_clock(until),
    )


@bp.post("/logout")
@access(Access.STAFF)
def logout() -> ResponseReturnValue:
    current_user.end_sessions()  # a copy of this session's cookie stops working too
    db.session().commit()
    logout_user()
    session.clear()
    flash(_("You are signed out."), "success")
    return redirect(url_for("accounts.login"))


@bp.route("/account", methods=["GET", "POST"])
@access(Access.STAFF)
def account() -> ResponseReturnValue:
    profile = ProfileForm(prefix="profile", obj=current_user)
    password = PasswordForm(prefix="password")
    if request.method == "POST" and "profile-name" in request.form and profile.validate():
        return _details_saved(profile)
    asked = request.method == "POST" and "password-new_password" in request.form
    if asked and password.validate() and _changed_password(password):
        flash(_("Your password is changed."), "success")
        return redirect(url_for("accounts.account"))
    return render_template("accounts/account.html", profile=profile, password=password)


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
    return _redirect_within(request.form.get("next"))


def _set_password(token: str, purpose: str) -> ResponseReturnValue:
    """Let the holder of a valid link choose a password, then sign them in."""
    try:
        user = invitations.user_for(db.session(), purpose, token)
    except TokenError as error:
        return _link_error(error)
    form = NewPasswordForm()
    if form.validate_on_submit():
        return _password_set(user, purpose, form.new_password.data or "")
    with force_locale(user.language):  # the page speaks the language the mail was in
        return render_template(
            "accounts/set_password.html", form=form, user=user, invited=purpose == "invitation"
        )


def _link_error(error: TokenError) -> ResponseReturnValue:
    """Say that a set-password link has expired, or is not valid (or used already)."""
    if error.expired:
        text = _("This link has expired. Ask for a new one.")
    else:
        text = _("This link is not valid, or it has been used already.")
    return render_template("accounts/link_error.html", text=text), 400


def _password_set(user: User, purpose: str, password: str) -> ResponseReturnValue:
    """Store the password chosen through a link and sign its holder in."""
    staff.set_password_by_link(db.session(), user, purpose, password, current_clock().now())
    db.session().commit()
    session.clear()
    login_user(user)
    flash(_("Your password is saved and you are signed in."), "success")
    return redirect(url_for("network.home"))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@access(Access.PUBLIC)
def accept_invitation(token: str) -> ResponseReturnValue:
    return _set_password(token, "invitation")


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@access(Access.PUBLIC)
def reset_password(token: str) -> ResponseReturnValue:
    return _set_password(token, "reset")


@bp.route("/password/forgot", methods=["GET", "POST"])
@access(Access.PUBLIC)
def forgot_password() -> ResponseReturnValue:
    form = ForgotForm()
    if form.validate_on_submit():
        return _sent_page((form.email.data or "").strip().lower())
    return render_template("accounts/forgot.html", form=form)


def _sent_page(email: str) -> ResponseReturnValue:
    """The same page after the same work whether or not the address has an account.

    The account is looked up, and its mail queued, in another thread once the response has
    been sent (a WSGI server closes every response it sends), so the time of neither the
    answer nor the connection's end tells anybody which it was.
    """
    response = make_response(render_template("accounts/forgot_sent.html", email=email))
    app = cast("LocalProxy[Flask]", current_app)._get_current_object()  # not the proxy
    # Not even the closing of the connection may wait for it: a thread does the work.
    response.call_on_close(lambda: _after_response.submit(_queue_reset_link, app, email))
    return response


# Reset links are looked up and queued here, one at a time, after the answer has gone.
_after_response = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reset-links")


def wait_for_reset_links() -> None:
    """Return once every reset link asked for so far has been queued (or failed, logged)."""
    _after_response.submit(lambda: None).result()


def _queue_reset_link(app: Flask, email: str) -> None:
    """Queue a reset link if `email` is an enabled account's that has a password."""
    with app.app_context(), db.open_session(app) as db_session:
        try:
            user = db_session.scalar(select(User).where(User.email == email))
            if user is not None and user.is_enabled and user.password_hash:
                now = current_clock().now()
                invitations.send_link(db_session, user, "reset", now)
                db_session.commit()
        except Exception:  # the response is gone: the log is the one place left to tell
            app.logger.exception("A password reset link for a known account was not queued")


@bp.route("/organisations/<org>/representatives/new", methods=["GET", "POST"])
@access(Access.LEAD_ADMIN)
def invite_representative() -> ResponseReturnValue:
    organisation = g.organisation
    form = InviteForm()
    if form.validate_on_submit():
        if db.session().scalar(select(User.id).where(User.email == (form.email.data or ""))):
            form.email.errors.append(_("This address already has an account."))
        else:
            return _invite(form, organisation)
    return render_template("accounts/invite.html", form=form, organisation=organisation)


def _invite(form: InviteForm, organisation: Organisation) -> ResponseReturnValue:
    """Create the representative's account, send the link, and go back to the member."""
    newcomer = invitations.Newcomer(
        name=" ".join((form.name.data or "").split()),
        email=form.email.data or "",
        language=form.language.data or "sv",
    )
    now = current_clock().now()
    user = invitations.invite(db.session(), organisation, newcomer, actor=current_user, now=now)
    invitations.send_link(db.session(), user, "invitation", now)
    db.session().commit()
    flash(_("An invitation is on its way to %(email)s.", email=newcomer.email), "success")
    return redirect(url_for("network.organisation", org=organisation.slug))


def _representative(user_id: int) -> User:
    """Return the member's representative with this id."""
    return db.first_or_404(
        select(User).where(
            User.id == user_id,
            User.organisation_id == g.organisation.id,
            User.role == Role.MEMBER_REP,
        )
    )


@bp.post("/organisations/<org>/representatives/<int:user_id>/resend")
@access(Access.LEAD_ADMIN)
def resend_invitation(user_id: int) -> ResponseReturnValue:
    user = _representative(user_id)
    if user.password_hash:
        flash(_("%(email)s has chosen a password already.", email=user.email), "error")
    else:
        _resend(user)
    return redirect(url_for("network.organisation", org=g.organisation.slug))


def _resend(user: User) -> None:
    """Queue a new invitation link to the representative, and say so."""
    staff.resend_invitation(db.session(), user, current_user, current_clock().now())
    db.session().commit()
    flash(_("A new invitation is on its way to %(email)s.", email=user.email), "success")


@bp.post("/organisations/<org>/representatives/<int:user_id>/access")
@access(Access.LEAD_ADMIN)
def representative_access(user_id: int) -> ResponseReturnValue:
    user = _representative(user_id)
    staff.set_access(db.session(), user, request.form.get("action") == "enable", current_user)
    db.session().commit()
    flash(_access_text(user), "success")
    return redirect(url_for("network.organisation", org=g.organisation.slug))


def _access_text(user: User) -> str:
    """Say whether the representative can sign in now."""
    if user.is_enabled:
        return _("%(email)s can sign in again.", email=user.email)
    return _("%(email)s can no longer sign in.", email=user.email)


def _campaign_zone() -> ZoneInfo:
    """Return the time zone times are shown in."""
    return campaign_zone()


def _clock(instant: datetime) -> str:
    """Return the local time of day of `instant`, as the page's language writes it."""
    return clock_text(instant, _campaign_zone(), str(get_locale() or "sv"))


def _minutes_until(until: datetime, now: datetime) -> int:
    """Return how many minutes, rounded up (at least one), are left until `until`."""
    return max(math.ceil((until - now).total_seconds() / 60), 1)


@bp.get("/sign-in-locks")
@access(Access.LEAD_ADMIN)
def sign_in_locks() -> ResponseReturnValue:
    """The addresses and clients that too many failed sign-ins lock right now."""
    return render_template(
        "accounts/locks.html",
        locks=_locks_now(),
        window=int(throttle.WINDOW.total_seconds() // 60),
        per_address=throttle.PER_ADDRESS,
        per_client=throttle.PER_CLIENT,
    )


def _locks_now() -> list[tuple[throttle.Lock, int, str]]:
    """Return each lock now, with the minutes it has left and the local time it ends."""
    now = current_clock().now()
    return [
        (lock, _minutes_until(lock.until, now), _clock(lock.until))
        for lock in throttle.locks(db.session(), now)
    ]


@bp.post("/sign-in-locks/unlock")
@access(Access.LEAD_ADMIN)
def unlock_sign_in() -> ResponseReturnValue:
    form = UnlockForm()
    if not form.validate_on_submit():
        flash(_("Choose a lock to lift from the list."), "error")
        return redirect(url_for("accounts.sign_in_locks"))
    kind, value = throttle.LockKind(form.kind.data), form.value.data or ""
    now = current_clock().now()
    if throttle.lock_end(db.session(), kind, value, now) is None:  # ended, or lifted already
        flash(_("%(value)s is not locked any more.", value=value), "info")
        return redirect(url_for("accounts.sign_in_locks"))
    _lift(kind, value, now)
    return redirect(url_for("accounts.sign_in_locks"))


def _lift(kind: throttle.LockKind, value: str, now: datetime) -> None:
    """Lift the lock on an address or client, and say so."""
    staff.lift_lock(db.session(), kind, value, current_user, now)
    db.session().commit()
    flash(_("%(value)s can try to sign in again.", value=value), "success")
