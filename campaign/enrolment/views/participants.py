"""The member's participants: the list with its search and filters, its download, and
enrolling one person through a form."""

from __future__ import annotations

from collections.abc import Iterator

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import ColumnElement, Select, func, or_, select

from campaign import db, exports
from campaign.accounts.scope import Access, access, of_member
from campaign.enrolment import importing, people
from campaign.enrolment.forms import NewParticipantForm
from campaign.enrolment.lifecycle import bounces_of
from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup
from campaign.enrolment.views.base import bp, group_or_404, member_groups, offer_groups
from campaign.i18n import LANGUAGES
from campaign.labels import label
from campaign.network.members import campaign_or_404
from campaign.network.models import Campaign
from campaign.pages import page_of
from campaign.timing import current_clock

# No name, address or title is longer; SQLite refuses LIKE patterns over 50,000 bytes.
SEARCH_LENGTH = 320


def _filters() -> dict[str, str]:
    """Return the list's filters from the query string, each "" when absent or unknown."""
    status = request.args.get("status", "")
    group = request.args.get("group", "")
    return {
        "q": request.args.get("q", "").strip()[:SEARCH_LENGTH],
        "status": status if status in {s.value for s in ParticipantStatus} else "",
        "group": group if db.id_from(group) is not None else "",
    }


def _filtered(filters: dict[str, str]) -> Select[Participant]:
    """Return the participant query of this organisation with the filters applied."""
    statement = select(Participant).where(
        of_member(Participant), Participant.status != ParticipantStatus.ERASED
    )
    if filters["q"]:
        statement = statement.where(_matching(filters["q"]))
    if filters["status"]:
        statement = statement.where(Participant.status == ParticipantStatus(filters["status"]))
    if filters["group"]:
        statement = statement.where(Participant.pilot_group_id == db.id_from(filters["group"]))
    return statement


def _matching(text: str) -> ColumnElement[bool]:
    """The condition of a participant whose name, address or title holds `text`, in any case."""
    pattern = f"%{text.lower()}%"
    return or_(
        func.lower(Participant.name).like(pattern),
        Participant.email.like(pattern),
        func.lower(Participant.title).like(pattern),
    )


@bp.get("/organisations/<org>/participants")
@access(Access.ORGANISATION)
def participants() -> ResponseReturnValue:
    campaign = campaign_or_404()
    filters = _filters()
    statement = _filtered(filters).order_by(Participant.name, Participant.email)
    page = page_of(db.session(), statement, request.args.get("page"))
    return render_template(
        "enrolment/participants.html",
        organisation=g.organisation,
        page=page,
        bounces=bounces_of(db.session(), page.items),
        groups=member_groups(campaign),
        filters=filters,
        statuses=_statuses(),
    )


def _statuses() -> list[ParticipantStatus]:
    """Return the statuses the list can be filtered by: every one but erased."""
    return [s for s in ParticipantStatus if s is not ParticipantStatus.ERASED]


@bp.get("/organisations/<org>/participants/export.<fmt>")
@access(Access.ORGANISATION)
def export_participants(fmt: str) -> ResponseReturnValue:
    if fmt not in ("csv", "xlsx"):
        abort(404)
    header = [
        _("E-mail"), _("Name"), _("Title"), _("Language"), _("Status"),
        _("Pilot group"), _("Starts"), _("Enrolled"), _("Paused until"),
    ]  # fmt: skip
    return exports.download(
        fmt, f"participants-{g.organisation.slug}", _("Participants"), header, _exported()
    )


def _exported() -> Iterator[list[object]]:
    """The rows of the download: the list as filtered, each person with their group's name."""
    rows = db.session().execute(
        _filtered(_filters())
        .add_columns(PilotGroup.name)
        .outerjoin(PilotGroup, PilotGroup.id == Participant.pilot_group_id)
        .order_by(Participant.name, Participant.email)
    )
    for p, group_name in rows:
        yield [
            p.email, p.name, p.title, LANGUAGES.get(p.language, p.language), label(p.status),
            group_name or "", p.starts_on, p.created_at, p.paused_until,
        ]  # fmt: skip


@bp.route("/organisations/<org>/participants/new", methods=["GET", "POST"])
@access(Access.ORGANISATION)
def new_participant() -> ResponseReturnValue:
    campaign = campaign_or_404()
    form = NewParticipantForm()
    if not offer_groups(form, campaign):
        return redirect(url_for("enrolment.new_group", org=g.organisation.slug))
    if request.method == "GET":
        form.language.data = campaign.language
    if form.validate_on_submit() and (person := _enrolled(form, campaign)) is not None:
        return _show_enrolled(person)
    return render_template("enrolment/new_participant.html", organisation=g.organisation, form=form)


def _show_enrolled(person: Participant) -> ResponseReturnValue:
    """Commit the enrolment, say so, and show the person's page."""
    db.session().commit()
    flash(_("%(email)s is enrolled.", email=person.email), "success")
    return redirect(
        url_for("enrolment.participant", org=g.organisation.slug, participant_id=person.id)
    )


def _enrolled(form: NewParticipantForm, campaign: Campaign) -> Participant | None:
    """Enrol the person of a valid form; None, with the reason on the form, if they cannot be."""
    try:
        return _enrol(form, campaign)
    except people.EnrolmentConflict as conflict:
        form.email.errors.append(str(importing.REASONS[conflict.reason]))
        return None


def _enrol(form: NewParticipantForm, campaign: Campaign) -> Participant:
    """Enrol the person of a valid form, with the staff member's word for their consent."""
    group = group_or_404(form.pilot_group.data or 0)
    return people.enrol(
        db.session(),
        campaign=campaign,
        group=group,
        newcomer=_newcomer(form, campaign),
        consent=people.staff_consent(current_user.email, group),
        now=current_clock().now(),
        actor=current_user,
    )


def _newcomer(form: NewParticipantForm, campaign: Campaign) -> people.Newcomer:
    """Return the person a valid form names, spaces tidied."""
    return people.Newcomer(
        email=form.email.data or "",
        name=" ".join((form.name.data or "").split()),
        title=" ".join((form.title.data or "").split()),
        language=form.language.data or campaign.language,
    )
