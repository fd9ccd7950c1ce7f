"""The lead administrator's overview of the network and each member's own page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import Select, select
from werkzeug.exceptions import NotFound

from campaign import db, labels
from campaign.accounts.models import Role
from campaign.accounts.scope import Access, access
from campaign.audit import AuditEvent
from campaign.drip.period import Replanned, replan
from campaign.enrolment.overview import MemberRow, member_rows, representatives
from campaign.network import administration, members, phases, retention
from campaign.network.forms import (
    CampaignForm,
    LeadMembershipForm,
    MemberFactsForm,
    NewMemberForm,
)
from campaign.network.models import (
    Campaign,
    Membership,
    MembershipStatus,
    Organisation,
    OrganisationKind,
)
from campaign.network.phases import Phase
from campaign.pages import page_of_rows
from campaign.timing import current_clock, day_text

bp = Blueprint("network", __name__)


def init_app(app: Flask) -> None:
    """Register the views, the campaign's phase on every staff page, and the archive's guard."""
    app.register_blueprint(bp)
    app.jinja_env.globals["campaign_phase"] = campaign_phase
    app.before_request(refuse_changes_to_an_archive)


@bp.get("/")
@access(Access.PUBLIC)
def home() -> ResponseReturnValue:
    """Send each visitor to their start: sign-in, the network's overview, or their member."""
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login"))
    if current_user.role is Role.LEAD_ADMIN:
        return redirect(url_for("network.overview"))
    return redirect(url_for("network.organisation", org=current_user.organisation.slug))


@bp.get("/network")
@access(Access.LEAD_ADMIN)
def overview() -> ResponseReturnValue:
    campaign = members.current_campaign(db.session())
    rows = member_rows(db.session(), campaign) if campaign else []
    return render_template(
        "network/overview.html",
        campaign=campaign,
        rows=rows,
        kinds=members.KIND_ORDER,
        signed=sum(r.membership.status is MembershipStatus.SIGNED for r in rows),
    )


@bp.route("/network/members/new", methods=["GET", "POST"])
@access(Access.LEAD_ADMIN)
def new_member() -> ResponseReturnValue:
    campaign = members.campaign_or_404()
    form = NewMemberForm()
    if form.validate_on_submit():
        slug = form.slug.data or members.slugify(form.short_name.data or "")
        if db.session().scalar(select(Organisation.id).where(Organisation.slug == slug)):
            form.slug.errors.append(_("Another organisation already uses this address name."))
        else:
            return _admit(form, campaign, slug)
    return render_template("network/new_member.html", form=form, campaign=campaign)


def _admit(form: NewMemberForm, campaign: Campaign, slug: str) -> ResponseReturnValue:
    """Make the organisation of a valid form a member, and show its page."""
    membership = administration.admit(
        db.session(),
        campaign,
        current_user,
        name=form.name.data or "",
        short_name=form.short_name.data or "",
        slug=slug,
        kind=OrganisationKind(form.kind.data),
        status=MembershipStatus(form.status.data),
        meeting_software=form.meeting_software.data or "",
        software_comment=form.software_comment.data or "",
        now=current_clock().now(),
    )
    db.session().commit()
    flash(_("%(name)s is now a member.", name=membership.organisation.name), "success")
    return redirect(url_for("network.organisation", org=slug))


@bp.route("/network/settings", methods=["GET", "POST"])
@access(Access.LEAD_ADMIN)
def settings() -> ResponseReturnValue:
    campaign = members.campaign_or_404()
    form = CampaignForm(obj=campaign)
    if form.validate_on_submit():
        return _settings_saved(campaign, form)
    if form.is_submitted():
        flash(_("Nothing was saved. Please correct the marked fields."), "error")
    phase = phases.phase_of(campaign, current_clock().now())
    return render_template(
        "network/settings.html",
        form=form,
        campaign=campaign,
        phase=phase,
        purge=retention.status(campaign),
    )


@bp.get("/organisations/<org>")
@access(Access.ORGANISATION)
def organisation() -> ResponseReturnValue:
    campaign = members.campaign_or_404()
    organisation: Organisation = g.organisation
    return render_template(
        "network/organisation.html",
        campaign=campaign,
        row=_member_row(campaign, organisation),
        representatives=representatives(db.session(), organisation),
    )


def _settings_saved(campaign: Campaign, form: CampaignForm) -> ResponseReturnValue:
    """Store the campaign's settings from a valid form, and go back to the overview."""
    now = current_clock().now()
    changed = administration.change_campaign(
        db.session(), campaign, _settings(form), current_user, now
    )
    period_moved = set(changed) & set(administration.PERIOD)
    replanned = replan(db.session(), campaign, now) if period_moved else None
    db.session().commit()
    flash(_("The campaign's settings are saved."), "success")
    if replanned is not None:
        flash(_replanned_text(replanned), "success")
    return redirect(url_for("network.overview"))


def _replanned_text(replanned: Replanned) -> str:
    """Say what the new period changed: whose mail is planned again, what was cancelled or
    queued again."""
    text = ngettext(
        "The period changed: the next e-mails of %(num)d participant are planned again.",
        "The period changed: the next e-mails of %(num)d participants are planned again.",
        replanned.participants,
    )
    if replanned.cancelled:
        text += " " + _("%(n)d unsent e-mails were cancelled.", n=replanned.cancelled)
    if replanned.requeued:
        again = _("%(n)d e-mails cancelled at the end were queued again.", n=replanned.requeued)
        text += " " + again
    return text


def _settings(form: CampaignForm) -> dict[str, Any]:
    """Return the campaign's settings from a valid form, the name and zone trimmed."""
    changes = _fields(form)
    changes["name"] = changes["name"].strip()
    changes["timezone"] = changes["timezone"].strip()
    return changes


def _member_row(campaign: Campaign, organisation: Organisation) -> MemberRow:
    """Return the organisation's row of counts in the campaign; a 404 if it is no member."""
    rows = member_rows(db.session(), campaign, organisation.id)
    if not rows:
        abort(404)
    return rows[0]


def _fields(form: FlaskForm) -> dict[str, Any]:
    """Return the values of a valid form by field name."""
    return {name: field.data for name, field in form._fields.items() if name != "csrf_token"}


def _facts(form: MemberFactsForm) -> dict[str, Any]:
    """Return a member's facts from a valid form, the texts trimmed, the address lower-case."""
    changes = _fields(form)
    if "status" in changes:
        changes["status"] = MembershipStatus(changes["status"])
    texts = ("meeting_software", "software_comment", "contact_name", "contact_title", "guide_url")
    for name in texts:
        changes[name] = (changes[name] or "").strip()
    changes["contact_email"] = (changes["contact_email"] or "").strip().lower()
    return changes


@bp.route("/organisations/<org>/facts", methods=["GET", "POST"])
@access(Access.ORGANISATION)
def edit_facts() -> ResponseReturnValue:
    campaign = members.campaign_or_404()
    organisation: Organisation = g.organisation
    membership = members.membership_of(db.session(), campaign, organisation)
    form = _facts_form(membership)
    if form.validate_on_submit():
        administration.change_facts(
            db.session(), membership, _facts(form), current_user, current_clock().now()
        )
        db.session().commit()
        flash(_("The facts of %(name)s are saved.", name=organisation.name), "success")
        return redirect(url_for("network.organisation", org=organisation.slug))
    if form.is_submitted() and not form.errors.get("csrf_token"):
        flash(_("Nothing was saved. Please correct the marked fields."), "error")
    return render_template(
        "network/edit_facts.html", form=form, organisation=organisation, campaign=campaign
    )


def _facts_form(membership: Membership) -> MemberFactsForm:
    """Return the form of a member's facts: with its status for the lead administrator."""
    if current_user.role is Role.LEAD_ADMIN:
        return LeadMembershipForm(obj=membership)
    return MemberFactsForm(obj=membership)


AUDIT_PAGE = 100


@bp.get("/network/audit")
@access(Access.LEAD_ADMIN)
def audit() -> ResponseReturnValue:
    """Who did what, when: the staff's actions, newest first, by member and kind of action."""
    chosen_org = request.args.get("org", "")
    chosen_action = request.args.get("action", "")
    statement = _audit_events(chosen_org, chosen_action)
    return render_template(
        "network/audit.html",
        page=page_of_rows(db.session(), statement, request.args.get("page"), AUDIT_PAGE),
        chosen_org=chosen_org,
        chosen_action=chosen_action,
        organisations=_organisations(),
        actions=_actions(),
    )


def _organisations() -> list[Organisation]:
    """Return every organisation, by short name: the audit's choices of member."""
    return list(db.session().scalars(select(Organisation).order_by(Organisation.short_name)))


def _actions() -> list[str]:
    """Return the kinds of action the audit has recorded, by name."""
    query = select(AuditEvent.action).distinct().order_by(AuditEvent.action)
    return list(db.session().scalars(query))


def _audit_events(organisation_slug: str, action: str) -> Select[AuditEvent, Organisation | None]:
    """A query of the audit events, newest first, of one member and one action if chosen."""
    statement = select(AuditEvent, Organisation).outerjoin(
        Organisation, Organisation.id == AuditEvent.organisation_id
    )
    if organisation_slug:
        statement = statement.where(Organisation.slug == organisation_slug)
    if action:
        statement = statement.where(AuditEvent.action == action)
    return statement.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())


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
    }
    day = campaign.starts_on if phase is Phase.PREPARING else campaign.ends_on
    return texts[phase] % {"day": day_text(day)}


# What staff may still do in an archived campaign: their own account and session, and lifting a
# sign-in lock (which is about the accounts, not the campaign).
STILL_OPEN = frozenset({"accounts.logout", "accounts.account", "accounts.unlock_sign_in"})


def refuse_changes_to_an_archive() -> ResponseReturnValue | None:
    """Refuse every change (a request that is not a GET) on a staff page of an archived
    campaign, with a page that says why; reading, exports and the report still work."""
    if request.method in ("GET", "HEAD", "OPTIONS") or not _changes_the_campaign():
        return None
    campaign = _request_campaign()
    if campaign is None or campaign.archived_at is None:
        return None
    return render_template("network/archived.html", campaign=campaign), 409


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
