"""Milestones in the web UI: the lead administrator sets the campaign's and any member's; a
representative sets their own member's, which override the campaign's of the same name."""

from __future__ import annotations

from flask import Blueprint, Flask, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from campaign import db
from campaign.accounts.scope import Access, access
from campaign.milestones import dates
from campaign.milestones.forms import MilestoneForm
from campaign.milestones.models import Milestone
from campaign.network import members
from campaign.network.models import Campaign, Organisation
from campaign.timing import current_clock, day_text

bp = Blueprint("milestones", __name__)


def init_app(app: Flask) -> None:
    """Register the milestone pages."""
    app.register_blueprint(bp)


@bp.route("/milestones", methods=["GET", "POST"])
@access(Access.LEAD_ADMIN)
def campaign_milestones() -> ResponseReturnValue:
    """The campaign's milestones, each member's own, and the form that sets one."""
    campaign = members.campaign_or_404()
    form = MilestoneForm()
    if (done := _changed(campaign, None, form)) is not None:
        return done
    every = dates.milestones_of(db.session(), campaign.id)
    return render_template(
        "milestones/campaign.html",
        campaign=campaign,
        form=form,
        own=[m for m in every if m.organisation_id is None],
        members=_by_member([m for m in every if m.organisation_id is not None]),
    )


@bp.route("/organisations/<org>/milestones", methods=["GET", "POST"])
@access(Access.ORGANISATION)
def member_milestones() -> ResponseReturnValue:
    """A member's own milestones, the campaign's beside them, and the form that sets one."""
    campaign = members.campaign_or_404()
    organisation: Organisation = g.organisation
    members.membership_of(db.session(), campaign, organisation)  # a 404 for no member
    form = MilestoneForm()
    if (done := _changed(campaign, organisation, form)) is not None:
        return done
    every = dates.milestones_of(db.session(), campaign.id, organisation.id)
    own = [m for m in every if m.organisation_id is not None]
    return render_template(
        "milestones/member.html",
        campaign=campaign,
        organisation=organisation,
        form=form,
        own=own,
        shared=[m for m in every if m.organisation_id is None],
        overridden={m.name for m in own},
    )


def _changed(
    campaign: Campaign, organisation: Organisation | None, form: MilestoneForm
) -> ResponseReturnValue | None:
    """Remove or set a milestone as the posted form asks; the redirect, or None to show the page
    (with the form's problems)."""
    if request.method == "POST" and "remove" in request.form:
        return _removed(campaign, organisation, request.form["remove"])
    if form.validate_on_submit():
        return _saved(campaign, organisation, form)
    if form.is_submitted() and not form.errors.get("csrf_token"):
        flash(_("Nothing was saved. Please correct the marked fields."), "error")
    return None


def _saved(
    campaign: Campaign, organisation: Organisation | None, form: MilestoneForm
) -> ResponseReturnValue:
    """Set the milestone of a valid form; say so, and show the page again."""
    values = {"name": form.name.data, "day": form.day.data, "description": form.description.data}
    whose = organisation.id if organisation else None
    now = current_clock().now()
    milestone = dates.set_milestone(db.session(), campaign.id, whose, values, current_user, now)
    db.session().commit()
    day = day_text(milestone.day)
    flash(_("The milestone %(name)s is on %(day)s.", name=milestone.name, day=day), "success")
    return redirect(_page(organisation))


def _removed(
    campaign: Campaign, organisation: Organisation | None, name: str
) -> ResponseReturnValue:
    """Remove a milestone (CSRFProtect has checked the form's token); say so, show the page."""
    whose = organisation.id if organisation else None
    now = current_clock().now()
    if dates.remove_milestone(db.session(), campaign.id, whose, name, current_user, now):
        db.session().commit()
        flash(_("The milestone %(name)s is removed.", name=name), "success")
    return redirect(_page(organisation))


def _page(organisation: Organisation | None) -> str:
    """The page of the campaign's milestones, or of the member's."""
    if organisation is None:
        return url_for("milestones.campaign_milestones")
    return url_for("milestones.member_milestones", org=organisation.slug)


def _by_member(rows: list[Milestone]) -> list[tuple[Organisation, list[Milestone]]]:
    """Group the members' own milestones by member, in the order of the members' names."""
    ids = {m.organisation_id for m in rows}
    found = db.session().scalars(select(Organisation).where(Organisation.id.in_(ids)))
    organisations = sorted(found, key=members.swedish_sort_key)
    return [(o, [m for m in rows if m.organisation_id == o.id]) for o in organisations]
