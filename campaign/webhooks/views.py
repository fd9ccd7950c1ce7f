"""Webhooks in the web UI: the lead administrator sets up the campaign's receivers and sees every
member's; a representative sets up their own member's. Each receiver's page has its delivery
log, the secret (shown once, after creating or rotating it) and the buttons that change it."""

from __future__ import annotations

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
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from campaign import db
from campaign.accounts.scope import Access, access, is_lead_admin, may_see
from campaign.network import members
from campaign.network.models import Campaign, Organisation
from campaign.pages import page_of
from campaign.timing import current_clock
from campaign.webhooks import receivers, subscriptions
from campaign.webhooks.forms import EVENT_LABELS, WebhookForm
from campaign.webhooks.models import WebhookDelivery, WebhookSubscription
from campaign.webhooks.notices import REASONS
from campaign.webhooks.settings import allowed

bp = Blueprint("webhooks", __name__)

DONE = {
    "enable": _l("The webhook is switched on."),
    "disable": _l("The webhook is switched off."),
    "test": _l("A test event is on its way; it appears in the log below."),
}


def init_app(app: Flask) -> None:
    """Register the webhook pages."""
    app.register_blueprint(bp)


@bp.route("/webhooks", methods=["GET", "POST"])
@access(Access.LEAD_ADMIN)
def campaign_webhooks() -> ResponseReturnValue:
    """The campaign's receivers, every member's, and the form that sets one up."""
    campaign = members.campaign_or_404()
    form = WebhookForm()
    if form.validate_on_submit() and (done := _created(campaign, None, form)) is not None:
        return done
    every = list(db.session().scalars(subscriptions.of_campaign(campaign.id)))
    return render_template(
        "webhooks/campaign.html",
        campaign=campaign,
        form=form,
        own=[s for s in every if s.organisation_id is None],
        members=_by_member([s for s in every if s.organisation_id is not None]),
    )


@bp.route("/organisations/<org>/webhooks", methods=["GET", "POST"])
@access(Access.ORGANISATION)
def member_webhooks() -> ResponseReturnValue:
    """A member's own receivers and the form that sets one up."""
    campaign = members.campaign_or_404()
    organisation: Organisation = g.organisation
    form = WebhookForm()
    if form.validate_on_submit() and (done := _created(campaign, organisation, form)) is not None:
        return done
    query = subscriptions.of_campaign(campaign.id)
    query = query.where(WebhookSubscription.organisation_id == organisation.id)
    return render_template(
        "webhooks/member.html",
        campaign=campaign,
        organisation=organisation,
        form=form,
        own=list(db.session().scalars(query)),
    )


@bp.route("/webhooks/<int:webhook_id>")
@access(Access.STAFF)
def show(webhook_id: int) -> ResponseReturnValue:
    """A receiver: what it hears of, its state, its buttons and its delivery log."""
    return _page(_subscription_or_404(webhook_id))


@bp.route("/webhooks/<int:webhook_id>/change", methods=["POST"])
@access(Access.STAFF)
def change(webhook_id: int) -> ResponseReturnValue:
    """Rotate the secret, switch off or on, delete, or send a test event, as the button says."""
    subscription = _subscription_or_404(webhook_id)
    action, now, session = request.form.get("action", ""), current_clock().now(), db.session()
    if action == "rotate":
        secret = subscriptions.rotate(session, subscription, current_user, now)
        session.commit()
        flash(_("The secret is new. Copy it now: it is shown only once."), "success")
        return _page(subscription, secret)
    if action == "delete":
        return _deleted(subscription)
    if action not in DONE:
        abort(400)
    if action == "test":
        subscriptions.send_test(session, subscription, current_user, now)
    else:
        subscriptions.set_enabled(session, subscription, action == "enable", current_user, now)
    session.commit()
    flash(str(DONE[action]), "success")
    return redirect(url_for("webhooks.show", webhook_id=subscription.id))


def _deleted(subscription: WebhookSubscription) -> ResponseReturnValue:
    """Delete the receiver and its log; back to the list it was in."""
    back = _list_of(subscription)
    subscriptions.delete(db.session(), subscription, current_user, current_clock().now())
    db.session().commit()
    flash(_("The webhook is deleted."), "success")
    return redirect(back)


@bp.route(
    "/webhooks/<int:webhook_id>/deliveries/<int:webhook_delivery_id>/redeliver", methods=["POST"]
)
@access(Access.STAFF)
def redeliver(webhook_id: int, webhook_delivery_id: int) -> ResponseReturnValue:
    """Send one delivery of the log again."""
    subscription = _subscription_or_404(webhook_id)
    delivery = db.session().get(WebhookDelivery, webhook_delivery_id)
    if delivery is None or delivery.subscription_id != subscription.id:
        abort(404)
    subscriptions.redeliver(db.session(), delivery, current_user, current_clock().now())
    db.session().commit()
    flash(_("The event is sent again within a minute."), "success")
    return redirect(url_for("webhooks.show", webhook_id=subscription.id))


def _created(
    campaign: Campaign, organisation: Organisation | None, form: WebhookForm
) -> ResponseReturnValue | None:
    """Set up the receiver of a valid form and show its page with the secret; None (the form
    marked) if the address is refused."""
    try:
        subscription = subscriptions.create(
            db.session(),
            campaign_id=campaign.id,
            organisation_id=organisation.id if organisation else None,
            url=form.url.data or "",
            event_types=form.events.data or [],
            actor=current_user,
            now=current_clock().now(),
            allowed=allowed(current_app.config.get("CAMPAIGN_WEBHOOKS_ALLOW")),
        )
    except receivers.Refused as refused:
        form.url.errors = [str(refused.args[0])]
        return None
    secret = subscription.secret
    db.session().commit()
    flash(_("The webhook is set up. Copy its secret now: it is shown only once."), "success")
    return _page(subscription, secret)


def _page(subscription: WebhookSubscription, secret: str | None = None) -> ResponseReturnValue:
    """Render a receiver's page, with its new secret when it has just been made."""
    log = page_of(db.session(), subscriptions.log_of(subscription), request.args.get("page"))
    organisation = db.session().get(Organisation, subscription.organisation_id or 0)
    return render_template(
        "webhooks/show.html",
        subscription=subscription,
        organisation=organisation,
        secret=secret,
        log=log,
        labels=EVENT_LABELS,
        reasons=REASONS,
        back=_list_of(subscription),
    )


def _subscription_or_404(webhook_id: int) -> WebhookSubscription:
    """The receiver of the URL if it is the campaign's and the user's to see, else a 404."""
    found = db.session().get(WebhookSubscription, webhook_id)
    campaign = members.campaign_or_404()
    if found is None or found.campaign_id != campaign.id or not _may_touch(found):
        abort(404)  # the same answer for "not yours" and "does not exist"
    return found


def _may_touch(subscription: WebhookSubscription) -> bool:
    """Whether the user may see and change the receiver: a campaign-wide one is the lead
    administrator's, a member's its own representatives' too."""
    if subscription.organisation_id is None:
        return is_lead_admin()
    return may_see(current_user, subscription.organisation_id)


def _list_of(subscription: WebhookSubscription) -> str:
    """The page of the list the receiver is in: the member's, or the campaign's."""
    organisation = db.session().get(Organisation, subscription.organisation_id or 0)
    if organisation is None:
        return url_for("webhooks.campaign_webhooks")
    return url_for("webhooks.member_webhooks", org=organisation.slug)


def _by_member(
    rows: list[WebhookSubscription],
) -> list[tuple[Organisation, list[WebhookSubscription]]]:
    """Group the members' receivers by member, in the order of the members' names."""
    ids = {s.organisation_id for s in rows}
    found = db.session().scalars(select(Organisation).where(Organisation.id.in_(ids)))
    organisations = sorted(found, key=members.swedish_sort_key)
    return [(o, [s for s in rows if s.organisation_id == o.id]) for o in organisations]
