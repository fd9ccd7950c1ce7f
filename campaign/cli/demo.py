"""`campaign demo`: the demo network of the agreement (seed 004), with fresh accounts."""

from __future__ import annotations

import secrets

import click
from flask import Flask
from sqlalchemy import select

from campaign import db, migrations, timing
from campaign.cli.context import app_of
from campaign.network.models import Campaign


@click.command()
@click.option(
    "--pilot", is_flag=True, help="Also fill it with an invented pilot that has run (for reports)."
)
@click.pass_context
def demo(ctx: click.Context, pilot: bool) -> None:
    """Load the demo network (seed 004) and print fresh demo credentials."""
    app = app_of(ctx)
    migrations.upgrade(db.engine_of(app))
    load_demo(app)
    if pilot:
        _add_pilot(app)


def _add_pilot(app: Flask) -> None:
    """Fill the demo campaign with an invented pilot, unless it has participants already."""
    from campaign.demo.network import DEMO_SLUG
    from campaign.demo.pilot import simulate_pilot
    from campaign.enrolment.models import Participant

    with app.app_context(), db.open_session(app) as session:
        campaign = session.scalars(select(Campaign).where(Campaign.slug == DEMO_SLUG)).one()
        if session.scalar(select(Participant.id).where(Participant.campaign_id == campaign.id)):
            raise click.ClickException("The demo campaign has participants already.")
        added = simulate_pilot(session, campaign)
        session.commit()
    click.echo(f"Added an invented pilot: {added} pilot users with mail, training, answers.")


def load_demo(app: Flask) -> None:
    """Load the demo network and print its accounts with fresh passwords."""
    from campaign.demo.network import DEMO_ACCOUNTS
    from campaign.demo.network import load_demo as load

    passwords = {email: secrets.token_urlsafe(12) for email, *_ in DEMO_ACCOUNTS}
    with db.open_session(app) as session:
        summary = load(session, passwords, timing.clock_of(app).now())
        session.commit()
    click.echo(summary)
    click.echo("Demo accounts (passwords are new each time the demo is loaded):")
    for email, _name, role, _org in DEMO_ACCOUNTS:
        click.echo(f"  {role:<11} {email:<28} {passwords[email]}")
