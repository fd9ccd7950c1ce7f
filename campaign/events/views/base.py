"""The events blueprint, and what its staff pages share: the event of `g.organisation` in the
request's campaign by id, who may change it, and which events a member sees."""

from __future__ import annotations

from flask import Blueprint, abort
from sqlalchemy import ColumnElement, Select, or_, select

from campaign import db
from campaign.accounts.scope import is_lead_admin, of_member
from campaign.events.models import Audience, Event
from campaign.network.models import Campaign, Membership

bp = Blueprint("events", __name__)
NETWORK_AUDIENCES = (Audience.CAMPAIGN, Audience.WORKING_GROUP)


def event_or_404(event_id: int) -> Event:
    """Return the event of `g.organisation` in the request's campaign with this id."""
    return db.first_or_404(select(Event).where(Event.id == event_id, of_member(Event)))


def may_change(event: Event) -> bool:
    """Whether the user may change the event: those for the whole network are the lead
    administrator's."""
    return event.audience not in NETWORK_AUDIENCES or is_lead_admin()


def changeable_or_403(event_id: int) -> Event:
    """Return the event of `g.organisation` with this id, if the user may change it."""
    event = event_or_404(event_id)
    if not may_change(event):
        abort(403)
    return event


def visible(campaign: Campaign, organisation_id: int) -> Select[Event]:
    """Events a member sees in the campaign: its own, and those for the whole campaign."""
    return select(Event).where(Event.campaign_id == campaign.id, _seen_by(organisation_id))


def in_feed(organisation_id: int) -> Select[Event]:
    """Events a member's calendar feed holds: those it sees in each campaign it is a member of."""
    member_of = select(Membership.campaign_id).where(Membership.organisation_id == organisation_id)
    return select(Event).where(Event.campaign_id.in_(member_of), _seen_by(organisation_id))


def _seen_by(organisation_id: int) -> ColumnElement[bool]:
    """The condition of the events a member sees: its own, and those for the whole network."""
    return or_(Event.organisation_id == organisation_id, Event.audience.in_(NETWORK_AUDIENCES))
