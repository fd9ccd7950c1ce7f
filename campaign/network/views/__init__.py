"""The network in the web UI: the campaigns one takes part in, the lead administrator's
overview, settings and audit log, each member's own page (`pages`), and the campaign's phase on
every staff page with the archive (`phases`). Importing them registers their routes on `bp`."""

from __future__ import annotations

from flask import Flask

from campaign.network.views import pages, phases
from campaign.network.views.base import bp

__all__ = ["bp", "init_app", "pages", "phases"]


def init_app(app: Flask) -> None:
    """Register the views, the campaign's phase on every staff page and the archive's guard;
    templates link to a campaign's first page with `campaign_start`."""
    app.register_blueprint(bp)
    app.jinja_env.globals["campaign_phase"] = phases.campaign_phase
    app.jinja_env.globals["campaign_start"] = pages.start_of
    app.before_request(phases.refuse_changes_to_an_archive)
