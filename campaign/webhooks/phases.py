"""A campaign's phase changes, told to its campaign-wide receivers.

A phase is computed from the dates (campaign/network/phases.py); what changes it by hand is
archiving, reopening (ended again) and the purge of personal data. Those functions sit below
this package (it reads the network's campaigns), so the audit event each of them records is
what is listened for: whenever such an event is flushed, in any session, the webhook goes
with it in the same transaction. The passing of the dates (preparing, running, ended) is no
change anybody makes, and is not sent.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from campaign.audit import AuditEvent
from campaign.webhooks.emit import emit

PHASES = {
    "campaign.archived": "archived",
    "campaign.reopened": "ended",
    "campaign.purged": "purged",
}


def init_app(app: Flask) -> None:
    """Listen for the audit events of phase changes (once per process, whatever the apps)."""
    if not event.contains(Session, "before_flush", _emit_phase_changes):
        event.listen(Session, "before_flush", _emit_phase_changes)


def _emit_phase_changes(db_session: Session, _context: Any, _instances: Any) -> None:
    """Queue a phase_changed event for each phase change about to be recorded."""
    for added in list(db_session.new):
        if isinstance(added, AuditEvent) and added.action in PHASES and added.campaign_id:
            emit(
                db_session, campaign_id=added.campaign_id, organisation_id=None,
                event_type="campaign.phase_changed", data={"phase": PHASES[added.action]},
                now=added.occurred_at,
            )  # fmt: skip
