"""The one zone times are shown in: the current campaign's own (Campaign.timezone)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Flask, g
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign import db, timing
from campaign.network.members import current_campaign
from campaign.network.models import Campaign


def campaign_zone() -> ZoneInfo:
    """Return the current campaign's time zone (the default before there is one), once a request."""
    if "campaign_zone" not in g:
        campaign = current_campaign(db.session())
        g.campaign_zone = ZoneInfo(campaign.timezone if campaign else timing.DEFAULT_ZONE_NAME)
    zone: ZoneInfo = g.campaign_zone
    return zone


def zone_name_of(db_session: Session, campaign_id: int) -> str:
    """Return the time zone of a campaign: its local days are the ones that count."""
    return db_session.scalars(select(Campaign.timezone).where(Campaign.id == campaign_id)).one()


def init_app(app: Flask) -> None:
    """Show every time (`|localtime`) in the campaign's zone."""
    timing.install_zone(app, campaign_zone)
