"""The API's imports of participant lists, through the page's machinery (enrolment/importing):
upload a CSV or XLSX file (multipart, within the page's limits), follow its reading, page
through the preview's rows and their outcomes, then apply it (all of it, or nothing)."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from flask import Flask, current_app, g, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import BaseModel, Field
from spectree import Response
from spectree.model_adapter.pydantic_adapter import BaseFile
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.local import LocalProxy

from campaign import db
from campaign.accounts.scope import Access, of_member
from campaign.api import problems
from campaign.api.checks import checked
from campaign.api.core import Page, PageQuery, bp, operation, page, tagged
from campaign.api.participants import Answer, member_groups, offer_groups
from campaign.api.problems import Problem
from campaign.enrolment import importing
from campaign.enrolment.forms import ConfirmImportForm, ImportForm
from campaign.enrolment.models import ImportRow, ImportState, ParticipantImport, RowOutcome
from campaign.timing import current_clock


class Import(BaseModel):
    """An import of a file into a pilot group: how far its reading has come, what it found,
    and whether it was applied."""

    id: int
    member: str = Field(description="The member organisation's slug.")
    pilot_group_id: int
    filename: str
    state: str = Field(
        description="reading; ready (the preview waits to be applied); applied; discarded;"
        " failed (the file could not be read: see `error`).",
        json_schema_extra={"enum": [s.value for s in ImportState]},
    )
    rows_read: int
    rows_total: int = Field(description="The rows of the file, as far as known while reading.")
    counts: dict[str, int] = Field(
        description="Rows by outcome (add, update, unchanged, reject; blank); once applied,"
        " `added` and `updated`."
    )
    error: str | None = Field(description="Why the file could not be read, and where.")
    created_at: datetime
    finished_at: datetime | None


class Upload(BaseModel):
    """A CSV or Excel (.xlsx) file of participants for one of the member's pilot groups: the
    first row names the columns, E-post (required), Namn, or Förnamn and Efternamn, Titel,
    Språk."""

    pilot_group_id: int
    file: BaseFile


class PreviewRow(BaseModel):
    """A row of the file and what applying the import does with it."""

    row_number: int = Field(description="Its row in the file, counted from 1.")
    outcome: str = Field(json_schema_extra={"enum": [o.value for o in RowOutcome]})
    email: str
    name: str
    title: str
    language: str
    reason: str = Field(description="Why it is rejected or left unchanged (a code); or ''.")
    reason_text: str = Field(description="The same, as the page says it.")
    participant_id: int | None = Field(description="Whom it updates or leaves unchanged.")


class PreviewPage(Page):
    items: list[PreviewRow]


class PreviewQuery(PageQuery):
    outcome: RowOutcome | None = Field(None, description="Only the rows of this outcome.")


class Confirmation(BaseModel):
    """Apply the import as previewed: adds and updates, all of them or none."""

    people_have_agreed: bool = Field(
        description="Must be true: the people to be added have agreed to take part and to"
        " receive the e-mails (recorded as their consent, by you)."
    )


def describe(job: ParticipantImport) -> Import:
    """Return the import as the API shows it."""
    error = importing.describe(job.error, job.counts) if job.error else None
    counts = {key: value for key, value in job.counts.items() if isinstance(value, int)}
    return Import(
        id=job.id, member=g.organisation.slug, pilot_group_id=job.pilot_group_id,
        filename=job.filename, state=job.state.value, rows_read=job.rows_read,
        rows_total=job.rows_total, counts=counts, error=error, created_at=job.created_at,
        finished_at=job.finished_at,
    )  # fmt: skip


def import_or_404(import_id: int) -> ParticipantImport:
    """Return the member's import with this id, or answer 404."""
    query = select(ParticipantImport).where(ParticipantImport.id == import_id)
    return db.first_or_404(query.where(of_member(ParticipantImport)))


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_error: RequestEntityTooLarge) -> ResponseReturnValue:
    """A body over the size of a request: only imports take files, so say it as they do."""
    return problems.response(Problem(413, importing.describe("too_large"), code="too_large"))


@bp.post("/members/<org>/imports")
@operation(Access.ORGANISATION, "imports", form=Upload, resp=Response(HTTP_201=Import),
           idempotent=True)  # fmt: skip
def create_import(form: Upload) -> Answer:
    """Upload a file to import (multipart/form-data) and start reading it; follow its reading
    at the Location given, then page through its preview."""
    sent = cast(Upload | None, form)  # None: the body is not multipart/form-data
    data = {"pilot_group": sent.pilot_group_id, "file": sent.file} if sent else {}
    checked(ImportForm, data, names={"pilot_group": "pilot_group_id"}, prepare=offer_groups)
    job = _kept(form)
    db.session().commit()
    app = cast("LocalProxy[Flask]", current_app)._get_current_object()
    importing.read_in_background(app, job.id)
    location = url_for("api.show_import", org=g.organisation.slug, import_id=job.id)
    return tagged(describe(job), 201, Location=location)


def _kept(form: Upload) -> ParticipantImport:
    """Keep the upload as a new import of the member's group; 413 over what an import takes."""
    group = next(gr for gr in member_groups() if gr.id == form.pilot_group_id)
    upload = cast(FileStorage, form.file)  # spectree gives the request's file as it is
    try:
        return importing.keep_upload(
            db.session(), group, user_id=current_user.id, filename=upload.filename,
            stream=upload.stream, now=current_clock().now(),
        )  # fmt: skip
    except importing.ImportFileError as error:
        raise Problem(413, importing.describe(error.reason), code=error.reason) from None


@bp.get("/members/<org>/imports/<int:import_id>")
@operation(Access.ORGANISATION, "imports", resp=Response(HTTP_200=Import))
def show_import(import_id: int) -> Answer:
    """Show an import: its state, how many rows are read of how many, what they would do."""
    return tagged(describe(import_or_404(import_id)))


@bp.get("/members/<org>/imports/<int:import_id>/rows")
@operation(Access.ORGANISATION, "imports", query=PreviewQuery,
           resp=Response(HTTP_200=PreviewPage))  # fmt: skip
def list_import_rows(import_id: int, query: PreviewQuery) -> PreviewPage:
    """List the preview's rows in the file's order, a page at a time (none until the import is
    ready, and none once it is applied or discarded)."""
    job = import_or_404(import_id)
    if job.state is not ImportState.READY:
        return PreviewPage(items=[], next_cursor=None)
    statement = select(ImportRow).where(ImportRow.import_id == job.id)
    if query.outcome is not None:
        statement = statement.where(ImportRow.outcome == query.outcome)
    rows, cursor = page(statement, ImportRow.id, query)
    return PreviewPage(items=[_row(r) for r in rows], next_cursor=cursor)


def _row(row: ImportRow) -> PreviewRow:
    reason = importing.REASONS.get(row.reason)
    return PreviewRow(
        row_number=row.row_number, outcome=row.outcome.value, email=row.email, name=row.name,
        title=row.title, language=row.language, reason=row.reason,
        reason_text=str(reason) if reason else "", participant_id=row.participant_id,
    )  # fmt: skip


@bp.post("/members/<org>/imports/<int:import_id>/apply")
@operation(Access.ORGANISATION, "imports", json=Confirmation, resp=Response(HTTP_200=Import),
           problems=(409,))  # fmt: skip
def apply_import(import_id: int, json: Confirmation) -> Answer:
    """Apply a ready import: all of its rows or none. 409 when it cannot be applied any more,
    or when the enrolments changed since its preview (which is then read again: check it and
    apply again)."""
    job = import_or_404(import_id)
    if job.state is not ImportState.READY:
        raise Problem(409, _("This import cannot be confirmed any more."), code="not_ready")
    checked(ConfirmImportForm, {"agreed": json.people_have_agreed},
            names={"agreed": "people_have_agreed"})  # fmt: skip
    try:
        importing.apply_import(db.session(), job, current_user, current_clock().now())
    except importing.PlanChanged:
        _read_again(import_id)
    return tagged(describe(job))


def _read_again(import_id: int) -> None:
    """Make a fresh preview of an import whose plan no longer holds, and say so (409)."""
    db.session().rollback()
    importing.read_import(db.session(), import_or_404(import_id))
    raise Problem(
        409,
        _(
            "Enrolments changed since the preview, so nothing was written. Here is the"
            " new preview; check it and confirm again."
        ),
        code="preview_changed",
    )
