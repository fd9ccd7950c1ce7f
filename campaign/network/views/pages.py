"""The lead administrator's overview of the network, its settings and audit log, and each
member's own page."""

from __future__ import annotations

from typing import Any

from flask import (
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import format_number, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import Select, select

from campaign import db
from campaign.accounts.models import Role
from campaign.accounts.scope import (
    Access,
    access,
    campaigns_of,
    in_campaign,
    is_lead_admin,
    is_member,
    is_operator,
)
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
from campaign.network.views.base import bp
from campaign.pages import page_of_rows
from campaign.timing import current_clock


@bp.get("/")
@access(Access.PUBLIC)
def home() -> ResponseReturnValue:
    """Send each visitor to sign in, to their campaign (the last used, or the only one), or to
    the list of their campaigns."""
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login"))
    mine = campaigns_of(current_user)
    chosen = [(c, role) for c, role in mine if c.slug == session.get("campaign")] or mine
    return redirect(start_of(*chosen[0]) if len(chosen) == 1 else url_for("network.campaigns"))


def start_of(campaign: Campaign, role: Role) -> str:
    """Return the first page of a campaign for the signed-in user in this role: the network's
    overview for its lead administrator, else their own member's page."""
    if role is Role.LEAD_ADMIN:
        return url_for("network.overview", campaign=campaign.slug)
    organisation = current_user.organisation.slug
    return url_for("network.organisation", campaign=campaign.slug, org=organisation)


@bp.get("/campaigns")
@access(Access.SIGNED_IN)
def campaigns() -> ResponseReturnValue:
    """The campaigns the user has a part in, with their role in each."""
    return render_template(
        "network/campaigns.html",
        rows=[(c, role, start_of(c, role)) for c, role in campaigns_of(current_user)],
        operator=is_operator(current_user),
    )


@bp.get("/network")
@access(Access.LEAD_ADMIN)
def overview() -> ResponseReturnValue:
    campaign = members.campaign_or_404()
    rows = member_rows(db.session(), campaign)
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
        if problem := _slug_problem(slug, form.name.data or ""):
            form.slug.errors.append(problem)
        else:
            return _admit(form, campaign, slug)
    return render_template("network/new_member.html", form=form, campaign=campaign)


def _slug_problem(slug: str, name: str) -> str | None:
    """Say why the organisation cannot join under this address name; None when it can: a new
    one, or one of another campaign whose full name the form gives (it joins as it is)."""
    known = db.session().scalar(select(Organisation).where(Organisation.slug == slug))
    if known is None:
        return None
    if known.name.casefold() != " ".join(name.split()).casefold():
        return _("Another organisation already uses this address name.")
    if is_member(known.id, g.campaign.id):
        return _("%(name)s is a member already.", name=known.name)
    return None


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
        representatives=representatives(db.session(), organisation, campaign),
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
        "The period changed: the next e-mails of %(count)s participant are planned again.",
        "The period changed: the next e-mails of %(count)s participants are planned again.",
        replanned.participants,
        count=format_number(replanned.participants),
    )
    if replanned.cancelled:
        cancelled = format_number(replanned.cancelled)
        text += " " + _("%(n)s unsent e-mails were cancelled.", n=cancelled)
    if replanned.requeued:
        again = _(
            "%(n)s e-mails cancelled at the end were queued again.",
            n=format_number(replanned.requeued),
        )
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


@bp.route("/organisations/<org>/facts", methods=["GET", "POST"])
@access(Access.ORGANISATION)
def edit_facts() -> ResponseReturnValue:
    campaign = members.campaign_or_404()
    organisation: Organisation = g.organisation
    membership = members.membership_of(db.session(), campaign, organisation)
    form = _facts_form(membership)
    if form.validate_on_submit():
        administration.change_facts(
            db.session(), membership, form.facts(), current_user, current_clock().now()
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
    if is_lead_admin():
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
    """Return the campaign's members, by short name: the audit's choices of member."""
    here = select(Membership.organisation_id).where(Membership.campaign_id == g.campaign.id)
    query = select(Organisation).where(Organisation.id.in_(here))
    return list(db.session().scalars(query.order_by(Organisation.short_name)))


def _actions() -> list[str]:
    """Return the kinds of action the campaign's audit has recorded, by name."""
    here = in_campaign(AuditEvent.campaign_id, AuditEvent.organisation_id)
    query = select(AuditEvent.action).where(here).distinct().order_by(AuditEvent.action)
    return list(db.session().scalars(query))


def _audit_events(organisation_slug: str, action: str) -> Select[AuditEvent, Organisation | None]:
    """A query of the campaign's audit events, newest first, of one member and one action if
    chosen."""
    statement = (
        select(AuditEvent, Organisation)
        .outerjoin(Organisation, Organisation.id == AuditEvent.organisation_id)
        .where(in_campaign(AuditEvent.campaign_id, AuditEvent.organisation_id))
    )
    if organisation_slug:
        statement = statement.where(Organisation.slug == organisation_slug)
    if action:
        statement = statement.where(AuditEvent.action == action)
    return statement.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
