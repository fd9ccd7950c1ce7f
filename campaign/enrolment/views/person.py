"""One participant: their page, their details, pause, resume or stop their mail, move them to
another group, and the data-subject rights (their data as JSON, erasure)."""

from __future__ import annotations

import json

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from campaign import db
from campaign.accounts.scope import Access, access
from campaign.enrolment import details, importing, lifecycle, people
from campaign.enrolment.forms import EraseForm, MoveForm, ParticipantForm
from campaign.enrolment.models import Participant
from campaign.enrolment.views.base import bp, group_or_404, member_groups, person_or_404
from campaign.network.members import campaign_or_404
from campaign.report import personal_data
from campaign.timing import current_clock


def _back_to(person: Participant) -> ResponseReturnValue:
    return redirect(
        url_for("enrolment.participant", org=g.organisation.slug, participant_id=person.id)
    )


@bp.get("/organisations/<org>/participants/<int:participant_id>")
@access(Access.ORGANISATION)
def participant(participant_id: int) -> ResponseReturnValue:
    campaign = campaign_or_404()
    person = person_or_404(participant_id)
    move_form = MoveForm()
    move_form.pilot_group.choices = [
        (gr.id, gr.name) for gr in member_groups(campaign) if gr.id != person.pilot_group_id
    ]
    return render_template(
        "enrolment/participant.html",
        organisation=g.organisation,
        person=person,
        history=personal_data.history_of(db.session(), person),
        move_form=move_form,
    )


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
        email = form.email.data or ""
        if (problem := _address_problem(person, email)) is not None:
            form.email.errors.append(problem)
        else:
            new = details.Details(
                email=email,
                name=" ".join((form.name.data or "").split()),
                title=" ".join((form.title.data or "").split()),
                language=form.language.data or person.language,
            )
            details.change(db.session(), person, new, current_user, current_clock().now())
            db.session().commit()
            flash(_("The participant's details are saved."), "success")
            return _back_to(person)
    return render_template(
        "enrolment/edit_participant.html", organisation=g.organisation, person=person, form=form
    )


@bp.post("/organisations/<org>/participants/<int:participant_id>/status")
@access(Access.ORGANISATION)
def participant_status(participant_id: int) -> ResponseReturnValue:
    person = person_or_404(participant_id)
    action = request.form.get("action")
    session = db.session()
    if action == "pause":
        done = lifecycle.pause(session, person, current_clock().now(), current_user)
        message = _("Mail to %(email)s is paused.", email=person.email)
    elif action == "resume":
        done = lifecycle.resume(session, person, current_clock().now(), current_user)
        message = _("Mail to %(email)s goes out again.", email=person.email)
    elif action == "unsubscribe":
        how = f"by {current_user.email}"
        lifecycle.unsubscribe(session, person, current_clock().now(), how=how, actor=current_user)
        done, message = True, _("%(email)s gets no more mail.", email=person.email)
    else:
        abort(400)
    session.commit()
    if done:
        flash(message, "success")
    else:
        flash(_("That is not possible in the participant's present status."), "error")
    return _back_to(person)


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
    response = Response(
        json.dumps(data, ensure_ascii=False, indent=2) + "\n", mimetype="application/json"
    )
    response.headers["Content-Disposition"] = f'attachment; filename="participant-{person.id}.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/organisations/<org>/participants/<int:participant_id>/erase", methods=["GET", "POST"])
@access(Access.ORGANISATION)
def erase_participant(participant_id: int) -> ResponseReturnValue:
    person = person_or_404(participant_id)
    form = EraseForm()
    if form.validate_on_submit():
        email = person.email
        lifecycle.erase(db.session(), person, current_user, current_clock().now())
        db.session().commit()
        flash(_("The data of %(email)s is erased.", email=email), "success")
        return redirect(url_for("enrolment.participants", org=g.organisation.slug))
    return render_template(
        "enrolment/erase.html", organisation=g.organisation, person=person, form=form
    )
