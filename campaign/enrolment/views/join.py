"""Self-enrolment, public pages: a pilot group's link leads to the form with the consent text;
the mail's confirmation link leads to a button, and only pressing it enrols. An address at none
of the member's known work domains is warned about on that last step, never refused."""

from __future__ import annotations

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _

from campaign import db
from campaign.accounts.scope import Access, access
from campaign.enrolment import domains, joining, people
from campaign.enrolment.forms import JoinForm
from campaign.enrolment.models import JoinRequest, PilotGroup
from campaign.enrolment.views.base import bp
from campaign.network.models import Campaign
from campaign.security import TokenError
from campaign.timing import current_clock


def _link_problem(error: Exception, *, confirming: bool = False) -> ResponseReturnValue:
    """Render the page of a link that does not work, saying why and what to do."""
    text, hint, status = _link_trouble(error, confirming)
    return render_template("enrolment/join_closed.html", text=text, hint=hint), status


def _link_trouble(error: Exception, confirming: bool) -> tuple[str, str | None, int]:
    """Return what is wrong with a link, the hint (None: the page's own) and the status code."""
    if isinstance(error, TokenError) and error.expired:
        return _("This link has expired."), _ask_again() if confirming else None, 400
    if isinstance(error, joining.CampaignOver):
        return _("The campaign has ended: nobody can join it any more."), None, 410
    if isinstance(error, joining.LinkClosed):
        return _("This enrolment link is closed. Ask the person who gave it to you."), None, 410
    if isinstance(error, joining.LinkGone):
        # The same page whether the request was erased, purged or older than an erasure:
        # whoever holds the link learns nothing about the address.
        return _("This confirmation link no longer works."), _ask_again(), 410
    return _("This link is not valid."), None, 400


def _ask_again() -> str:
    """The hint for a confirmation link that cannot be used: ask to join once more."""
    return _(
        "Open the pilot group's link again and fill in the form once more: you get a new"
        " confirmation e-mail."
    )


@bp.route("/join/<token>", methods=["GET", "POST"])
@access(Access.PUBLIC)
def join(token: str) -> ResponseReturnValue:
    try:
        group = joining.group_for(db.session(), token, current_clock().now())
    except (TokenError, joining.LinkClosed) as error:
        return _link_problem(error)
    shown = str(get_locale() or "sv")
    form = _join_form(shown)
    if not form.validate_on_submit():
        return _join_page(form, group, shown)
    _ask_for_confirmation(form, group, shown)
    db.session().commit()
    # The same answer whether or not the address is known: the page reveals nothing.
    return render_template("enrolment/join_sent.html", group=group, email=form.email.data)


def _join_form(shown: str) -> JoinForm:
    """Return the form; on GET its language is the one the page is shown in."""
    form = JoinForm()
    if request.method == "GET":
        form.language.data = shown
    return form


def _address_hint(form: JoinForm, group: PilotGroup) -> None:
    """Name the member's work domains beside the address, when it has listed them."""
    known = domains.of(group.organisation)
    if known:
        form.email.description = _(
            "The address you use at work; at %(organisation)s it ends in %(domains)s.",
            organisation=group.organisation.name,
            domains=", ".join(known),
        )


def _join_page(form: JoinForm, group: PilotGroup, shown: str) -> ResponseReturnValue:
    """Render the form with the consent text in the language the page is shown in."""
    campaign = db.session().get(Campaign, group.campaign_id)
    assert campaign is not None
    consent = people.self_enrolment_consent(shown, group.organisation, group, campaign)
    _address_hint(form, group)
    return render_template(
        "enrolment/join.html", group=group, campaign=campaign, form=form, consent=consent
    )


def _ask_for_confirmation(form: JoinForm, group: PilotGroup, shown: str) -> None:
    """Keep the request of a valid form and queue the mail that confirms it."""
    applicant = joining.Applicant(
        email=form.email.data or "",
        name=" ".join((form.name.data or "").split()),
        title=" ".join((form.title.data or "").split()),
        language=form.language.data or shown,
        client=request.remote_addr or "unknown",
        shown=shown,
    )
    joining.request_confirmation(db.session(), group, applicant, current_clock().now())


@bp.route("/join/confirm/<token>", methods=["GET", "POST"])
@access(Access.PUBLIC)
def join_confirm(token: str) -> ResponseReturnValue:
    """GET shows a button; only the POST enrols, so a mail scanner opening links enrols nobody."""
    try:
        wish = joining.request_for(db.session(), token, current_clock().now())
    except (TokenError, joining.LinkGone) as error:
        return _link_problem(error, confirming=True)
    with force_locale(wish.language):
        return _confirm_page(wish)


def _confirm_page(wish: JoinRequest) -> ResponseReturnValue:
    """Show the button of a pending request, or enrol its person when it is pressed."""
    if wish.confirmed_at is not None:  # consumed: a second use changes nothing
        return render_template("enrolment/join_done.html", group=None, already="confirmed")
    try:
        group = joining.check_open(db.session(), wish, current_clock().now())
    except joining.LinkClosed as error:
        return _link_problem(error)
    if request.method == "GET":
        known = domains.of(group.organisation)
        elsewhere = not domains.is_known(wish.email, known)
        return render_template(
            "enrolment/join_confirm.html", group=group, wish=wish, elsewhere=elsewhere, known=known
        )
    if request.form.get("confirm") != "yes":
        abort(400)
    return _confirm(wish, group)


def _confirm(wish: JoinRequest, group: PilotGroup) -> ResponseReturnValue:
    """Enrol the person of a confirmed request, or say why they cannot be."""
    session = db.session()
    try:
        person = joining.confirm(
            session, wish, request.remote_addr or "unknown", current_clock().now()
        )
    except people.EnrolmentConflict as conflict:
        session.rollback()
        return _refused(group, conflict.reason)
    session.commit()
    return render_template("enrolment/join_done.html", group=group, person=person)


def _refused(group: PilotGroup, reason: str) -> ResponseReturnValue:
    """Say why the person cannot be enrolled; an address erased since the request is told
    the same as a link that is gone."""
    if reason == "erased":
        return _link_problem(joining.LinkGone(), confirming=True)
    return render_template("enrolment/join_done.html", group=group, already=reason)
