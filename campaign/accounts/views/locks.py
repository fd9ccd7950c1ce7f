"""The sign-in locks as the lead administrator sees them, and lifting one."""

from __future__ import annotations

from datetime import datetime

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from campaign import db
from campaign.accounts import staff, throttle
from campaign.accounts.forms import UnlockForm
from campaign.accounts.scope import Access, access
from campaign.accounts.views.base import bp, local_clock, minutes_until
from campaign.timing import current_clock


@bp.get("/sign-in-locks")
@access(Access.ANY_LEAD_ADMIN)
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
        (lock, minutes_until(lock.until, now), local_clock(lock.until))
        for lock in throttle.locks(db.session(), now)
    ]


@bp.post("/sign-in-locks/unlock")
@access(Access.ANY_LEAD_ADMIN)
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
