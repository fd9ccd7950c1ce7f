"""Handing the campaign's lead to another member: choose its person, read what happens, confirm."""

from __future__ import annotations

from flask import flash, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from campaign import db
from campaign.accounts import roles
from campaign.accounts.forms import HandOverForm
from campaign.accounts.models import User
from campaign.accounts.roles import Refused
from campaign.accounts.scope import Access, access
from campaign.accounts.views.base import bp
from campaign.accounts.views.people import after_change, confirm_page, person
from campaign.network.members import campaign_or_404
from campaign.network.models import Campaign, Organisation
from campaign.timing import current_clock


@bp.route("/people/hand-over", methods=["GET", "POST"])
@access(Access.LEAD_ADMIN)
def hand_over() -> ResponseReturnValue:
    campaign = campaign_or_404()
    form = _form(campaign)
    if form.validate_on_submit():
        successor = person(campaign, _number(form.successor.data))
        try:
            return _hand_over_or_confirm(campaign, successor, form)
        except Refused as refusal:
            form.successor.errors = [str(roles.REFUSALS[refusal.reason])]
    return render_template(
        "accounts/hand_over.html", form=form, campaign=campaign, members=_other_members(campaign)
    )


def _number(text: str | None) -> int:
    """Return the id a form field holds; 0 (no account's) when it holds none."""
    return int(text) if text and text.isdigit() and len(text) < 10 else 0


def _form(campaign: Campaign) -> HandOverForm:
    """Return the form listing who the lead can pass to."""
    form = HandOverForm()
    form.successor.choices = [
        (str(user.id), f"{user.name}, {user.organisation.name if user.organisation else ''}")
        for user in roles.successors(db.session(), campaign)
    ]
    return form


def _other_members(campaign: Campaign) -> list[Organisation]:
    """Return the members but the lead: where to invite a successor first."""
    return [
        member
        for member in roles.members(db.session(), campaign)
        if member.id != campaign.lead_organisation_id
    ]


def _hand_over_or_confirm(
    campaign: Campaign, successor: User, form: HandOverForm
) -> ResponseReturnValue:
    """Show exactly what handing over does; once confirmed, do it."""
    roles.check_successor(db.session(), campaign, successor)
    if not form.is_confirmed():
        return confirm_page(form, _("Hand over the lead"), _consequences(campaign, successor))
    now = current_clock().now()
    former = campaign.lead_organisation.name
    changed = roles.hand_over(db.session(), campaign, successor, current_user, now)
    flash(
        _("%(organisation)s leads %(campaign)s now; %(former)s is a member like the others.",
          organisation=campaign.lead_organisation.name, campaign=campaign.name, former=former),
        "success",
    )  # fmt: skip
    return after_change(campaign, changed)


def _consequences(campaign: Campaign, successor: User) -> list[str]:
    """Say exactly what handing the lead to the successor does."""
    old = campaign.lead_organisation.name
    new = successor.organisation.name if successor.organisation else ""
    former = roles.lead_admins(db.session(), campaign)
    texts = [
        _("The lead organisation of %(campaign)s becomes %(new)s instead of %(old)s.",
          campaign=campaign.name, new=new, old=old),
        _("%(name)s becomes lead administrator.", name=successor.name),
        *_former_text(campaign, former),
        _("Everybody whose role changes is signed out everywhere at once; you stay signed in."),
        _("Only a lead administrator of %(new)s can hand the lead back.", new=new),
    ]  # fmt: skip
    if current_user.id in {user.id for user in former}:
        texts.append(_("Afterwards you see the page of %(old)s.", old=old))
    return texts


def _former_text(campaign: Campaign, former: list[User]) -> list[str]:
    """Say what becomes of the lead administrators of the lead organisation."""
    old = campaign.lead_organisation
    names = ", ".join(user.name for user in former) or "–"
    texts = [
        _("The lead administrators of %(old)s become its representatives in this campaign:"
          " %(names)s.", old=old.name, names=names)
    ]  # fmt: skip
    others = roles.other_campaigns_led(db.session(), old.id, campaign)
    if others:
        texts.append(
            _("%(old)s still leads %(campaigns)s: there they stay lead administrators.",
              old=old.name, campaigns=", ".join(others))
        )  # fmt: skip
    return texts
