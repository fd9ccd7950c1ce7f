"""The mail that tells a campaign's lead administrators of an inbound message they must read.

It names nobody: what a complaint concerns is on the Inbox page, behind their sign-in; the mail
says what happened and links to the entry.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from campaign.accounts import roles
from campaign.accounts.models import User
from campaign.inbound.parsed import Incoming
from campaign.network.models import Campaign
from campaign.outbox.inbound import InboundMessage, InboundOutcome
from campaign.outbox.mail import Recipient, mail_settings, queue_staff_mail
from campaign.outbox.models import MessageKind
from campaign.outbox.texts import greeting
from campaign.outbox.wording import campaign_letter


def entry_path(campaign: Campaign, row: InboundMessage) -> str:
    """Return the path of the message's page in the Inbox."""
    return f"/campaigns/{campaign.slug}/inbox/{row.id}"


def tell_lead_admins(db_session: Session, incoming: Incoming) -> int:
    """Queue the complaint notice to each working lead administrator of the message's campaign
    (none when it belongs to no campaign); return how many were queued."""
    row = incoming.row
    campaign = db_session.get(Campaign, row.campaign_id) if row.campaign_id else None
    if campaign is None:
        return 0
    readers = [user for user in roles.lead_admins(db_session, campaign) if user.is_enabled]
    return sum(_mail(db_session, incoming, campaign, user) is not None for user in readers)


def _mail(db_session: Session, incoming: Incoming, campaign: Campaign, user: User) -> int | None:
    """Queue the notice to one lead administrator, in their language."""
    row = incoming.row
    context = {
        "greeting": greeting(user.name, user.language),
        "campaign": campaign.name,
        "applied": row.outcome is InboundOutcome.APPLIED,
        "link": mail_settings().link(entry_path(campaign, row)),
    }
    return queue_staff_mail(
        db_session,
        Recipient.of(user, campaign.id),
        campaign_letter(db_session, campaign.id, "complaint-notice", user.language),
        context,
        kind=MessageKind.NOTICE,
        source_key=f"notice:inbound:{row.id}:{user.id}",
        due_at=incoming.now,
        now=incoming.now,
    )
