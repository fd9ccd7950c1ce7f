"""Every saved version of a campaign's sequence: who saved it, when, why, what changed (a diff
to the one before, file by file), and a way back to it (a new version with its text)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from campaign import db
from campaign.accounts.models import User
from campaign.accounts.scope import Access, access
from campaign.drip import stored
from campaign.drip.editing import changed_steps
from campaign.drip.history import compared
from campaign.drip.models import SequenceVersion
from campaign.drip.saving import save_change
from campaign.drip.views.base import bp, copy_or_404, saved_message, say_refused
from campaign.timing import current_clock


@dataclass(frozen=True)
class Listed:
    """A version as the history lists it: the row, its author and how many steps it changed."""

    version: SequenceVersion
    author: User | None
    changed: int | None  # None for the first: nothing came before it


@bp.get("/sequences/<name>/history")
@access(Access.LEAD_ADMIN)
def history(name: str) -> ResponseReturnValue:
    copy = copy_or_404(name)
    saved = stored.versions(db.session(), g.campaign.id, name)
    return render_template("drip/history.html", name=name, copy=copy, versions=_listed(saved))


def _listed(saved: list[SequenceVersion]) -> list[Listed]:
    """Return the versions, newest first, each with what it changed from the one before."""
    older: list[SequenceVersion | None] = [*saved[1:], None] if saved else []
    return [
        Listed(v, _author(v), changed_steps(before.files, v.files) if before else None)
        for v, before in zip(saved, older, strict=True)
    ]


def _author(version: SequenceVersion) -> User | None:
    return db.session().get(User, version.author_id) if version.author_id else None


@bp.get("/sequences/<name>/versions/<int:number>")
@access(Access.LEAD_ADMIN)
def version(name: str, number: int) -> ResponseReturnValue:
    copy = copy_or_404(name)
    shown = _version_or_404(name, number)
    before = stored.version(db.session(), g.campaign.id, name, number - 1)
    return render_template(
        "drip/version.html",
        name=name,
        shown=shown,
        author=_author(shown),
        before=before,
        changes=compared(before.files, shown.files) if before else [],
        is_current=copy.number == number,
    )


def _version_or_404(name: str, number: int) -> SequenceVersion:
    found = stored.version(db.session(), g.campaign.id, name, number)
    if found is None:
        abort(404)
    return found


@bp.post("/sequences/<name>/versions/<int:number>/revert")
@access(Access.LEAD_ADMIN)
def revert(name: str, number: int) -> ResponseReturnValue:
    files = dict(_version_or_404(name, number).files)
    try:
        saved = save_change(db.session(), g.campaign.id, name, files, author=current_user,
                            note=f"revert:{number}", now=current_clock().now())  # fmt: skip
    except stored.Unsaved as refused:
        db.session().rollback()
        flash(_("Version %(number)d cannot be restored: the checker finds problems in it "
                "today.", number=number), "error")  # fmt: skip
        say_refused(name, files, refused)
        return redirect(url_for("drip.version", name=name, number=number))
    db.session().commit()
    flash(saved_message(saved), "success" if saved.number else "info")
    return redirect(url_for("drip.history", name=name))
