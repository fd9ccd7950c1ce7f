"""What every command needs: the app it works on, a current schema, and options read as the
web forms read them (instants, addresses, one line of text, a file to write)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, tzinfo
from pathlib import Path

import click
from email_validator import EmailNotValidError
from flask import Flask

from campaign import db, migrations, timing
from campaign.enrolment.importing import normalise_address
from campaign.plaintext import CONTROL


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


def address(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    """An e-mail address option, checked as the web forms check it, in lower case."""
    try:
        return normalise_address(value)
    except EmailNotValidError:
        raise click.BadParameter(f"{value!r} is not a valid e-mail address") from None


class Line(click.ParamType):
    """One line of text: not empty, without control characters, at most `longest` long."""

    name = "text"

    def __init__(self, longest: int) -> None:
        self.longest = longest

    def convert(self, value: str, param: click.Parameter | None, ctx: click.Context | None) -> str:
        """Return the text trimmed; fail with a sentence if it is no line of words."""
        text = value.strip()
        if not text or CONTROL.search(text):
            self.fail("needs one line of text, without tabs or line breaks", param, ctx)
        if len(text) > self.longest:
            self.fail(f"is longer than {self.longest} characters", param, ctx)
        return text


def output_file(_ctx: click.Context, _param: click.Parameter, value: Path) -> Path:
    """A file to write: refuse at once (before any work) a folder that is not there."""
    if not value.parent.is_dir():
        raise click.BadParameter(f"{value}: the folder {value.parent} does not exist")
    return value
