"""A receiver that keeps failing is switched off, and its owner told by mail in their language
(the account that set it up; the campaign's lead administrators when that account is gone)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from campaign.accounts import roles
from campaign.accounts.models import User
from campaign.audit import record
from campaign.network.models import Campaign
from campaign.outbox.mail import Recipient, mail_settings, queue_staff_mail
from campaign.outbox.models import MessageKind
from campaign.outbox.texts import greeting, mail_template
from campaign.webhooks.models import WebhookSubscription

# Kept in English in the row, shown translated (labels of the reason a receiver is off).
FAILING = "failing"
REASONS = {FAILING: _l("It failed for three days in a row."), "staff": _l("Switched off by hand.")}


def disable_failing(
    db_session: Session, subscription: WebhookSubscription, status: int | None, now: datetime
) -> int:
    """Switch a failing receiver off, audit it, and mail its owners the last answer's HTTP
    `status` (None: no answer); return how many were mailed."""
    subscription.is_enabled, subscription.disabled_at = False, now
    subscription.disabled_reason, subscription.updated_at = FAILING, now
    record(
        db_session, None, "webhook.auto_disabled", now=now, campaign_id=subscription.campaign_id,
        organisation_id=subscription.organisation_id, target=f"webhook:{subscription.id}",
        failures=subscription.failures_in_a_row,
    )  # fmt: skip
    campaign = db_session.get(Campaign, subscription.campaign_id)
    assert campaign is not None
    owners = owners_of(db_session, subscription, campaign)
    mailed = (_mail(db_session, subscription, campaign, user, status, now) for user in owners)
    return sum(message_id is not None for message_id in mailed)


def owners_of(
    db_session: Session, subscription: WebhookSubscription, campaign: Campaign
) -> list[User]:
    """Return who is told: the account that set it up, or the lead administrators."""
    creator = db_session.get(User, subscription.created_by_id or 0)
    if creator is not None and creator.is_enabled:
        return [creator]
    return [user for user in roles.lead_admins(db_session, campaign) if user.is_enabled]


def page_path(campaign: Campaign, subscription: WebhookSubscription) -> str:
    """Return the path of the subscription's page (its delivery log)."""
    return f"/campaigns/{campaign.slug}/webhooks/{subscription.id}"


def _mail(
    db_session: Session,
    subscription: WebhookSubscription,
    campaign: Campaign,
    user: User,
    status: int | None,
    now: datetime,
) -> int | None:
    """Queue the notice to one owner, in their language."""
    context = {
        "greeting": greeting(user.name, user.language),
        "campaign": campaign.name,
        "url": subscription.url,
        "status": status,
        "link": mail_settings().link(page_path(campaign, subscription)),
    }
    return queue_staff_mail(
        db_session,
        Recipient.of(user, campaign.id),
        mail_template("webhook-disabled", user.language),
        context,
        kind=MessageKind.NOTICE,
        source_key=f"notice:webhook:{subscription.id}:{now.isoformat()}:{user.id}",
        due_at=now,
        now=now,
    )
