"""`campaign demo`: the demo network of the agreement (seed 004), with fresh accounts.

By default a campaign running now with an invented pilot in progress; `--empty` for the bare
network; `--historic` (or its old name `--pilot`) for the agreement's own 2013-2015 with an
invented pilot that has run, to make the final report from. On a database that has the demo
already, nothing but the demo accounts' passwords changes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

import click
from flask import Flask
from sqlalchemy.orm import Session

from campaign import db, migrations, timing
from campaign.cli.context import app_of
from campaign.network.models import Campaign


@dataclass(frozen=True)
class Account:
    """A demo account and its new password."""

    role: str
    email: str
    password: str


@click.command()
@click.option("--empty", is_flag=True, help="Only the network: members and accounts, no pilot.")
@click.option(
    "--historic",
    "--pilot",
    "historic",
    is_flag=True,
    help="The agreement's own period, 2013-2015, with an invented pilot that has run (for"
    " the final report); --pilot is its old name.",
)
@click.pass_context
def demo(ctx: click.Context, empty: bool, historic: bool) -> None:
    """Load the demo network (seed 004) and print fresh demo credentials."""
    app = app_of(ctx)
    migrations.upgrade(db.engine_of(app))
    load_demo(app, pilot=not empty, historic=historic)


def load_demo(
    app: Flask, *, pilot: bool = True, historic: bool = False, echo: bool = True
) -> list[Account]:
    """Load the demo network, with its pilot unless `pilot` is False, if it is not loaded yet;
    set its accounts' passwords anew and return them (and print them, with `echo`)."""
    from campaign.demo.network import DEMO_ACCOUNTS, demo_campaign_of
    from campaign.demo.network import load_demo as load

    accounts = [Account(r, email, secrets.token_urlsafe(12)) for email, _, r, _ in DEMO_ACCOUNTS]
    now = timing.clock_of(app).now()
    with app.app_context(), db.open_session(app) as session:
        new = demo_campaign_of(session) is None
        passwords = {a.email: a.password for a in accounts}
        click.echo(load(session, passwords, now, historic=historic))
        campaign = demo_campaign_of(session)
        if new and pilot and campaign is not None:
            click.echo(_add_pilot(session, campaign, now, historic))
        session.commit()
    if echo:
        _echo_accounts(accounts)
    return accounts


def _add_pilot(session: Session, campaign: Campaign, now: datetime, historic: bool) -> str:
    """Fill the new demo campaign with its pilot: one that has run, or one in progress."""
    if historic:
        from campaign.demo.pilot import simulate_pilot

        added = simulate_pilot(session, campaign)
        return f"Added an invented pilot: {added} pilot users with mail, training, answers."
    from campaign.demo.replay import fill

    return str(fill(session, campaign, now))


def _echo_accounts(accounts: list[Account]) -> None:
    click.echo("Demo accounts (passwords are new each time the demo is loaded):")
    for account in accounts:
        click.echo(f"  {account.role:<11} {account.email:<28} {account.password}")
