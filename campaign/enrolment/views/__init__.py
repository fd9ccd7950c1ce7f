"""Enrolment in the web UI: pilot groups, participants, imports, and self-enrolment links.

Every staff route names the organisation in its URL, so `accounts.scope` has already refused a
representative of another member before a view runs; each view then looks objects up within
`g.organisation` only (`base`), so an id of another member's object is a 404 too. The rooms:
`groups`, `participants` (the list, one new person), `person` (one participant), `imports`, and
`join` (the public self-enrolment pages), `domains` (the member's work e-mail domains, which
self-enrolment checks). Importing them registers their routes on `bp`.
"""

from __future__ import annotations

from flask import Flask

from campaign.enrolment.views import domains, groups, imports, join, participants, person
from campaign.enrolment.views.base import bp

__all__ = ["bp", "domains", "groups", "imports", "init_app", "join", "participants", "person"]


def init_app(app: Flask) -> None:
    """Register the views."""
    app.register_blueprint(bp)
