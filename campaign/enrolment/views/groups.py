"""Pilot groups: the list, the form to create or change one, its self-enrolment link."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from campaign import db, labels
from campaign.accounts.scope import Access, access
from campaign.drip import pauses
from campaign.drip.files import load_sequences
from campaign.enrolment import joining, pilot_groups
from campaign.enrolment.forms import GroupPauseForm, PilotGroupForm
from campaign.enrolment.models import PilotGroup, PilotGroupKind
from campaign.enrolment.views.base import bp, group_or_404, member_groups
from campaign.network.members import campaign_or_404
from campaign.network.models import Campaign
from campaign.timing import current_clock, day_text, local_date


@bp.get("/organisations/<org>/groups")
@access(Access.ORGANISATION)
def groups() -> ResponseReturnValue:
    campaign = campaign_or_404()
    return render_template(
        "enrolment/groups.html",
        organisation=g.organisation,
        groups=member_groups(campaign),
        counts=_active_counts(),
    )


def _active_counts() -> dict[int, int]:
    """Return how many active or paused participants each of the member's groups has."""
    return pilot_groups.active_counts(db.session(), g.campaign.id, g.organisation.id)


def _sequence_choices() -> list[tuple[str, str]]:
    """Return the choices of sequence: none, or one of those on file by name."""
    sequences, _problems = load_sequences()
    return [("", _("No e-mails"))] + [(name, labels.sequence(name)) for name in sorted(sequences)]


def _form(group: PilotGroup, campaign: Campaign, **formdata: Any) -> PilotGroupForm:
    """The form, for a new group with today's date (the campaign's today) and the sequence."""
    form = PilotGroupForm(obj=group if group.id else None, **formdata)
    form.sequence_name.choices = _sequence_choices()
    if not group.id and request.method == "GET":
        today = local_date(current_clock().now(), campaign.timezone)
        form.starts_on.data = max(campaign.starts_on, today)
        form.sequence_name.data = "pilot-group"
    return form


def _fields(form: PilotGroupForm) -> pilot_groups.GroupFields | None:
    """Return the group's fields from a valid form (None when it is not)."""
    if not form.validate_on_submit() or form.starts_on.data is None:
        return None
    return pilot_groups.GroupFields(
        name=" ".join((form.name.data or "").split()),
        kind=PilotGroupKind(form.kind.data),
        starts_on=form.starts_on.data,
        sequence_name=form.sequence_name.data or None,
    )


def _save_group(group: PilotGroup) -> ResponseReturnValue:
    """Show the group's form, or save the group from it and go back to the list."""
    form = _form(group, campaign_or_404())
    fields = _fields(form)
    if fields is not None and pilot_groups.name_taken(db.session(), group, fields.name):
        form.name.errors.append(_("You already have a pilot group with this name."))
    elif fields is not None:
        pilot_groups.save(db.session(), group, fields, current_user, current_clock().now())
        db.session().commit()
        flash(_("The pilot group %(name)s is saved.", name=fields.name), "success")
        return redirect(url_for("enrolment.groups", org=g.organisation.slug))
    if form.is_submitted() and not form.errors.get("csrf_token"):
        flash(_("Nothing was saved. Please correct the marked fields."), "error")
    return _group_page(group, form)


def _group_page(
    group: PilotGroup, form: PilotGroupForm, pause_form: GroupPauseForm | None = None
) -> ResponseReturnValue:
    """The group's page: its form, its link, and its pauses (the pause form as given)."""
    return render_template(
        "enrolment/group_form.html",
        organisation=g.organisation,
        form=form,
        group=group if group.id else None,
        link=_join_link(group),
        pause_form=pause_form or GroupPauseForm(formdata=None),
        paused=pauses.pauses_of(db.session(), group) if group.id else [],
    )


def _join_link(group: PilotGroup) -> str | None:
    """Return the group's self-enrolment link, or None when it has none open."""
    if not (group.id and group.enrolment_key):
        return None
    return url_for("enrolment.join", token=joining.link_token(group), _external=True)


@bp.route("/organisations/<org>/groups/new", methods=["GET", "POST"])
@access(Access.ORGANISATION)
def new_group() -> ResponseReturnValue:
    campaign = campaign_or_404()
    return _save_group(PilotGroup(campaign_id=campaign.id, organisation_id=g.organisation.id))


@bp.route("/organisations/<org>/groups/<int:group_id>", methods=["GET", "POST"])
@access(Access.ORGANISATION)
def edit_group(group_id: int) -> ResponseReturnValue:
    return _save_group(group_or_404(group_id))


@bp.post("/organisations/<org>/groups/<int:group_id>/link")
@access(Access.ORGANISATION)
def group_link(group_id: int) -> ResponseReturnValue:
    group = group_or_404(group_id)
    flash(_change_link(group, close=request.form.get("action") == "close"), "success")
    db.session().commit()
    return redirect(url_for("enrolment.edit_group", org=g.organisation.slug, group_id=group.id))


def _change_link(group: PilotGroup, *, close: bool) -> str:
    """Close the group's self-enrolment link, or open a new one; say what was done."""
    if close:
        pilot_groups.close_link(db.session(), group, current_user)
        return _("The self-enrolment link is closed; it no longer works.")
    pilot_groups.open_link(db.session(), group, current_user)
    return _("A new self-enrolment link is open. Links given out before no longer work.")


@bp.post("/organisations/<org>/groups/<int:group_id>/pause")
@access(Access.ORGANISATION)
def pause_group(group_id: int) -> ResponseReturnValue:
    group = group_or_404(group_id)
    if request.form.get("action") == "resume":
        flash(_resumed(group, _day_of(request.form.get("until"))), "success")
    else:
        form, campaign = GroupPauseForm(), campaign_or_404()
        today = local_date(current_clock().now(), campaign.timezone)
        until = form.until.data if form.validate() else None
        if until is None or not form.check_day(today, campaign.ends_on):
            flash(_("Nothing was saved. Please correct the marked fields."), "error")
            return _group_page(group, _form(group, campaign, formdata=None), form)
        flash(_paused(group, until), "success")
    db.session().commit()
    return redirect(url_for("enrolment.edit_group", org=g.organisation.slug, group_id=group.id))


def _day_of(text: str | None) -> date:
    """Return the ISO day of a form's hidden field; 400 if it is none."""
    try:
        return date.fromisoformat(text or "")
    except ValueError:
        abort(400)


def _paused(group: PilotGroup, until: date) -> str:
    """Pause the group's active participants until `until`; say how many."""
    count = pauses.pause_group(db.session(), group, until, current_clock().now(), current_user)
    return ngettext(
        "%(num)d participant is paused until %(day)s.",
        "%(num)d participants are paused until %(day)s.",
        count,
        day=day_text(until),
    )


def _resumed(group: PilotGroup, until: date) -> str:
    """Resume now the group's participants paused until `until`; say how many."""
    count = pauses.resume_group(db.session(), group, until, current_clock().now(), current_user)
    return ngettext(
        "%(num)d participant gets the e-mails again from now on.",
        "%(num)d participants get the e-mails again from now on.",
        count,
    )


@bp.post("/organisations/<org>/groups/<int:group_id>/delete")
@access(Access.ORGANISATION)
def delete_group(group_id: int) -> ResponseReturnValue:
    group = group_or_404(group_id)
    if not pilot_groups.delete(db.session(), group, current_user):
        flash(_("The pilot group has participants; move them to another group first."), "error")
        return redirect(url_for("enrolment.edit_group", org=g.organisation.slug, group_id=group.id))
    db.session().commit()
    flash(_("The pilot group %(name)s is deleted.", name=group.name), "success")
    return redirect(url_for("enrolment.groups", org=g.organisation.slug))
