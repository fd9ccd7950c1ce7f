"""A campaign's phase on every staff page, and the archive: the lead administrator archives an
ended campaign, after which every change on its staff pages is refused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import NotFound

from campaign import db, labels
from campaign.accounts.scope import Access, access
from campaign.network import members, phases
from campaign.network.models import Campaign
from campaign.network.phases import Phase
from campaign.network.views.base import bp
from campaign.timing import current_clock, day_text


@dataclass(frozen=True)
class Standing:
    """Where a campaign stands, as every staff page shows it: "Running until 31 March 2015"."""

    campaign: Campaign
    phase: Phase
    text: str
    badge: str


def campaign_phase() -> Standing | None:
    """Return where the request's campaign stands (None when there is no campaign)."""
    campaign = _request_campaign()
    if campaign is None:
        return None
    phase = phases.phase_of(campaign, current_clock().now())
    return Standing(campaign, phase, phase_text(campaign, phase), labels.BADGES[phase])


def _request_campaign() -> Campaign | None:
    """Return the campaign of the request, None if there is none."""
    try:
        return members.campaign_or_404()
    except NotFound:
        return None


def phase_text(campaign: Campaign, phase: Phase) -> str:
    """Say the campaign's phase with its date, e.g. "Ended 31 March 2015"."""
    texts = {
        Phase.PREPARING: _("Preparing, starts %(day)s"),
        Phase.RUNNING: _("Running until %(day)s"),
        Phase.ENDED: _("Ended %(day)s"),
        Phase.ARCHIVED: _("Archived, ended %(day)s"),
        Phase.PURGED: _("Ended %(day)s, personal data deleted"),
    }
    day = campaign.starts_on if phase is Phase.PREPARING else campaign.ends_on
    return texts[phase] % {"day": day_text(day)}


# What staff may still do in an archived campaign: their own account, session and API tokens,
# and lifting a sign-in lock or revoking someone's API token (about the accounts, not the
# campaign).
STILL_OPEN = frozenset(
    {
        "accounts.logout", "accounts.account", "accounts.unlock_sign_in", "accounts.tokens",
        "accounts.revoke_token", "accounts.revoke_person_token",
    }
)  # fmt: skip


def refuse_changes_to_an_archive() -> ResponseReturnValue | None:
    """Refuse every change (a request that is not a GET) on a staff page of an archived
    campaign, with a page that says why; reading, exports and the report still work."""
    if request.method in ("GET", "HEAD", "OPTIONS") or not _changes_the_campaign():
        return None
    campaign = _request_campaign()
    if campaign is None:
        return None
    phase = phases.phase_of(campaign, current_clock().now())
    if not phase.is_read_only:
        return None
    return render_template("network/archived.html", campaign=campaign, phase=phase), 409


def _changes_the_campaign() -> bool:
    """Whether the request goes to a staff page of the campaign (not a public link, not one's
    own account)."""
    endpoint = request.endpoint
    if endpoint is None or endpoint in STILL_OPEN or endpoint == "static":
        return False
    view = current_app.view_functions[endpoint]
    return getattr(view, "access", Access.PUBLIC) is not Access.PUBLIC


@bp.route("/network/archive", methods=["GET", "POST"])
@access(Access.LEAD_ADMIN)
def archive() -> ResponseReturnValue:
    """Archive the ended campaign, after a confirmation: from then on it is read-only."""
    campaign = members.campaign_or_404()
    now = current_clock().now()
    if request.method == "POST" and request.form.get("confirm") == "yes":
        return _archived(campaign, now)
    phase = phases.phase_of(campaign, now)
    return render_template("network/archive.html", campaign=campaign, phase=phase)


def _archived(campaign: Campaign, now: datetime) -> ResponseReturnValue:
    """Archive the campaign, or say why it cannot be yet."""
    try:
        phases.archive(db.session(), campaign, current_user, now)
    except phases.NotEnded:
        flash(_("Only a campaign that has ended can be archived."), "error")
        return redirect(url_for("network.archive"))
    db.session().commit()
    flash(_("The campaign is archived: it can be read but no longer changed."), "success")
    return redirect(url_for("report.dashboard"))
