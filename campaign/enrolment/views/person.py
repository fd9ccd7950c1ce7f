"""One participant: their page, their details, pause, resume or stop their mail, move them to
another group, and the data-subject rights (their data as JSON, erasure)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from campaign import db
from campaign.accounts.scope import Access, access
from campaign.drip import pauses
from campaign.enrolment import details, importing, lifecycle, people
from campaign.enrolment.forms import EraseForm, MoveForm, ParticipantForm, PauseForm
from campaign.enrolment.models import Participant
from campaign.enrolment.views.base import bp, group_or_404, member_groups, person_or_404
from campaign.network.members import campaign_or_404
from campaign.network.models import Campaign
from campaign.report import personal_data
from campaign.timing import current_clock, day_text, local_date


def _back_to(person: Participant) -> ResponseReturnValue:
    """Redirect to the person's page."""
    return redirect(
        url_for("enrolment.participant", org=g.organisation.slug, participant_id=person.id)
    )


@bp.get("/organisations/<org>/participants/<int:participant_id>")
@access(Access.ORGANISATION)
def participant(participant_id: int) -> ResponseReturnValue:
    person = person_or_404(participant_id)
    return _page(person, PauseForm(data={"until": person.paused_until}))


def _page(person: Participant, pause_form: PauseForm) -> ResponseReturnValue:
    """The person's page, with the pause form as given (and its errors, if any)."""
    return render_template(
        "enrolment/participant.html",
        organisation=g.organisation,
        person=person,
        bounces=lifecycle.bounces_of(db.session(), [person]),
        history=personal_data.history_of(db.session(), person),
        move_form=_move_form(campaign_or_404(), person),
        pause_form=pause_form,
    )


def _move_form(campaign: Campaign, person: Participant) -> MoveForm:
    """Return the form to move the person, offering the member's other groups."""
    form = MoveForm()
    form.pilot_group.choices = [
        (gr.id, gr.name) for gr in member_groups(campaign) if gr.id != person.pilot_group_id
    ]
    return form


def _address_problem(person: Participant, email: str) -> str | None:
    """Return why the person cannot take this address, or None."""
    if email == person.email:
        return None
    reason = people.conflict_for(db.session(), person.campaign_id, person.organisation_id, email)
    if reason == "already_enrolled":
        return _("Another of your participants has this address.")
    return str(importing.REASONS[reason]) if reason else None


@bp.route("/organisations/<org>/participants/<int:participant_id>/edit", methods=["GET", "POST"])
@access(Access.ORGANISATION)
def edit_participant(participant_id: int) -> ResponseReturnValue:
    person = person_or_404(participant_id)
    form = ParticipantForm(obj=person)
    if form.validate_on_submit():
        if (problem := _address_problem(person, form.email.data or "")) is not None:
            form.email.errors.append(problem)
        else:
            return _details_saved(person, form)
    return render_template(
        "enrolment/edit_participant.html", organisation=g.organisation, person=person, form=form
    )


def _details_saved(person: Participant, form: ParticipantForm) -> ResponseReturnValue:
    """Store the person's details from a valid form, and go back to their page."""
    new = _details(form, person)
    details.change(db.session(), person, new, current_user, current_clock().now())
    db.session().commit()
    flash(_("The participant's details are saved."), "success")
    return _back_to(person)


def _details(form: ParticipantForm, person: Participant) -> details.Details:
    """Return the details of a valid form, spaces tidied."""
    return details.Details(
        email=form.email.data or "",
        name=" ".join((form.name.data or "").split()),
        title=" ".join((form.title.data or "").split()),
        language=form.language.data or person.language,
    )


@bp.post("/organisations/<org>/participants/<int:participant_id>/status")
@access(Access.ORGANISATION)
def participant_status(participant_id: int) -> ResponseReturnValue:
    person = person_or_404(participant_id)
    form = PauseForm()
    if request.form.get("action") == "pause" and not _valid_day(form):
        flash(_("Nothing was saved. Please correct the marked fields."), "error")
        return _page(person, form)
    done, message = _change_status(person, request.form.get("action"), form.until.data)
    db.session().commit()
    if done:
        flash(message, "success")
    else:
        flash(_("That is not possible in the participant's present status."), "error")
    return _back_to(person)


def _valid_day(form: PauseForm) -> bool:
    """Whether the pause form is valid, its day (if any) after today and within the campaign."""
    campaign = campaign_or_404()
    today = local_date(current_clock().now(), campaign.timezone)
    return form.validate() and form.check_day(today, campaign.ends_on)


def _change_status(person: Participant, action: str | None, until: date | None) -> tuple[bool, str]:
    """Pause (until a day, if given), resume or unsubscribe the person; return whether it was
    done, and what to say."""
    session, now = db.session(), current_clock().now()
    if action == "pause":
        done = lifecycle.pause(session, person, now, current_user, until)
        return done, _paused_text(person.email, until)
    if action == "resume":
        done = pauses.resume(session, person, now, current_user)
        return done, _("Mail to %(email)s goes out again.", email=person.email)
    if action == "unsubscribe":
        how = f"by {current_user.email}"
        lifecycle.unsubscribe(session, person, now, how=how, actor=current_user)
        return True, _("%(email)s gets no more mail.", email=person.email)
    abort(400)


def _paused_text(email: str, until: date | None) -> str:
    """Say that mail to `email` is paused, and until when."""
    if until is None:
        return _("Mail to %(email)s is paused.", email=email)
    return _("Mail to %(email)s is paused until %(day)s.", email=email, day=day_text(until))


@bp.post("/organisations/<org>/participants/<int:participant_id>/move")
@access(Access.ORGANISATION)
def move_participant(participant_id: int) -> ResponseReturnValue:
    person = person_or_404(participant_id)
    group = group_or_404(db.id_from(request.form.get("pilot_group")) or 0)
    if people.move(db.session(), person, group, current_user, current_clock().now()):
        db.session().commit()
        flash(_("%(email)s is now in %(group)s.", email=person.email, group=group.name), "success")
    return _back_to(person)


@bp.get("/organisations/<org>/participants/<int:participant_id>/data.json")
@access(Access.ORGANISATION)
def participant_data(participant_id: int) -> ResponseReturnValue:
    person = person_or_404(participant_id)
    data = personal_data.exported(db.session(), person, current_user, current_clock().now())
    db.session().commit()
    return _json_attachment(data, f"participant-{person.id}.json")


def _json_attachment(data: Any, filename: str) -> Response:
    """Answer with `data` as a JSON file to download, kept by no cache."""
    body = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/organisations/<org>/participants/<int:participant_id>/erase", methods=["GET", "POST"])
@access(Access.ORGANISATION)
def erase_participant(participant_id: int) -> ResponseReturnValue:
    person = person_or_404(participant_id)
    form = EraseForm()
    if form.validate_on_submit():
        return _erased(person)
    return render_template(
        "enrolment/erase.html", organisation=g.organisation, person=person, form=form
    )


def _erased(person: Participant) -> ResponseReturnValue:
    """Erase the person, say whose data went (their address, before it goes), back to the list."""
    email = person.email
    lifecycle.erase(db.session(), person, current_user, current_clock().now())
    db.session().commit()
    flash(_("The data of %(email)s is erased.", email=email), "success")
    return redirect(url_for("enrolment.participants", org=g.organisation.slug))
