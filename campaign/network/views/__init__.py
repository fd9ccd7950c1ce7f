"""The network in the web UI: the campaigns one takes part in, the lead administrator's
overview, settings and audit log, each member's own page (`pages`) and how it sends (`sender`),
and the campaign's phase on every staff page with the archive (`phases`). Importing them
registers their routes on `bp`."""

from __future__ import annotations

from flask import Flask

from campaign.network.views import audit, pages, phases, sender
from campaign.network.views.base import bp

__all__ = ["audit", "bp", "init_app", "pages", "phases", "sender"]


def init_app(app: Flask) -> None:
    """Register the views, the campaign's phase on every staff page and the archive's guard;
    templates link to a campaign's first page with `campaign_start` and say the audit's codes
    with `audit_action`, `audit_target` and `audit_details`."""
    app.register_blueprint(bp)
    app.jinja_env.globals["campaign_phase"] = phases.campaign_phase
    app.jinja_env.globals["campaign_start"] = pages.start_of
    app.before_request(phases.refuse_changes_to_an_archive)
    app.jinja_env.filters.update(
        audit_action=audit.action, audit_target=audit.target, audit_details=audit.details
    )
