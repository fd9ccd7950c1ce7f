"""What every command needs: the app it works on, a current schema, instants from options."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, tzinfo

import click
from flask import Flask

from campaign import db, migrations, timing


def app_of(ctx: click.Context) -> Flask:
    """Return the app the `campaign` group made (or a test handed in)."""
    app = ctx.find_object(Flask)
    assert app is not None, "the campaign group puts the app in the context"
    return app


def require_schema(app: Flask) -> None:
    """Stop with a sentence unless the database has the newest schema."""
    if not migrations.is_current(db.engine_of(app)):
        raise click.ClickException("The database is not up to date: run `campaign init-db` first.")


def parse_instant(text: str, option: str = "--as-of", zone: tzinfo = UTC) -> datetime:
    """An ISO 8601 instant from the command line; without an offset it is taken in `zone`."""
    try:
        return timing.parse_instant(text, zone)
    except ValueError:
        raise click.BadParameter("is not an ISO date-time", param_hint=option) from None


def configure_logging() -> None:
    """Log to stderr with times, for the long-running commands."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # not a line for every tick
