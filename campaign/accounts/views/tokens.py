"""Personal API tokens in the web UI: one's own (made, listed, revoked on /account/tokens) and,
for the lead administrator, those of the campaign's people whose accounts they may change.

A new token is shown once, in the answer to the form that made it: never in a URL, a flash
message (kept in the session cookie), the audit, a log or a mail.
"""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from campaign import db
from campaign.accounts import roles
from campaign.accounts.forms import ConfirmedForm, TokenForm
from campaign.accounts.models import User
from campaign.accounts.scope import Access, access
from campaign.accounts.views.base import bp
from campaign.accounts.views.people import person
from campaign.api.scopes import LEVEL_NAMES, RESOURCE_NAMES
from campaign.api.tokens import RESOURCES, ApiToken, Issued, create, tokens_of, withdraw
from campaign.network.members import campaign_or_404
from campaign.timing import current_clock


@bp.route("/account/tokens", methods=["GET", "POST"])
@access(Access.SIGNED_IN)
def tokens() -> ResponseReturnValue:
    form = TokenForm()
    issued = _made(form) if form.validate_on_submit() else None
    page = render_template(
        "accounts/tokens.html",
        form=form,
        issued=issued,
        tokens=tokens_of(db.session(), current_user),
        now=current_clock().now(),
        revoke_url=lambda token: url_for("accounts.revoke_token", own_token_id=token.id),
        resources=RESOURCES,
        resource_names=RESOURCE_NAMES,
        level_names=LEVEL_NAMES,
    )
    response = make_response(page)
    response.headers["Cache-Control"] = "no-store"  # the new token must not stay in a cache
    return response


def _made(form: TokenForm) -> Issued:
    """Make the token the form asks for; the page shows it this once."""
    issued = create(
        db.session(), current_user, actor=current_user, name=form.name.data or "",
        scopes=list(form.scopes.data or []), days=int(form.days.data or 0),
        now=current_clock().now(),
    )  # fmt: skip
    db.session().commit()
    form.process(formdata=None)  # an empty form for the next token
    return issued


@bp.post("/account/tokens/<int:own_token_id>/revoke")
@access(Access.SIGNED_IN)
def revoke_token(own_token_id: int) -> ResponseReturnValue:
    token = _token_or_404(current_user, own_token_id)
    return _revoke(token, url_for("accounts.tokens"))


@bp.get("/people/<int:user_id>/tokens")
@access(Access.LEAD_ADMIN)
def person_tokens(user_id: int) -> ResponseReturnValue:
    user = _managed(user_id)
    return render_template(
        "accounts/person_tokens.html",
        user=user,
        tokens=tokens_of(db.session(), user),
        now=current_clock().now(),
        revoke_url=lambda token: url_for(
            "accounts.revoke_person_token", user_id=user.id, api_token_id=token.id
        ),
    )


@bp.post("/people/<int:user_id>/tokens/<int:api_token_id>/revoke")
@access(Access.LEAD_ADMIN)
def revoke_person_token(user_id: int, api_token_id: int) -> ResponseReturnValue:
    user = _managed(user_id)
    token = _token_or_404(user, api_token_id)
    back = url_for("accounts.person_tokens", user_id=user.id)
    return _revoke(token, back, campaign_id=campaign_or_404().id)


def _managed(user_id: int) -> User:
    """Return the campaign's staff account with this id whose holder the lead administrator
    may change (as on the people page), or answer 404."""
    campaign = campaign_or_404()
    user = person(campaign, user_id)
    if not roles.is_changeable(user, campaign):
        abort(404)  # an operator, or a lead administrator of another campaign: changed there
    return user


def _token_or_404(user: User, token_id: int) -> ApiToken:
    """Return the account's token with this id, or answer 404 (another's looks the same)."""
    return db.first_or_404(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id)
    )


def _revoke(token: ApiToken, back: str, campaign_id: int | None = None) -> ResponseReturnValue:
    """Show what revoking the token does; once confirmed, revoke it and go `back`."""
    form = ConfirmedForm()
    if not (form.validate_on_submit() and form.is_confirmed()):
        return render_template("accounts/revoke_token.html", form=form, token=token, back=back)
    if token.revoked_at is None:
        now = current_clock().now()
        withdraw(db.session(), token, actor=current_user, now=now, campaign_id=campaign_id)
        db.session().commit()
    flash(_("The token %(name)s is revoked: it no longer works.", name=token.name), "success")
    return redirect(back)
