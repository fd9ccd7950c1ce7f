"""Imports of participant lists: upload a file, follow its reading, check the preview row by
row, then confirm or discard it."""

from __future__ import annotations

from typing import cast

from flask import Flask, current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_number
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.local import LocalProxy

from campaign import db
from campaign.accounts.scope import Access, access, of_member
from campaign.enrolment import importing
from campaign.enrolment.forms import ConfirmImportForm, ImportForm
from campaign.enrolment.models import (
    ImportRow,
    ImportState,
    ParticipantImport,
    RowOutcome,
)
from campaign.enrolment.views.base import bp, group_or_404, import_or_404, offer_groups
from campaign.network.members import campaign_or_404
from campaign.network.models import Campaign
from campaign.pages import PAGE_SIZE, Page, page_of
from campaign.timing import current_clock

ROWS_PAGE = PAGE_SIZE * 4


@bp.route("/organisations/<org>/imports/new", methods=["GET", "POST"])
@access(Access.ORGANISATION)
def new_import() -> ResponseReturnValue:
    campaign = campaign_or_404()
    organisation = g.organisation
    form = ImportForm()
    if not offer_groups(form, campaign):
        return redirect(url_for("enrolment.new_group", org=organisation.slug))
    if form.validate_on_submit() and (job := _stored_upload(form, campaign)) is not None:
        _read_in_background(job)
        return redirect(url_for("enrolment.show_import", org=organisation.slug, import_id=job.id))
    recent = _recent_imports()
    return render_template(
        "enrolment/new_import.html", organisation=organisation, form=form, recent=recent
    )


def _read_in_background(job: ParticipantImport) -> None:
    """Read the upload in a thread of this process, which needs the app (not its proxy)."""
    app = cast("LocalProxy[Flask]", current_app)._get_current_object()
    importing.read_in_background(app, job.id)


def _recent_imports() -> list[ParticipantImport]:
    """Return the member's last ten imports in the campaign, the latest first."""
    query = (
        select(ParticipantImport)
        .where(of_member(ParticipantImport))
        .order_by(ParticipantImport.id.desc())
        .limit(10)
    )
    return list(db.session().scalars(query))


def _stored_upload(form: ImportForm, campaign: Campaign) -> ParticipantImport | None:
    """Keep the uploaded file as a new import (committed); None, with the form's error, when it
    is too large."""
    group = group_or_404(form.pilot_group.data or 0)
    upload = form.file.data
    try:
        job = importing.keep_upload(
            db.session(), group, user_id=current_user.id, filename=upload.filename,
            stream=upload.stream, now=current_clock().now(),
        )  # fmt: skip
    except importing.ImportFileError as error:
        form.file.errors.append(importing.describe(error.reason))
        return None
    db.session().commit()
    return job


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge) -> ResponseReturnValue:
    """An upload over the size of a request: say so in a sentence (only imports take files)."""
    title, text = _("The file is too large"), importing.describe("too_large")
    return render_template("errors/error.html", code=413, title=title, text=text), 413


def _rows(job: ParticipantImport, show: str) -> Page[ImportRow]:
    """Return the page asked for of the preview's rows, of one outcome if `show` names one."""
    if job.state is not ImportState.READY:
        return Page([], 1, 1, 0)
    statement = select(ImportRow).where(ImportRow.import_id == job.id)
    if show:
        statement = statement.where(ImportRow.outcome == RowOutcome(show))
    statement = statement.order_by(ImportRow.row_number)
    return page_of(db.session(), statement, request.args.get("page"), ROWS_PAGE)


@bp.get("/organisations/<org>/imports/<int:import_id>")
@access(Access.ORGANISATION)
def show_import(import_id: int) -> ResponseReturnValue:
    job = import_or_404(import_id)
    show = _shown_outcome()
    return render_template(
        "enrolment/import.html",
        organisation=g.organisation,
        job=job,
        page=_rows(job, show),
        show=show,
        form=ConfirmImportForm(),
        progress_text=_progress_text(job),
        reasons=importing.REASONS,
        error_text=_error_text(job),
    )


def _error_text(job: ParticipantImport) -> str:
    """Say why the file could not be read, and where; '' when it could."""
    return importing.describe(job.error, job.counts) if job.error else ""


def _shown_outcome() -> str:
    """Return the outcome whose rows ?show= asks for, or '' for all rows."""
    show = request.args.get("show", "")
    return show if show in {o.value for o in RowOutcome} else ""


def _progress_text(job: ParticipantImport) -> str:
    """Say how far the reading of the file has come."""
    return _(
        "Read %(read)s of about %(total)s rows. This page updates itself.",
        read=format_number(job.rows_read),
        total=format_number(job.rows_total),
    )


@bp.get("/organisations/<org>/imports/<int:import_id>/progress.json")
@access(Access.ORGANISATION)
def import_progress(import_id: int) -> ResponseReturnValue:
    """How far the reading has come, for the progress bar's script."""
    job = import_or_404(import_id)
    return {
        "state": job.state.value,
        "done": job.rows_read,
        "total": job.rows_total,
        "text": _progress_text(job),
        "finished": job.state is not ImportState.READING,
    }


@bp.post("/organisations/<org>/imports/<int:import_id>/apply")
@access(Access.ORGANISATION)
def apply_import(import_id: int) -> ResponseReturnValue:
    job = import_or_404(import_id)
    back = url_for("enrolment.show_import", org=g.organisation.slug, import_id=job.id)
    if refusal := _refusal(job):
        flash(refusal, "error")
        return redirect(back)
    try:
        applied = importing.apply_import(db.session(), job, current_user, current_clock().now())
    except importing.PlanChanged:
        _read_again(import_id)
        return redirect(back)
    flash(_applied_text(applied), "success")
    return redirect(url_for("enrolment.participants", org=g.organisation.slug))


def _applied_text(applied: importing.Applied) -> str:
    """Say how many participants the import added and updated."""
    return _(
        "%(added)s participants added and %(updated)s updated.",
        added=format_number(applied.added),
        updated=format_number(applied.updated),
    )


def _refusal(job: ParticipantImport) -> str | None:
    """Say why the import cannot be confirmed now, or None if it can."""
    if job.state is not ImportState.READY:
        return _("This import cannot be confirmed any more.")
    if not ConfirmImportForm().validate_on_submit():
        return _("Please confirm that the people have agreed.")
    return None


def _read_again(import_id: int) -> None:
    """Make a fresh preview of an import whose plan no longer holds, and say so."""
    db.session().rollback()
    importing.read_import(db.session(), import_or_404(import_id))
    flash(
        _(
            "Enrolments changed since the preview, so nothing was written. Here is the"
            " new preview; check it and confirm again."
        ),
        "error",
    )


@bp.post("/organisations/<org>/imports/<int:import_id>/discard")
@access(Access.ORGANISATION)
def discard_import(import_id: int) -> ResponseReturnValue:
    job = import_or_404(import_id)
    if job.state is ImportState.READY:
        importing.discard(db.session(), job, current_clock().now())
        db.session().commit()
        flash(_("The import is discarded; nothing was written."), "success")
    return redirect(url_for("enrolment.new_import", org=g.organisation.slug))
