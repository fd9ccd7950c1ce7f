"""A member's known e-mail domains, kept by its representative or the lead administrator on
the member's page: self-enrolment warns when an address is at none of them."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from campaign import db
from campaign.accounts.scope import Access, access
from campaign.enrolment import domains
from campaign.enrolment.forms import EmailDomainsForm
from campaign.enrolment.views.base import bp


@bp.route("/organisations/<org>/email-domains", methods=["GET", "POST"])
@access(Access.ORGANISATION)
def email_domains() -> ResponseReturnValue:
    organisation = g.organisation
    form = EmailDomainsForm()
    if request.method == "GET":
        form.domains.data = "\n".join(domains.of(organisation))
    if form.validate_on_submit():
        given = domains.parse(form.domains.data or "")
        domains.change(db.session(), organisation, given, current_user, g.campaign.id)
        db.session().commit()
        flash(
            _("The work e-mail domains of %(name)s are saved.", name=organisation.name), "success"
        )
        return redirect(url_for("network.organisation", org=organisation.slug))
    return render_template("enrolment/email_domains.html", form=form, organisation=organisation)
