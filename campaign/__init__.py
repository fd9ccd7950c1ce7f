"""campaign: runs a network-wide pilot-group campaign for a group of public organisations."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask.typing import RouteCallable
from flask_wtf.csrf import CSRFProtect

from campaign import api, config, db, errors, health, i18n, labels, markup, security, timing
from campaign.accounts import scope
from campaign.accounts import views as accounts_views
from campaign.announcements import views as announcements_views
from campaign.drip import views as drip_views
from campaign.enrolment import holds
from campaign.enrolment import views as enrolment_views
from campaign.events import views as events_views
from campaign.inbound import views as inbound_views
from campaign.mailtexts import views as mailtexts_views
from campaign.milestones import views as milestones_views
from campaign.network import timezone
from campaign.network import views as network_views
from campaign.outbox import views as outbox_views
from campaign.report import views as report_views
from campaign.succession import views as succession_views
from campaign.surveys import views as surveys_views
from campaign.webhooks import phases as webhook_phases
from campaign.webhooks import views as webhooks_views
from campaign.wording import views as wording_views

csrf = CSRFProtect()


class App(Flask):
    """Flask, with each page of a campaign served under /campaigns/<campaign> (see
    accounts/scope.py: the access a view declares decides)."""

    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: RouteCallable | None = None,
        provide_automatic_options: bool | None = None,
        **options: Any,
    ) -> None:
        """Register the view at its rule, under its campaign's prefix when it is a campaign's."""
        rule = scope.rule_of(rule, view_func)
        super().add_url_rule(rule, endpoint, view_func, provide_automatic_options, **options)


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create the web application; raises config.ConfigError naming a bad setting."""
    app = App(__name__, instance_path=_instance_path(test_config), instance_relative_config=True)
    _configure(app, test_config)
    _init_services(app)
    _init_views(app)
    return app


def _instance_path(test_config: Mapping[str, Any] | None) -> str | None:
    """Return the instance folder a test or CAMPAIGN_INSTANCE_PATH names (None: Flask's own)."""
    return (test_config or {}).get("INSTANCE_PATH") or os.environ.get("CAMPAIGN_INSTANCE_PATH")


def _configure(app: Flask, test_config: Mapping[str, Any] | None) -> None:
    """Load the settings, and set Flask's own from them: the session cookie, the upload limit."""
    settings = config.load(Path(app.instance_path), test_config)
    app.config.update(settings)
    app.config.update(
        SECRET_KEY=settings["CAMPAIGN_SECRET_KEY"],
        SESSION_COOKIE_NAME="campaign_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings["CAMPAIGN_BASE_URL"].startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        MAX_CONTENT_LENGTH=20 * 1024 * 1024,
    )


def _init_services(app: Flask) -> None:
    """Wire what every page uses: database, clock, time zone, mail holds, languages, labels,
    Markdown, CSRF, security headers, the access check, the error pages, and the webhooks of
    a campaign's phase changes."""
    db.init_app(app)
    timing.init_app(app)
    timezone.init_app(app)
    holds.init_app(app)
    app.jinja_env.add_extension("jinja2.ext.do")
    i18n.init_app(app)
    labels.init_app(app)
    markup.init_app(app)
    csrf.init_app(app)
    security.init_app(app)
    api.init_auth(app)
    scope.init_app(app)
    errors.init_app(app)
    webhook_phases.init_app(app)


def _init_views(app: Flask) -> None:
    """Register every domain's pages, and the health check."""
    accounts_views.init_app(app)
    network_views.init_app(app)
    outbox_views.init_app(app)
    inbound_views.init_app(app)
    drip_views.init_app(app)
    enrolment_views.init_app(app)
    events_views.init_app(app)
    milestones_views.init_app(app)
    surveys_views.init_app(app)
    mailtexts_views.init_app(app)
    announcements_views.init_app(app)
    report_views.init_app(app)
    succession_views.init_app(app)
    wording_views.init_app(app)
    webhooks_views.init_app(app)
    api.init_app(app)
    health.init_app(app)
