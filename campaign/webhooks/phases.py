"""A campaign's phase changes, told to its campaign-wide receivers once each.

A phase is computed from the dates and the archive and purge marks (campaign/network/phases.py).
`campaign.told_phase` remembers the phase the receivers last heard of (None: the one the
campaign was created in, which is no change). Two paths tell a change and both move it:

- the `phases` job (`tell_changes`) notices the passing of the dates (preparing, running,
  ended); the UPDATE that moves `told_phase` from what it read is the gate, so two workers
  running the job at once send each change once;
- archiving, reopening and the purge are made by functions below this package, so the audit
  event each of them records is listened for: whenever such an event is flushed, the webhook
  goes with it in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import event, inspect, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from campaign.audit import AuditEvent
from campaign.network.models import Campaign
from campaign.network.phases import Phase, end_moment, first_moment, phases_at
from campaign.webhooks.emit import emit
from campaign.webhooks.payloads import CampaignPhaseChanged

# The audit events of the changes made by hand, and the phase each leads to (None: the dates'),
# by the event and not by the campaign: archiving and reopening may be flushed together.
BY_HAND: dict[str, Phase | None] = {
    "campaign.archived": Phase.ARCHIVED,
    "campaign.reopened": None,
    "campaign.purged": Phase.PURGED,
}


def init_app(app: Flask) -> None:
    """Listen for the audit events of phase changes (once per process, whatever the apps)."""
    if not event.contains(Session, "before_flush", _emit_phase_changes):
        event.listen(Session, "before_flush", _emit_phase_changes)


def told_phase(campaign: Campaign) -> Phase:
    """Return the phase the campaign's receivers last heard of (at first, the one it began in)."""
    if campaign.told_phase is not None:
        return Phase(campaign.told_phase)
    return _by_dates(campaign, campaign.created_at)


def _by_dates(campaign: Campaign, at: datetime) -> Phase:
    """Return the phase the campaign's dates alone give at `at`."""
    if at < first_moment(campaign):
        return Phase.PREPARING
    return Phase.RUNNING if at < end_moment(campaign) else Phase.ENDED


def tell_changes(db_session: Session, now: datetime) -> int:
    """Tell the receivers of every campaign whose phase changed since they last heard; return
    how many campaigns were told (the `phases` job; the caller commits)."""
    told = 0
    for campaign, phase in phases_at(db_session, now).items():
        before = told_phase(campaign)
        if phase is not before and _moved(db_session, campaign, phase):
            _tell(db_session, campaign, (before, phase), began_at(campaign, phase, now), now)
            told += 1
    return told


def _moved(db_session: Session, campaign: Campaign, phase: Phase) -> bool:
    """Record `phase` as told if nobody else did since `campaign` was read; False if another
    worker did (on PostgreSQL the UPDATE waits for its commit, then matches nothing)."""
    column = Campaign.told_phase
    was = column.is_(None) if campaign.told_phase is None else column == campaign.told_phase
    moved = db_session.execute(
        update(Campaign).where(Campaign.id == campaign.id, was).values(told_phase=phase.value)
        .returning(Campaign.id).execution_options(synchronize_session=False)
    ).first()  # fmt: skip
    set_committed_value(campaign, "told_phase", phase.value)
    return moved is not None


def began_at(campaign: Campaign, phase: Phase, now: datetime) -> datetime:
    """Return when the campaign entered `phase` (`now` when its dates were moved back)."""
    begun = {
        Phase.RUNNING: first_moment(campaign),
        Phase.ENDED: end_moment(campaign),
        Phase.ARCHIVED: campaign.archived_at,
        Phase.PURGED: campaign.purged_at,
    }.get(phase)
    return min(begun, now) if begun is not None else now


def _tell(
    db_session: Session,
    campaign: Campaign,
    change: tuple[Phase, Phase],
    at: datetime,
    now: datetime,
) -> None:
    """Queue, at `now`, the change (from, to) made `at` to the campaign-wide receivers."""
    data = CampaignPhaseChanged(
        campaign_id=campaign.id, previous_phase=change[0], phase=change[1], changed_at=at
    )
    emit(
        db_session, campaign_id=campaign.id, organisation_id=None,
        event_type="campaign.phase_changed", data=data, now=now,
    )  # fmt: skip


def _emit_phase_changes(db_session: Session, _context: Any, _instances: Any) -> None:
    """Tell each phase change made by hand whose audit event is about to be recorded."""
    for added in list(db_session.new):
        if isinstance(added, AuditEvent) and added.action in BY_HAND and added.campaign_id:
            campaign = db_session.get(Campaign, added.campaign_id)
            if campaign is not None:
                _tell_by_hand(db_session, campaign, BY_HAND[added.action], added.occurred_at)


def _tell_by_hand(
    db_session: Session, campaign: Campaign, phase: Phase | None, at: datetime
) -> None:
    """Tell the campaign's new phase and remember it as told (flushed with the change)."""
    _refresh_told(db_session, campaign)
    before, phase = told_phase(campaign), phase or _by_dates(campaign, at)
    if phase is not before:
        campaign.told_phase = phase.value
        _tell(db_session, campaign, (before, phase), at, at)


def _refresh_told(db_session: Session, campaign: Campaign) -> None:
    """Read the told phase afresh (the `phases` job may have told a change since the campaign
    was loaded), unless this flush already moves it (archived and reopened at once)."""
    if not inspect(campaign).attrs.told_phase.history.has_changes():
        told = db_session.scalar(select(Campaign.told_phase).where(Campaign.id == campaign.id))
        set_committed_value(campaign, "told_phase", told)
