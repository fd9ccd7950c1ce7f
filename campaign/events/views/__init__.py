"""Events in the web UI: plan, invite, change, cancel, mark attendance; answers and calendars.

Staff pages live under the organisation that holds the event, so `accounts.scope` has already
turned away other members' representatives. Events for the whole campaign and the working group
are held by the lead organisation and changed by the lead administrator only. The rooms:
`meetings` (the list, the form, a meeting's page, cancelling), `mailing` (inviting, and how far
the mail has come), `attendance`, `calendars` (the .ics files and the member's feed) and `rsvp`
(the public answer pages). Importing them registers their routes on `bp`.
"""

from __future__ import annotations

from flask import Flask

from campaign.events.models import Rsvp
from campaign.events.views import attendance, calendars, mailing, meetings, rsvp
from campaign.events.views.base import bp

__all__ = ["attendance", "bp", "calendars", "init_app", "mailing", "meetings", "rsvp"]


def init_app(app: Flask) -> None:
    """Register the views."""
    app.register_blueprint(bp)
    app.jinja_env.globals["Rsvp"] = Rsvp
