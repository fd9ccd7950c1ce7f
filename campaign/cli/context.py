"""What every command needs: the app it works on, a current schema, options read as the web
forms read them (instants, addresses, one line of text, a file to write), and the campaign a
command of one campaign works on (`--campaign SLUG`)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, tzinfo
from pathlib import Path

import click
from email_validator import EmailNotValidError
from flask import Flask
from sqlalchemy.orm import Session

from campaign import db, migrations, timing
from campaign.enrolment.importing import normalise_address
from campaign.network import members
from campaign.network.models import Campaign
from campaign.plaintext import CONTROL

# The option of every command that concerns one campaign; campaign_named() reads it.
campaign_option = click.option(
    "--campaign",
    "campaign_slug",
    metavar="SLUG",
    help="The campaign (its slug); needed when there are several.",
)


def app_of(ctx: click.Context) -> Flask:
    """Return the app the `campaign` group made (or a test handed in)."""
    app = ctx.find_object(Flask)
    assert app is not None, "the campaign group puts the app in the context"
    return app


def require_schema(app: Flask) -> None:
    """Stop with a sentence unless the database has the newest schema."""
    if not migrations.is_current(db.engine_of(app)):
        raise click.ClickException("The database is not up to date: run `campaign init-db` first.")


def campaign_named(session: Session, slug: str | None) -> Campaign:
    """Return the campaign --campaign names, or the only one when it names none; stop with a
    sentence naming the campaigns there are when that is not one."""
    if slug:
        campaign = members.campaign_with_slug(session, slug)
        if campaign is None:
            raise click.ClickException(f"There is no campaign {slug!r}. {_choice(session)}")
        return campaign
    existing = members.campaigns(session)
    if len(existing) != 1:
        raise click.ClickException(_choice(session))
    return existing[0]


def _choice(session: Session) -> str:
    """Say which campaigns there are to choose from with --campaign (or that there are none)."""
    slugs = ", ".join(c.slug for c in members.campaigns(session))
    if not slugs:
        return "There is no campaign yet: run `campaign demo` or `campaign create-campaign`."
    return f"Choose the campaign with --campaign; the campaigns are: {slugs}."


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
