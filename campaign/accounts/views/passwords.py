"""Setting a password through a signed link (an invitation, a reset), and asking for a reset."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import cast

from flask import (
    Flask,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import login_user
from sqlalchemy import select
from werkzeug.local import LocalProxy

from campaign import db
from campaign.accounts import invitations, staff
from campaign.accounts.forms import ForgotForm, NewPasswordForm
from campaign.accounts.models import User
from campaign.accounts.scope import Access, access
from campaign.accounts.views.base import bp, password_login_on
from campaign.accounts.views.signin import password_off_text
from campaign.security import TokenError
from campaign.timing import current_clock


def _set_password(token: str, purpose: str) -> ResponseReturnValue:
    """Let the holder of a valid link choose a password, then sign them in."""
    if not password_login_on():
        return _passwords_off()
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


def _passwords_off() -> ResponseReturnValue:
    """Say that passwords are switched off here (single sign-on only)."""
    return (
        render_template("accounts/link_error.html", text=password_off_text(), new_link=False),
        403,
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
    if not password_login_on():
        return _passwords_off()
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
