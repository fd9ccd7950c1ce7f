"""The sequences in the web UI: each as a timeline with its steps previewed (`pages`), and the
lead administrator's editor of the campaign's own copy: a step's form with its preview
(`editor`), moving and removing steps (`order`), the versions with their changes and a way back
(`versions`), and the sequence out and in as a ZIP of its Markdown files (`transfer`). Importing
them registers their routes on `bp`.
"""

from __future__ import annotations

from flask import Flask

from campaign.drip.views import editor, order, pages, transfer, versions
from campaign.drip.views.base import bp, version_note

__all__ = ["bp", "editor", "init_app", "order", "pages", "transfer", "versions"]


def init_app(app: Flask) -> None:
    """Register the views; templates say a version's note with `version_note`."""
    app.register_blueprint(bp)
    app.jinja_env.filters["version_note"] = version_note
