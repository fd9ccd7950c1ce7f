"""A campaign's sequence out as a ZIP of its Markdown files, and such a ZIP back in as one new
version (note "import"), after the same check as any other save."""

from __future__ import annotations

from flask import Response, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from campaign import db
from campaign.accounts.scope import Access, access
from campaign.drip import stored
from campaign.drip.bundle import Refused, unzipped, zipped
from campaign.drip.forms import ImportForm
from campaign.drip.placing import Placed, placed
from campaign.drip.saving import save_change
from campaign.drip.views.base import bp, copy_or_404, saved_message
from campaign.timing import current_clock


@bp.get("/sequences/<name>/export")
@access(Access.LEAD_ADMIN)
def export_sequence(name: str) -> ResponseReturnValue:
    copy = copy_or_404(name)
    return Response(
        zipped(name, copy.files),
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}.zip"'},
    )


@bp.route("/sequences/<name>/import", methods=["GET", "POST"])
@access(Access.LEAD_ADMIN)
def import_sequence(name: str) -> ResponseReturnValue:
    copy_or_404(name)
    form = ImportForm()
    if not form.validate_on_submit():
        return _page(form, name, [])
    upload = form.archive.data
    if upload is None or not getattr(upload, "filename", ""):
        form.archive.errors = [_("Choose a ZIP file.")]
        return _page(form, name, [])
    try:
        files = unzipped(name, upload.stream)
    except Refused as refused:
        form.archive.errors = [str(refused)]
        return _page(form, name, [])
    return _imported(form, name, files)


def _imported(form: ImportForm, name: str, files: dict[str, str]) -> ResponseReturnValue:
    """Save the ZIP's files as one version, or show each problem with its file and line."""
    try:
        saved = save_change(db.session(), g.campaign.id, name, files, author=current_user,
                            note="import", now=current_clock().now())  # fmt: skip
    except stored.Unsaved as refused:
        db.session().rollback()
        return _page(form, name, placed(refused.problems, name, None, files))
    db.session().commit()
    flash(saved_message(saved), "success" if saved.number else "info")
    return redirect(url_for("drip.history", name=name))


def _page(form: ImportForm, name: str, problems: list[Placed]) -> ResponseReturnValue:
    return render_template("drip/import.html", form=form, name=name, problems=problems)
