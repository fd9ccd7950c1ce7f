"""What staff do to their meetings and calendar: plan, change, invite to and cancel a meeting,
and replace the member's calendar address; each is audited. The caller commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from campaign.audit import record
from campaign.events import feeds, invitations
from campaign.events.models import Event
from campaign.network.models import Organisation


def plan(
    db_session: Session,
    values: dict[str, Any],
    *,
    campaign_id: int,
    organisation_id: int,
    organiser: Any,
    now: datetime,
    base_url: str,
) -> Event:
    """Add a meeting with `values` (the form's fields); nobody is invited yet."""
    event = Event(
        campaign_id=campaign_id,
        organisation_id=organisation_id,
        organiser_id=organiser.id,
        uid=invitations.new_uid(base_url),
        sequence=0,
        created_at=now,
        updated_at=now,
        **values,
    )
    db_session.add(event)
    db_session.flush()
    _record(db_session, organiser, "event.created", event, title=event.title)
    return event


def change(
    db_session: Session, event: Event, values: dict[str, Any], now: datetime, actor: Any
) -> int:
    """Change the meeting; return how many invitees are sent the new time and place."""
    updates = invitations.change(db_session, event, values, now)
    _record(db_session, actor, "event.changed", event, sequence=event.sequence)
    return updates


def invite(db_session: Session, event: Event, now: datetime, actor: Any) -> int:
    """Invite the audience not invited yet; return how many that is."""
    count = invitations.invite(db_session, event, now)
    _record(db_session, actor, "event.invited", event, count=count)
    return count


def cancel(db_session: Session, event: Event, now: datetime, actor: Any) -> int:
    """Cancel the meeting; return how many invitees are told."""
    count = invitations.cancel(db_session, event, now)
    _record(db_session, actor, "event.cancelled", event)
    return count


def replace_feed(
    db_session: Session, organisation: Organisation, actor: Any, campaign_id: int | None = None
) -> None:
    """Give the member a new calendar address; the old one stops working at once."""
    feeds.replace(organisation)
    record(db_session, actor, "calendar_feed.replaced", campaign_id=campaign_id,
           organisation_id=organisation.id, target=f"organisation:{organisation.id}")  # fmt: skip


def _record(db_session: Session, actor: Any, action: str, event: Event, **details: Any) -> None:
    """Audit a change of the event."""
    record(db_session, actor, action, campaign_id=event.campaign_id, target=f"event:{event.id}",
           organisation_id=event.organisation_id, **details)  # fmt: skip
