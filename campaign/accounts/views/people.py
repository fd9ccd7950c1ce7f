"""The lead administrator's page of the campaign's people: every staff account with its role;
another lead administrator invited, the role taken away, an account moved to another member or
role. Each change is shown for confirmation first; campaign/accounts/roles.py makes it."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_user

from campaign import db
from campaign.accounts import invitations, roles
from campaign.accounts.forms import ChangePersonForm, ConfirmedForm, InviteForm
from campaign.accounts.models import Role, User
from campaign.accounts.roles import Refused, Standing
from campaign.accounts.scope import Access, access
from campaign.accounts.views.base import bp
from campaign.accounts.views.representatives import address_is_free, newcomer_of, resend
from campaign.api.tokens import withdraw_on_move
from campaign.labels import choices, label
from campaign.network.members import campaign_or_404
from campaign.network.models import Campaign, Organisation
from campaign.timing import current_clock


@bp.get("/people")
@access(Access.LEAD_ADMIN)
def people() -> ResponseReturnValue:
    campaign = campaign_or_404()
    return render_template(
        "accounts/people.html",
        campaign=campaign,
        people=roles.staff_of(db.session(), campaign),
        standing=lambda user: roles.standing(user, campaign),
        changeable=lambda user: roles.is_changeable(user, campaign),
        Standing=Standing,
    )


def person(campaign: Campaign, user_id: int) -> User:
    """Return the campaign's staff account with this id, or answer 404."""
    return db.first_or_404(roles.staff(campaign).where(User.id == user_id))


def after_change(campaign: Campaign, changed: list[User]) -> ResponseReturnValue:
    """Commit; keep this session if its own account changed; go where the user may now go."""
    db.session().commit()
    if current_user.id in {user.id for user in changed}:  # this session goes on, new rights
        login_user(current_user._get_current_object())
    if roles.standing(current_user, campaign) is Standing.REPRESENTATIVE:
        return redirect(url_for("network.organisation", org=current_user.organisation.slug))
    return redirect(url_for("accounts.people"))


def confirm_page(form: ConfirmedForm, title: str, consequences: list[str]) -> ResponseReturnValue:
    """Show what a change will do, with a button that posts it again, confirmed."""
    return render_template(
        "accounts/confirm_change.html", form=form, title=title, consequences=consequences
    )


@bp.route("/people/invite", methods=["GET", "POST"])
@access(Access.LEAD_ADMIN)
def invite_lead_admin() -> ResponseReturnValue:
    campaign = campaign_or_404()
    form = InviteForm()
    if form.validate_on_submit() and address_is_free(form):
        return _invite(campaign, newcomer_of(form))
    return render_template("accounts/invite_lead_admin.html", form=form, campaign=campaign)


def _invite(campaign: Campaign, newcomer: invitations.Newcomer) -> ResponseReturnValue:
    """Create the lead administrator's account, send the link, and go back to the people."""
    now = current_clock().now()
    user = roles.invite_lead_admin(db.session(), campaign, newcomer, current_user, now)
    invitations.send_link(db.session(), user, "invitation", now)
    db.session().commit()
    flash(_("An invitation is on its way to %(email)s.", email=newcomer.email), "success")
    return redirect(url_for("accounts.people"))


@bp.post("/people/<int:user_id>/resend")
@access(Access.LEAD_ADMIN)
def resend_to_person(user_id: int) -> ResponseReturnValue:
    user = person(campaign_or_404(), user_id)
    if user.password_hash:
        flash(_("%(email)s has chosen a password already.", email=user.email), "error")
    else:
        resend(user)
    return redirect(url_for("accounts.people"))


@bp.post("/people/<int:user_id>/remove")
@access(Access.LEAD_ADMIN)
def remove_lead_admin(user_id: int) -> ResponseReturnValue:
    campaign = campaign_or_404()
    user, form = person(campaign, user_id), ConfirmedForm()
    try:
        roles.check_removal(db.session(), campaign, user)
    except Refused as refusal:
        flash(str(roles.REFUSALS[refusal.reason]), "error")
        return redirect(url_for("accounts.people"))
    if not (form.validate_on_submit() and form.is_confirmed()):
        return confirm_page(form, _("Remove a lead administrator"), _removal_text(campaign, user))
    roles.remove_lead_admin(db.session(), campaign, user, current_user, current_clock().now())
    flash(_("%(name)s is no longer a lead administrator.", name=user.name), "success")
    return after_change(campaign, [user])


def _removal_text(campaign: Campaign, user: User) -> list[str]:
    """Say what taking the lead role from the account does."""
    lead = campaign.lead_organisation
    texts = [
        _(
            "%(name)s will no longer be a lead administrator of %(campaign)s, but a"
            " representative of %(organisation)s.",
            name=user.name,
            campaign=campaign.name,
            organisation=lead.name,
        ),
        _sessions_end_text(user),
        *_other_campaigns_text(campaign, lead),
    ]
    if user.id == current_user.id:
        texts.append(_("This is your own account: afterwards you see the page of your member."))
    return texts


def _sessions_end_text(user: User) -> str:
    """Say that the account's sessions end."""
    return _(
        "%(name)s is signed out everywhere at once and signs in again with the new rights.",
        name=user.name,
    )


def _other_campaigns_text(campaign: Campaign, organisation: Organisation) -> list[str]:
    """Say which other campaigns the organisation leads, where the role counts too."""
    others = roles.other_campaigns_led(db.session(), organisation.id, campaign)
    if not others:
        return []
    return [
        _(
            "The role counts in every campaign %(organisation)s leads: also in %(campaigns)s.",
            organisation=organisation.name,
            campaigns=", ".join(others),
        )
    ]


@bp.route("/people/<int:user_id>/change", methods=["GET", "POST"])
@access(Access.LEAD_ADMIN)
def change_person(user_id: int) -> ResponseReturnValue:
    campaign = campaign_or_404()
    user = person(campaign, user_id)
    form = _change_form(campaign, user)
    if form.validate_on_submit():
        try:
            return _change_or_confirm(campaign, user, form)
        except Refused as refusal:
            form.organisation.errors = [str(roles.REFUSALS[refusal.reason])]
    return render_template("accounts/change_person.html", form=form, user=user, campaign=campaign)


def _change_form(campaign: Campaign, user: User) -> ChangePersonForm:
    """Return the form with the campaign's members and the two roles to choose from."""
    form = ChangePersonForm(
        data={"organisation": user.organisation.slug if user.organisation else "",
              "role": user.role.value}
    )  # fmt: skip
    form.organisation.choices = [
        (organisation.slug, organisation.name)
        for organisation in roles.members(db.session(), campaign)
    ]
    form.role.choices = choices([Role.MEMBER_REP, Role.LEAD_ADMIN])
    return form


def _change_or_confirm(
    campaign: Campaign, user: User, form: ChangePersonForm
) -> ResponseReturnValue:
    """Show what the change does; once confirmed, make it."""
    organisation = roles.member_named(db.session(), campaign, form.organisation.data or "")
    role = Role(form.role.data)
    roles.check_change(db.session(), campaign, user, organisation, role)
    if not form.is_confirmed():
        texts = _change_text(campaign, user, organisation, role)
        return confirm_page(form, _("Change %(name)s", name=user.name), texts)
    now = current_clock().now()
    changed = roles.change(
        db.session(), campaign, user, organisation, role, actor=current_user, now=now
    )
    if "organisation" in changed:
        withdraw_on_move(db.session(), user, actor=current_user, now=now, how=MOVED)
    flash(_changed_text(user, changed), "success" if changed else "info")
    return after_change(campaign, [user] if changed else [])


MOVED = "moved to another member"  # how the audit says a token was revoked


def _change_text(
    campaign: Campaign, user: User, organisation: Organisation, role: Role
) -> list[str]:
    """Say what the account is now, what it becomes, and that its sessions end."""
    texts = [
        _("Now: %(role)s, %(organisation)s.", role=label(roles.standing(user, campaign)),
          organisation=user.organisation.name if user.organisation else "–"),
        _("After the change: %(role)s, %(organisation)s.", role=label(role),
          organisation=organisation.name),
        _sessions_end_text(user),
    ]  # fmt: skip
    if organisation.id != user.organisation_id:
        texts.append(_("Their API tokens stop working: they were made for the member they leave."))
    if role is not user.role:
        texts += _other_campaigns_text(campaign, campaign.lead_organisation)
    return texts


def _changed_text(user: User, changed: list[str]) -> str:
    """Say whether the account changed."""
    if not changed:
        return _("Nothing changed for %(name)s.", name=user.name)
    organisation = user.organisation.name if user.organisation else "–"
    return _(
        "%(name)s is now %(role)s, %(organisation)s.",
        name=user.name, role=label(user.role).lower(), organisation=organisation,
    )  # fmt: skip
