"""`campaign archive` and `campaign reopen`: put an ended campaign in the archive (read-only),
or take it out again after a mistake. Both are audited, by "system"."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy.orm import Session

from campaign import db, timing
from campaign.cli.context import app_of, campaign_named, campaign_option, require_schema
from campaign.network import phases
from campaign.network.models import Campaign


@click.command()
@campaign_option
@click.pass_context
def archive(ctx: click.Context, campaign_slug: str | None) -> None:
    """Archive an ended campaign: it can still be read, exported and reported on, not changed."""
    app = app_of(ctx)
    require_schema(app)
    with db.open_session(app) as session:
        campaign = campaign_named(session, campaign_slug)
        slug = campaign.slug
        _archive(app, session, campaign)
        session.commit()
    click.echo(f"The campaign {slug!r} is archived: it is read-only now.")


def _archive(app: Flask, session: Session, campaign: Campaign) -> None:
    """Archive the campaign, or stop with a sentence saying why it cannot be."""
    now = timing.clock_of(app).now()
    phase = phases.phase_of(campaign, now)
    if phase is phases.Phase.ARCHIVED:
        raise click.ClickException(f"The campaign {campaign.slug!r} is archived already.")
    if phase is phases.Phase.PURGED:
        raise click.ClickException(
            f"The personal data of the campaign {campaign.slug!r} was deleted: it is read-only"
            " already."
        )
    if phase is not phases.Phase.ENDED:
        raise click.ClickException(
            f"The campaign {campaign.slug!r} has not ended (its last day is"
            f" {campaign.ends_on.isoformat()}): only an ended campaign can be archived."
        )
    phases.archive(session, campaign, None, now)


@click.command()
@campaign_option
@click.pass_context
def reopen(ctx: click.Context, campaign_slug: str | None) -> None:
    """Take a campaign out of the archive (when it was archived by mistake)."""
    app = app_of(ctx)
    require_schema(app)
    with db.open_session(app) as session:
        campaign = campaign_named(session, campaign_slug)
        slug = campaign.slug
        if not phases.reopen(session, campaign, None, timing.clock_of(app).now()):
            raise click.ClickException(f"The campaign {slug!r} is not archived.")
        session.commit()
    click.echo(f"The campaign {slug!r} is out of the archive: it can be changed again.")
