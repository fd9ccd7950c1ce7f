"""Each member as sender in the web UI: the settings page of a member, with a sample of how its
participants see the sender, and the members' logos as the mail links to them."""

from __future__ import annotations

from email.utils import parseaddr

from flask import Response, abort, current_app, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from campaign import db
from campaign.accounts.scope import Access, access
from campaign.enrolment.mail import sender_of
from campaign.network import members, senders
from campaign.network.forms import SenderForm
from campaign.network.models import MemberSender, Organisation
from campaign.network.views.base import bp
from campaign.outbox.compose import envelope_address
from campaign.timing import current_clock

A_YEAR = 365 * 24 * 3600


@bp.route("/organisations/<org>/sender", methods=["GET", "POST"])
@access(Access.ORGANISATION)
def sender() -> ResponseReturnValue:
    """How the member's participants see who their mail comes from: the form and a sample."""
    campaign = members.campaign_or_404()
    organisation: Organisation = g.organisation
    membership = members.membership_of(db.session(), campaign, organisation)
    form = SenderForm(obj=membership.sender)
    if form.validate_on_submit():
        now = current_clock().now()
        senders.change_sender(db.session(), membership, form.changes(), current_user, now)
        db.session().commit()
        flash(_("How %(name)s sends e-mail is saved.", name=organisation.name), "success")
        return redirect(url_for("network.sender", org=organisation.slug))
    if form.is_submitted() and not form.errors.get("csrf_token"):
        flash(_("Nothing was saved. Please correct the marked fields."), "error")
    shown = sender_of(membership, organisation)
    configured = current_app.config["CAMPAIGN_MAIL_FROM"]
    return render_template(
        "network/sender.html",
        form=form,
        organisation=organisation,
        campaign=campaign,
        sample=shown,
        from_name=shown.name or parseaddr(configured)[0],
        from_address=envelope_address(configured),
        logo_src=senders.logo_path(membership.id, membership.sender) if membership.sender else None,
    )


@bp.get("/logos/<int:membership_id>/<logo_file>")
@access(Access.PUBLIC)
def logo(membership_id: int, logo_file: str) -> Response:
    """A member's logo, as its mail shows it (`<digest>.<png|jpg>`): cached for good under the
    address of its digest (a new logo has a new one); an older address shows the logo of now,
    cached for an hour."""
    row = db.session().get(MemberSender, membership_id)
    path = senders.logo_path(membership_id, row) if row is not None else None
    digest, _dot, extension = logo_file.partition(".")
    if row is None or path is None or not path.endswith(f".{extension}") or len(digest) < 16:
        abort(404)
    response = Response(row.logo, mimetype=row.logo_type)
    current = path.endswith(f"/{logo_file}")
    response.cache_control.public = True
    response.cache_control.max_age = A_YEAR if current else 3600
    response.cache_control.immutable = current
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response
