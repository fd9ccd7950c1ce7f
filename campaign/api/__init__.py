"""The REST API under /api/v1: JSON for the municipality's own systems, with the web pages'
access rules, personal tokens, and an OpenAPI 3.1 document generated from the code."""

from __future__ import annotations

from flask import Flask

from campaign.api import auth, document, problems
from campaign.api import campaigns as campaigns  # noqa: F401  # registers its operations
from campaign.api import groups as groups  # noqa: F401  # registers its operations
from campaign.api import imports as imports  # noqa: F401  # registers its operations
from campaign.api import members as members  # noqa: F401  # registers its operations
from campaign.api import participant_status as participant_status  # noqa: F401  # registers its operations
from campaign.api import participants as participants  # noqa: F401  # registers its operations
from campaign.api.core import bp


def init_auth(app: Flask) -> None:
    """Register the API's authentication: called before accounts/scope.py's access check is
    registered, which it must precede."""
    app.before_request(auth.authenticate)
    app.after_request(auth.add_rate_headers)
    app.register_error_handler(problems.Problem, problems.response)


def init_app(app: Flask) -> None:
    """Register the API's operations and its documents."""
    from campaign import csrf

    csrf.exempt(bp)  # a token, never a cookie, authenticates: nothing to forge
    app.register_blueprint(bp)
    document.init_app(app)
