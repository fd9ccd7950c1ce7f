"""The lead administrator's page that starts the next campaign from the current one."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Flask, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from campaign import db
from campaign.accounts.scope import Access, access
from campaign.network.members import campaign_or_404, slugify
from campaign.network.models import Campaign
from campaign.succession import copying, returning
from campaign.succession.forms import NextCampaignForm
from campaign.timing import current_clock

bp = Blueprint("succession", __name__)


def init_app(app: Flask) -> None:
    """Register the views."""
    app.register_blueprint(bp)


@bp.route("/network/next", methods=["GET", "POST"])
@access(Access.LEAD_ADMIN)
def next_campaign() -> ResponseReturnValue:
    """Start the next campaign: members, pilot groups, questionnaires and settings, no people."""
    old = campaign_or_404()
    form = NextCampaignForm(data=_suggested(old))
    if form.validate_on_submit():
        try:
            return _start(old, form)
        except copying.PlanError as error:
            _show(form, error.problems)
    if form.is_submitted():
        flash(_("Nothing was saved. Please correct the marked fields."), "error")
    return render_template("succession/next.html", form=form, campaign=old)


def _suggested(old: Campaign) -> dict[str, Any]:
    """The form's first values: a period as long as the old one, from the day after it."""
    starts = old.ends_on + timedelta(days=1)
    return {"starts_on": starts, "ends_on": starts + (old.ends_on - old.starts_on)}


def _plan(form: NextCampaignForm) -> copying.Plan:
    name = (form.name.data or "").strip()
    slug = (form.slug.data or "").strip() or slugify(name)
    assert form.starts_on.data and form.ends_on.data  # InputRequired
    return copying.Plan(slug, name, form.starts_on.data, form.ends_on.data)


def _show(form: NextCampaignForm, problems: dict[str, Any]) -> None:
    """Put each problem of the plan on its field (the address name's on the slug)."""
    for name, sentence in problems.items():
        getattr(form, name).errors.append(sentence)


def _start(old: Campaign, form: NextCampaignForm) -> ResponseReturnValue:
    """Create the new campaign (and invite last time's people if asked), then show it."""
    now = current_clock().now()
    new = copying.start_next(db.session(), old, _plan(form), current_user, now)
    invited = _invite(old, new, now) if form.returning.data else None
    db.session().commit()
    flash(_started(old, new), "success")
    if invited:
        flash(invited, "success")
    return redirect(url_for("network.overview", campaign=new.slug))


def _started(old: Campaign, new: Campaign) -> str:
    return _(
        "%(name)s is started with the members, pilot groups, questionnaires and settings of"
        " %(previous)s.",
        name=new.name,
        previous=old.name,
    )


def _invite(old: Campaign, new: Campaign, now: datetime) -> str:
    """Invite last time's pilot users to the new campaign; return the sentence that says so."""
    if not returning.may_invite(new, now):
        return _("The new campaign may not send mail now, so nobody was invited to join again.")
    queued = returning.invite_returning(db.session(), old, new, current_user, now)
    return ngettext(
        "%(num)d pilot user of last time is invited to join again.",
        "%(num)d pilot users of last time are invited to join again.",
        queued,
    )
