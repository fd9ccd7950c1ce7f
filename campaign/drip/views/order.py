"""A step moved up or down, or removed (after a page that asks), each as a new version.

A step keeps its lasting key wherever it moves, so nobody who got it gets it again; a removed
step is sent to nobody more, and those who got it keep their mail.
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from campaign import db
from campaign.accounts.scope import Access, access
from campaign.drip import stored
from campaign.drip.editing import draft_of, moved, removed, slot_of
from campaign.drip.saving import save_change
from campaign.drip.views.base import bp, copy_or_404, saved_message, say_refused
from campaign.drip.views.previewing import sample_subject
from campaign.timing import current_clock

DIRECTIONS = {"up": -1, "down": 1}


@bp.post("/sequences/<name>/steps/<ident>/move")
@access(Access.LEAD_ADMIN)
def move_step(name: str, ident: str) -> ResponseReturnValue:
    copy = copy_or_404(name)
    step = DIRECTIONS.get(request.form.get("direction", ""))
    files = moved(copy.files, ident, step) if step else None
    if files is None:
        flash(_("The step cannot move that way."), "error")
    else:
        _save(name, files, f"move:{ident}")
    return redirect(url_for("drip.timeline", name=name, _anchor="steps"))


@bp.route("/sequences/<name>/steps/<ident>/remove", methods=["GET", "POST"])
@access(Access.LEAD_ADMIN)
def remove_step(name: str, ident: str) -> ResponseReturnValue:
    copy = copy_or_404(name)
    slot = slot_of(copy.files, ident)
    files = removed(copy.files, ident)
    if slot is None or files is None:
        abort(404)
    if request.method == "POST":
        _save(name, files, f"remove:{ident}")
        return redirect(url_for("drip.timeline", name=name, _anchor="steps"))
    subject = sample_subject(draft_of(copy.files, slot).subjects.get("sv", ""), "sv")
    return render_template("drip/remove_step.html", name=name, slot=slot, subject=subject)


def _save(name: str, files: dict[str, str], note: str) -> None:
    """Save a move or removal and say what it did, or why nothing was saved."""
    try:
        saved = save_change(db.session(), g.campaign.id, name, files, author=current_user,
                            note=note, now=current_clock().now())  # fmt: skip
    except stored.Unsaved as refused:
        db.session().rollback()
        flash(_("Nothing was saved: the change would leave the sequence with a problem."), "error")
        say_refused(name, files, refused)
        return
    db.session().commit()
    flash(saved_message(saved), "success" if saved.number else "info")
