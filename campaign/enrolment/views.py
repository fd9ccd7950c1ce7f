"""Enrolment in the web UI: pilot groups, participants, imports, and self-enrolment links.

Every staff route names the organisation in its URL, so `accounts.scope` has already refused a
representative of another member before a view runs; each view then looks objects up within
`g.organisation` only, so an id of another member's object is a 404 too.
"""

from __future__ import annotations

import json
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale, format_number, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select, update
from werkzeug.exceptions import RequestEntityTooLarge

from campaign import db, exports
from campaign.accounts.scope import Access, access
from campaign.audit import record
from campaign.drip.files import load_sequences
from campaign.enrolment import importing, joining, people
from campaign.enrolment.forms import (
    ConfirmImportForm,
    EraseForm,
    ImportForm,
    JoinForm,
    MoveForm,
    NewParticipantForm,
    ParticipantForm,
    PilotGroupForm,
)
from campaign.enrolment.models import (
    ConsentMethod,
    ImportRow,
    ImportState,
    Participant,
    ParticipantImport,
    ParticipantStatus,
    PilotGroup,
    PilotGroupKind,
    RowOutcome,
)
from campaign.network.members import campaign_or_404
from campaign.network.models import Campaign, Organisation
from campaign.outbox import unsubscribe
from campaign.outbox.models import Message
from campaign.outbox.queue import OPEN_STATES
from campaign.security import TokenError
from campaign.timing import current_clock

bp = Blueprint("enrolment", __name__)
PAGE_SIZE = 50
# No name, address or title is longer; SQLite refuses LIKE patterns over 50,000 bytes.
SEARCH_LENGTH = 320
MAX_UPLOAD = 20 * 1024 * 1024


def init_app(app: Flask) -> None:
    """Register the views."""
    app.register_blueprint(bp)


def _groups(organisation: Organisation, campaign: Campaign) -> list[PilotGroup]:
    return list(
        db.session().scalars(
            select(PilotGroup)
            .where(
                PilotGroup.organisation_id == organisation.id,
                PilotGroup.campaign_id == campaign.id,
            )
            .order_by(PilotGroup.starts_on, PilotGroup.name)
        )
    )


def _group(group_id: int) -> PilotGroup:
    group = db.session().scalar(
        select(PilotGroup).where(
            PilotGroup.id == group_id, PilotGroup.organisation_id == g.organisation.id
        )
    )
    if group is None:
        abort(404)
    return group


def _person(participant_id: int) -> Participant:
    person = db.session().scalar(
        select(Participant).where(
            Participant.id == participant_id,
            Participant.organisation_id == g.organisation.id,
            Participant.status != ParticipantStatus.ERASED,
        )
    )
    if person is None:
        abort(404)
    return person


def _import(import_id: int) -> ParticipantImport:
    job = db.session().scalar(
        select(ParticipantImport).where(
            ParticipantImport.id == import_id,
            ParticipantImport.organisation_id == g.organisation.id,
        )
    )
    if job is None:
        abort(404)
    return job


def _sequence_choices() -> list[tuple[str, str]]:
    sequences, _problems = load_sequences()
    return [("", _("No e-mails"))] + [(name, name) for name in sorted(sequences)]


# Pilot groups ----------------------------------------------------------------------------


@bp.get("/organisations/<org>/groups")
@access(Access.ORGANISATION)
def groups():  # type: ignore[no-untyped-def]
    campaign = campaign_or_404()
    organisation = g.organisation
    rows = db.session().execute(
        select(Participant.pilot_group_id, func.count())
        .where(
            Participant.organisation_id == organisation.id,
            Participant.status.in_([ParticipantStatus.ACTIVE, ParticipantStatus.PAUSED]),
        )
        .group_by(Participant.pilot_group_id)
    )
    counts = {group_id: n for group_id, n in rows}
    return render_template(
        "enrolment/groups.html",
        organisation=organisation,
        groups=_groups(organisation, campaign),
        counts=counts,
    )


def _save_group(group: PilotGroup | None):  # type: ignore[no-untyped-def]
    campaign = campaign_or_404()
    organisation = g.organisation
    form = PilotGroupForm(obj=group)
    form.sequence_name.choices = _sequence_choices()
    if group is None and request.method == "GET":
        form.starts_on.data = max(campaign.starts_on, current_clock().now().date())
        form.sequence_name.data = "pilot-group"
    if form.validate_on_submit():
        name = " ".join((form.name.data or "").split())
        taken = db.session().scalar(
            select(PilotGroup.id).where(
                PilotGroup.campaign_id == campaign.id,
                PilotGroup.organisation_id == organisation.id,
                PilotGroup.name == name,
                PilotGroup.id != (group.id if group else -1),
            )
        )
        if taken:
            form.name.errors.append(_("You already have a pilot group with this name."))
        else:
            if group is None:
                group = PilotGroup(campaign_id=campaign.id, organisation_id=organisation.id)
                db.session().add(group)
                action = "pilot_group.created"
            else:
                action = "pilot_group.changed"
            group.name = name
            group.kind = PilotGroupKind(form.kind.data)
            group.starts_on = form.starts_on.data  # type: ignore[assignment]
            group.sequence_name = form.sequence_name.data or None
            db.session().flush()
            record(
                db.session(),
                current_user,
                action,
                organisation_id=organisation.id,
                target=f"pilot_group:{group.id}",
                name=name,
            )
            db.session().commit()
            flash(_("The pilot group %(name)s is saved.", name=name), "success")
            return redirect(url_for("enrolment.groups", org=organisation.slug))
    if form.is_submitted() and not form.errors.get("csrf_token"):
        flash(_("Nothing was saved. Please correct the marked fields."), "error")
    link = None
    if group is not None and group.enrolment_key:
        link = url_for("enrolment.join", token=joining.link_token(group), _external=True)
    return render_template(
        "enrolment/group_form.html", organisation=organisation, form=form, group=group, link=link
    )


@bp.route("/organisations/<org>/groups/new", methods=["GET", "POST"])
@access(Access.ORGANISATION)
def new_group():  # type: ignore[no-untyped-def]
    return _save_group(None)


@bp.route("/organisations/<org>/groups/<int:group_id>", methods=["GET", "POST"])
@access(Access.ORGANISATION)
def edit_group(group_id: int):  # type: ignore[no-untyped-def]
    return _save_group(_group(group_id))


@bp.post("/organisations/<org>/groups/<int:group_id>/link")
@access(Access.ORGANISATION)
def group_link(group_id: int):  # type: ignore[no-untyped-def]
    group = _group(group_id)
    if request.form.get("action") == "close":
        joining.close_link(group)
        flash(_("The self-enrolment link is closed; it no longer works."), "success")
        action = "pilot_group.link_closed"
    else:
        joining.open_link(group)
        flash(
            _("A new self-enrolment link is open. Links given out before no longer work."),
            "success",
        )
        action = "pilot_group.link_opened"
    record(
        db.session(),
        current_user,
        action,
        organisation_id=group.organisation_id,
        target=f"pilot_group:{group.id}",
    )
    db.session().commit()
    return redirect(url_for("enrolment.edit_group", org=g.organisation.slug, group_id=group.id))


@bp.post("/organisations/<org>/groups/<int:group_id>/delete")
@access(Access.ORGANISATION)
def delete_group(group_id: int):  # type: ignore[no-untyped-def]
    group = _group(group_id)
    members = db.session().scalar(
        select(func.count()).where(Participant.pilot_group_id == group.id)
    )
    if members:
        flash(_("The pilot group has participants; move them to another group first."), "error")
        return redirect(url_for("enrolment.edit_group", org=g.organisation.slug, group_id=group.id))
    record(
        db.session(),
        current_user,
        "pilot_group.deleted",
        organisation_id=group.organisation_id,
        target=f"pilot_group:{group.id}",
        name=group.name,
    )
    db.session().delete(group)
    db.session().commit()
    flash(_("The pilot group %(name)s is deleted.", name=group.name), "success")
    return redirect(url_for("enrolment.groups", org=g.organisation.slug))


# Participants ----------------------------------------------------------------------------


def _filtered() -> tuple[Any, dict[str, str]]:
    """Return the participant query of this organisation with the page's filters applied."""
    filters = {
        "q": request.args.get("q", "").strip()[:SEARCH_LENGTH],
        "status": request.args.get("status", ""),
        "group": request.args.get("group", ""),
    }
    statement = select(Participant).where(
        Participant.organisation_id == g.organisation.id,
        Participant.status != ParticipantStatus.ERASED,
    )
    if filters["q"]:
        pattern = f"%{filters['q'].lower()}%"
        statement = statement.where(
            or_(
                func.lower(Participant.name).like(pattern),
                Participant.email.like(pattern),
                func.lower(Participant.title).like(pattern),
            )
        )
    if filters["status"] in {s.value for s in ParticipantStatus}:
        statement = statement.where(Participant.status == ParticipantStatus(filters["status"]))
    else:
        filters["status"] = ""
    group_id = db.id_from(filters["group"])
    if group_id is not None:
        statement = statement.where(Participant.pilot_group_id == group_id)
    else:
        filters["group"] = ""
    return statement, filters


@bp.get("/organisations/<org>/participants")
@access(Access.ORGANISATION)
def participants():  # type: ignore[no-untyped-def]
    campaign = campaign_or_404()
    statement, filters = _filtered()
    total = db.session().scalar(select(func.count()).select_from(statement.subquery())) or 0
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = db.page_number(request.args.get("page"), pages)
    people_on_page = list(
        db.session().scalars(
            statement.order_by(Participant.name, Participant.email)
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        )
    )
    return render_template(
        "enrolment/participants.html",
        organisation=g.organisation,
        people=people_on_page,
        groups=_groups(g.organisation, campaign),
        filters=filters,
        total=total,
        page=page,
        pages=pages,
        statuses=[s for s in ParticipantStatus if s is not ParticipantStatus.ERASED],
    )


@bp.get("/organisations/<org>/participants/export.<fmt>")
@access(Access.ORGANISATION)
def export_participants(fmt: str):  # type: ignore[no-untyped-def]
    if fmt not in ("csv", "xlsx"):
        abort(404)
    statement, _filters = _filtered()
    rows = db.session().execute(
        statement.add_columns(PilotGroup.name)
        .outerjoin(PilotGroup, PilotGroup.id == Participant.pilot_group_id)
        .order_by(Participant.name, Participant.email)
    )
    header = [
        _("E-mail"), _("Name"), _("Title"), _("Language"), _("Status"),
        _("Pilot group"), _("Starts"), _("Enrolled"),
    ]  # fmt: skip
    data = (
        [
            p.email,
            p.name,
            p.title,
            p.language,
            p.status.value,
            group_name or "",
            p.starts_on,
            p.created_at.date(),
        ]  # fmt: skip
        for p, group_name in rows
    )
    return exports.download(
        fmt, f"participants-{g.organisation.slug}", _("Participants"), header, data
    )


def _offer_groups(form: NewParticipantForm | ImportForm, campaign: Campaign) -> bool:
    """Offer the member's pilot groups (the one in ?group= first); False, with a message,
    when it has none yet."""
    groups_here = _groups(g.organisation, campaign)
    if not groups_here:
        flash(_("Create a pilot group first; every participant belongs to one."), "error")
        return False
    form.pilot_group.choices = [(gr.id, gr.name) for gr in groups_here]
    if request.method == "GET":
        form.pilot_group.data = db.id_from(request.args.get("group"))
    return True


@bp.route("/organisations/<org>/participants/new", methods=["GET", "POST"])
@access(Access.ORGANISATION)
def new_participant():  # type: ignore[no-untyped-def]
    campaign = campaign_or_404()
    organisation = g.organisation
    form = NewParticipantForm()
    if not _offer_groups(form, campaign):
        return redirect(url_for("enrolment.new_group", org=organisation.slug))
    if request.method == "GET":
        form.language.data = campaign.language
    if form.validate_on_submit():
        group = _group(form.pilot_group.data)  # type: ignore[arg-type]
        now = current_clock().now()
        text = _(
            "%(user)s confirmed that the person has agreed to take part in the pilot group"
            " %(group)s.",
            user=current_user.email,
            group=group.name,
        )
        try:
            person = people.enrol(
                db.session(),
                campaign=campaign,
                group=group,
                email=form.email.data or "",
                name=" ".join((form.name.data or "").split()),
                title=" ".join((form.title.data or "").split()),
                language=form.language.data or campaign.language,
                consent=(ConsentMethod.STAFF_FORM, f"added by {current_user.email}", text),
                now=now,
                actor=current_user,
            )
        except people.EnrolmentConflict as conflict:
            form.email.errors.append(str(importing.REASONS[conflict.reason]))
        else:
            db.session().commit()
            flash(_("%(email)s is enrolled.", email=person.email), "success")
            return redirect(
                url_for("enrolment.participant", org=organisation.slug, participant_id=person.id)
            )
    return render_template("enrolment/new_participant.html", organisation=organisation, form=form)


@bp.get("/organisations/<org>/participants/<int:participant_id>")
@access(Access.ORGANISATION)
def participant(participant_id: int):  # type: ignore[no-untyped-def]
    campaign = campaign_or_404()
    person = _person(participant_id)
    move_form = MoveForm()
    move_form.pilot_group.choices = [
        (gr.id, gr.name)
        for gr in _groups(g.organisation, campaign)
        if gr.id != person.pilot_group_id
    ]
    return render_template(
        "enrolment/participant.html",
        organisation=g.organisation,
        person=person,
        history=people.history_of(db.session(), person),
        move_form=move_form,
    )


@bp.route("/organisations/<org>/participants/<int:participant_id>/edit", methods=["GET", "POST"])
@access(Access.ORGANISATION)
def edit_participant(participant_id: int):  # type: ignore[no-untyped-def]
    person = _person(participant_id)
    form = ParticipantForm(obj=person)
    if form.validate_on_submit():
        email = form.email.data or ""
        if email != person.email:
            reason = people.conflict_for(
                db.session(), person.campaign_id, person.organisation_id, email
            )
            if reason == "already_enrolled":
                form.email.errors.append(_("Another of your participants has this address."))
            elif reason:
                form.email.errors.append(str(importing.REASONS[reason]))
        if not form.email.errors:
            changes = {
                "email": email,
                "name": " ".join((form.name.data or "").split()),
                "title": " ".join((form.title.data or "").split()),
                "language": form.language.data,
            }
            changed = [k for k, v in changes.items() if getattr(person, k) != v]
            for key in changed:
                setattr(person, key, changes[key])
            if "email" in changed:  # mail not yet sent goes to the new address
                db.session().execute(
                    update(Message)
                    .where(Message.participant_id == person.id, Message.state.in_(OPEN_STATES))
                    .values(recipient=email)
                    .execution_options(synchronize_session=False)
                )
            if changed:
                record(
                    db.session(),
                    current_user,
                    "participant.changed",
                    organisation_id=person.organisation_id,
                    target=f"participant:{person.id}",
                    fields=changed,
                )
            db.session().commit()
            flash(_("The participant's details are saved."), "success")
            return redirect(
                url_for("enrolment.participant", org=g.organisation.slug, participant_id=person.id)
            )
    return render_template(
        "enrolment/edit_participant.html", organisation=g.organisation, person=person, form=form
    )


@bp.post("/organisations/<org>/participants/<int:participant_id>/status")
@access(Access.ORGANISATION)
def participant_status(participant_id: int):  # type: ignore[no-untyped-def]
    person = _person(participant_id)
    action = request.form.get("action")
    session = db.session()
    if action == "pause":
        done = unsubscribe.pause(session, person, current_user)
        message = _("Mail to %(email)s is paused.", email=person.email)
    elif action == "resume":
        done = unsubscribe.resume(session, person, current_user)
        message = _("Mail to %(email)s goes out again.", email=person.email)
    elif action == "unsubscribe":
        unsubscribe.unsubscribe(
            session,
            person,
            current_clock().now(),
            how=f"by {current_user.email}",
            actor=current_user,
        )
        done, message = True, _("%(email)s gets no more mail.", email=person.email)
    else:
        abort(400)
    session.commit()
    if done:
        flash(message, "success")
    else:
        flash(_("That is not possible in the participant's present status."), "error")
    return redirect(
        url_for("enrolment.participant", org=g.organisation.slug, participant_id=person.id)
    )


@bp.post("/organisations/<org>/participants/<int:participant_id>/move")
@access(Access.ORGANISATION)
def move_participant(participant_id: int):  # type: ignore[no-untyped-def]
    person = _person(participant_id)
    group = _group(db.id_from(request.form.get("pilot_group")) or 0)
    if people.move(db.session(), person, group, current_user):
        db.session().commit()
        flash(_("%(email)s is now in %(group)s.", email=person.email, group=group.name), "success")
    return redirect(
        url_for("enrolment.participant", org=g.organisation.slug, participant_id=person.id)
    )


@bp.get("/organisations/<org>/participants/<int:participant_id>/data.json")
@access(Access.ORGANISATION)
def participant_data(participant_id: int):  # type: ignore[no-untyped-def]
    person = _person(participant_id)
    now = current_clock().now()
    data = people.export_data(db.session(), person, now)
    record(
        db.session(),
        current_user,
        "participant.data_exported",
        organisation_id=person.organisation_id,
        target=f"participant:{person.id}",
    )
    db.session().commit()
    response = Response(
        json.dumps(data, ensure_ascii=False, indent=2) + "\n",
        mimetype="application/json",
    )
    response.headers["Content-Disposition"] = f'attachment; filename="participant-{person.id}.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/organisations/<org>/participants/<int:participant_id>/erase", methods=["GET", "POST"])
@access(Access.ORGANISATION)
def erase_participant(participant_id: int):  # type: ignore[no-untyped-def]
    person = _person(participant_id)
    form = EraseForm()
    if form.validate_on_submit():
        email = person.email
        people.erase(db.session(), person, current_user, current_clock().now())
        db.session().commit()
        flash(_("The data of %(email)s is erased.", email=email), "success")
        return redirect(url_for("enrolment.participants", org=g.organisation.slug))
    return render_template(
        "enrolment/erase.html", organisation=g.organisation, person=person, form=form
    )


# Imports -------------------------------------------------------------------------------


@bp.route("/organisations/<org>/imports/new", methods=["GET", "POST"])
@access(Access.ORGANISATION)
def new_import():  # type: ignore[no-untyped-def]
    campaign = campaign_or_404()
    organisation = g.organisation
    form = ImportForm()
    if not _offer_groups(form, campaign):
        return redirect(url_for("enrolment.new_group", org=organisation.slug))
    if form.validate_on_submit():
        group = _group(form.pilot_group.data)  # type: ignore[arg-type]
        upload = form.file.data
        # Werkzeug has spooled the upload to a temporary file; read no more than an import takes.
        content = upload.stream.read(importing.MAX_FILE_BYTES + 1)
        if len(content) > importing.MAX_FILE_BYTES:
            form.file.errors.append(importing.describe("too_large"))
        else:
            job = ParticipantImport(
                campaign_id=campaign.id,
                organisation_id=organisation.id,
                pilot_group_id=group.id,
                user_id=current_user.id,
                filename=(upload.filename or "file")[-300:],
                content=content,
                created_at=current_clock().now(),
            )
            db.session().add(job)
            db.session().commit()
            importing.read_in_background(current_app._get_current_object(), job.id)  # type: ignore[attr-defined]
            return redirect(
                url_for("enrolment.show_import", org=organisation.slug, import_id=job.id)
            )
    recent = list(
        db.session().scalars(
            select(ParticipantImport)
            .where(ParticipantImport.organisation_id == organisation.id)
            .order_by(ParticipantImport.id.desc())
            .limit(10)
        )
    )
    return render_template(
        "enrolment/new_import.html", organisation=organisation, form=form, recent=recent
    )


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge) -> tuple[str, int]:
    """An upload over the size of a request: say so in a sentence (only imports take files)."""
    title, text = _("The file is too large"), importing.describe("too_large")
    return render_template("errors/error.html", code=413, title=title, text=text), 413


@bp.get("/organisations/<org>/imports/<int:import_id>")
@access(Access.ORGANISATION)
def show_import(import_id: int):  # type: ignore[no-untyped-def]
    job = _import(import_id)
    show = request.args.get("show", "")
    if show not in {o.value for o in RowOutcome}:
        show = ""
    rows: list[ImportRow] = []
    page, pages = 1, 1
    if job.state is ImportState.READY:
        statement = select(ImportRow).where(ImportRow.import_id == job.id)
        if show:
            statement = statement.where(ImportRow.outcome == RowOutcome(show))
        total = db.session().scalar(select(func.count()).select_from(statement.subquery())) or 0
        pages = max((total + PAGE_SIZE * 4 - 1) // (PAGE_SIZE * 4), 1)
        page = db.page_number(request.args.get("page"), pages)
        rows = list(
            db.session().scalars(
                statement.order_by(ImportRow.row_number)
                .offset((page - 1) * PAGE_SIZE * 4)
                .limit(PAGE_SIZE * 4)
            )
        )
    return render_template(
        "enrolment/import.html",
        organisation=g.organisation,
        job=job,
        rows=rows,
        show=show,
        page=page,
        pages=pages,
        form=ConfirmImportForm(),
        progress_text=_progress_text(job),
        reasons=importing.REASONS,
        error_text=importing.describe(job.error, job.counts) if job.error else "",
    )


def _progress_text(job: ParticipantImport) -> str:
    return _(
        "Read %(read)s of about %(total)s rows. This page updates itself.",
        read=format_number(job.rows_read),
        total=format_number(job.rows_total),
    )


@bp.get("/organisations/<org>/imports/<int:import_id>/progress.json")
@access(Access.ORGANISATION)
def import_progress(import_id: int):  # type: ignore[no-untyped-def]
    """How far the reading has come, for the progress bar's script."""
    job = _import(import_id)
    return {
        "state": job.state.value,
        "done": job.rows_read,
        "total": job.rows_total,
        "text": _progress_text(job),
        "finished": job.state is not ImportState.READING,
    }


@bp.post("/organisations/<org>/imports/<int:import_id>/apply")
@access(Access.ORGANISATION)
def apply_import(import_id: int):  # type: ignore[no-untyped-def]
    job = _import(import_id)
    form = ConfirmImportForm()
    back = url_for("enrolment.show_import", org=g.organisation.slug, import_id=job.id)
    if job.state is not ImportState.READY:
        flash(_("This import cannot be confirmed any more."), "error")
        return redirect(back)
    if not form.validate_on_submit():
        flash(_("Please confirm that the people have agreed."), "error")
        return redirect(back)
    try:
        applied = importing.apply_import(db.session(), job, current_user, current_clock().now())
    except importing.PlanChanged:
        db.session().rollback()
        job = _import(import_id)
        importing.read_import(db.session(), job)
        flash(
            _(
                "Enrolments changed since the preview, so nothing was written. Here is the"
                " new preview; check it and confirm again."
            ),
            "error",
        )
        return redirect(back)
    flash(
        _(
            "%(added)d participants added and %(updated)d updated.",
            added=applied.added,
            updated=applied.updated,
        ),
        "success",
    )
    return redirect(url_for("enrolment.participants", org=g.organisation.slug))


@bp.post("/organisations/<org>/imports/<int:import_id>/discard")
@access(Access.ORGANISATION)
def discard_import(import_id: int):  # type: ignore[no-untyped-def]
    job = _import(import_id)
    if job.state is ImportState.READY:
        importing.discard(db.session(), job, current_clock().now())
        db.session().commit()
        flash(_("The import is discarded; nothing was written."), "success")
    return redirect(url_for("enrolment.new_import", org=g.organisation.slug))


# Self-enrolment: public pages ---------------------------------------------------------


def _link_problem(error: Exception, *, confirming: bool = False) -> tuple[str, int]:
    again = _(
        "Open the pilot group's link again and fill in the form once more: you get a new"
        " confirmation e-mail."
    )
    if isinstance(error, TokenError) and error.expired:
        return render_template(
            "enrolment/join_closed.html",
            text=_("This link has expired."),
            hint=again if confirming else None,
        ), 400
    if isinstance(error, joining.LinkClosed):
        return render_template(
            "enrolment/join_closed.html",
            text=_("This enrolment link is closed. Ask the person who gave it to you."),
        ), 410
    if isinstance(error, joining.LinkGone):
        # The same page whether the request was erased, purged or older than an erasure:
        # whoever holds the link learns nothing about the address.
        return render_template(
            "enrolment/join_closed.html",
            text=_("This confirmation link no longer works."),
            hint=again,
        ), 410
    return render_template("enrolment/join_closed.html", text=_("This link is not valid.")), 400


@bp.route("/join/<token>", methods=["GET", "POST"])
@access(Access.PUBLIC)
def join(token: str):  # type: ignore[no-untyped-def]
    session = db.session()
    try:
        group = joining.group_for(session, token)
    except (TokenError, joining.LinkClosed) as error:
        return _link_problem(error)
    campaign = session.get(Campaign, group.campaign_id)
    assert campaign is not None
    shown = str(get_locale() or "sv")
    consent = people.self_enrolment_consent(shown, group.organisation, group, campaign)
    form = JoinForm()
    if request.method == "GET":
        form.language.data = shown
    if form.validate_on_submit():
        joining.request_confirmation(
            session,
            group,
            joining.Applicant(
                email=form.email.data or "",
                name=" ".join((form.name.data or "").split()),
                title=" ".join((form.title.data or "").split()),
                language=form.language.data or shown,
                client=request.remote_addr or "unknown",
                shown=shown,
            ),
            current_clock().now(),
        )
        session.commit()
        # The same answer whether or not the address is known: the page reveals nothing.
        return render_template("enrolment/join_sent.html", group=group, email=form.email.data)
    return render_template(
        "enrolment/join.html", group=group, campaign=campaign, form=form, consent=consent
    )


@bp.route("/join/confirm/<token>", methods=["GET", "POST"])
@access(Access.PUBLIC)
def join_confirm(token: str):  # type: ignore[no-untyped-def]
    """GET shows a button; only the POST enrols, so a mail scanner opening links enrols nobody."""
    session = db.session()
    now = current_clock().now()
    try:
        wish = joining.request_for(session, token, now)
    except (TokenError, joining.LinkGone) as error:
        return _link_problem(error, confirming=True)
    with force_locale(wish.language):
        if wish.confirmed_at is not None:  # consumed: a second use changes nothing
            return render_template("enrolment/join_done.html", group=None, already="confirmed")
        try:
            group = joining.check_open(session, wish)
        except joining.LinkClosed as error:
            return _link_problem(error)
        if request.method == "GET":
            return render_template("enrolment/join_confirm.html", group=group, wish=wish)
        if request.form.get("confirm") != "yes":
            abort(400)
        try:
            person = joining.confirm(session, wish, request.remote_addr or "unknown", now)
        except people.EnrolmentConflict as conflict:
            session.rollback()
            if conflict.reason == "erased":
                return _link_problem(joining.LinkGone(), confirming=True)
            return render_template("enrolment/join_done.html", group=group, already=conflict.reason)
        session.commit()
        return render_template("enrolment/join_done.html", group=group, person=person)
