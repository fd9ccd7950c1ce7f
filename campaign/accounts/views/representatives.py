"""The lead administrator's pages for a member's representatives: invite, invite again, let in
or keep out."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from campaign import db
from campaign.accounts import invitations, staff
from campaign.accounts.forms import InviteForm
from campaign.accounts.models import Role, User
from campaign.accounts.scope import Access, access
from campaign.accounts.views.base import bp
from campaign.network.members import campaign_or_404
from campaign.network.models import Organisation
from campaign.timing import current_clock


@bp.route("/organisations/<org>/representatives/new", methods=["GET", "POST"])
@access(Access.LEAD_ADMIN)
def invite_representative() -> ResponseReturnValue:
    organisation = g.organisation
    form = InviteForm()
    if form.validate_on_submit() and address_is_free(form):
        return _invite(form, organisation)
    return render_template("accounts/invite.html", form=form, organisation=organisation)


def address_is_free(form: InviteForm) -> bool:
    """Return whether the form's address has no account yet (if it has, say so on the form)."""
    if db.session().scalar(select(User.id).where(User.email == (form.email.data or ""))):
        form.email.errors.append(_("This address already has an account."))
        return False
    return True


def newcomer_of(form: InviteForm) -> invitations.Newcomer:
    """Return the person a valid invitation form names, the name's spaces tidied."""
    return invitations.Newcomer(
        name=" ".join((form.name.data or "").split()),
        email=form.email.data or "",
        language=form.language.data or "sv",
    )


def _invite(form: InviteForm, organisation: Organisation) -> ResponseReturnValue:
    """Create the representative's account, send the link, and go back to the member."""
    newcomer = newcomer_of(form)
    now = current_clock().now()
    campaign_id = campaign_or_404().id
    user = invitations.invite(
        db.session(), organisation, newcomer, actor=current_user, now=now, campaign_id=campaign_id
    )
    invitations.send_link(db.session(), user, "invitation", now, campaign_id)
    db.session().commit()
    flash(_("An invitation is on its way to %(email)s.", email=newcomer.email), "success")
    return redirect(url_for("network.organisation", org=organisation.slug))


def _representative(user_id: int) -> User:
    """Return the member's representative with this id."""
    return db.first_or_404(
        select(User).where(
            User.id == user_id,
            User.organisation_id == g.organisation.id,
            User.role == Role.MEMBER_REP,
        )
    )


@bp.post("/organisations/<org>/representatives/<int:user_id>/resend")
@access(Access.LEAD_ADMIN)
def resend_invitation(user_id: int) -> ResponseReturnValue:
    user = _representative(user_id)
    if user.password_hash:
        flash(_("%(email)s has chosen a password already.", email=user.email), "error")
    else:
        resend(user)
    return redirect(url_for("network.organisation", org=g.organisation.slug))


def resend(user: User) -> None:
    """Queue a new invitation link to the representative, and say so."""
    now = current_clock().now()
    staff.resend_invitation(db.session(), user, current_user, now, campaign_or_404().id)
    db.session().commit()
    flash(_("A new invitation is on its way to %(email)s.", email=user.email), "success")


@bp.post("/organisations/<org>/representatives/<int:user_id>/access")
@access(Access.LEAD_ADMIN)
def representative_access(user_id: int) -> ResponseReturnValue:
    user = _representative(user_id)
    enabled = request.form.get("action") == "enable"
    staff.set_access(db.session(), user, enabled, current_user, campaign_or_404().id)
    db.session().commit()
    flash(_access_text(user), "success")
    return redirect(url_for("network.organisation", org=g.organisation.slug))


def _access_text(user: User) -> str:
    """Say whether the representative can sign in now."""
    if user.is_enabled:
        return _("%(email)s can sign in again.", email=user.email)
    return _("%(email)s can no longer sign in.", email=user.email)
