"""The one zone times are shown in: the request's campaign's own (Campaign.timezone)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Flask, g, session
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign import db, timing
from campaign.network.members import campaign_with_slug
from campaign.network.models import Campaign


def campaign_zone() -> ZoneInfo:
    """Return the zone of the request's campaign, else of the one used last, or the only one."""
    if "campaign_zone" not in g:
        campaign = g.get("campaign") or _campaign_outside()
        g.campaign_zone = ZoneInfo(campaign.timezone if campaign else timing.DEFAULT_ZONE_NAME)
    zone: ZoneInfo = g.campaign_zone
    return zone


def _campaign_outside() -> Campaign | None:
    """Return the campaign used last in this session, else the only one there is, if any."""
    last = session.get("campaign")
    if isinstance(last, str) and (campaign := campaign_with_slug(db.session(), last)):
        return campaign
    few = db.session().scalars(select(Campaign).limit(2)).all()
    return few[0] if len(few) == 1 else None


def zone_name_of(db_session: Session, campaign_id: int) -> str:
    """Return the time zone of a campaign: its local days are the ones that count."""
    return db_session.scalars(select(Campaign.timezone).where(Campaign.id == campaign_id)).one()


def init_app(app: Flask) -> None:
    """Show every time (`|localtime`) in the campaign's zone."""
    timing.install_zone(app, campaign_zone)
