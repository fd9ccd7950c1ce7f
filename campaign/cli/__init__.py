"""The `campaign` command: set up the database, create accounts, serve, run the jobs.

Each module of this package holds the commands of one subject; this one gathers them.
"""

from __future__ import annotations

import click
from flask import Flask

from campaign import create_app
from campaign.cli import jobs, network, people, report, serve
from campaign.config import ConfigError


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Run a network-wide pilot-group campaign."""
    if isinstance(ctx.obj, Flask):  # handed in by tests
        return
    try:
        ctx.obj = create_app()
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


COMMANDS: tuple[click.Command, ...] = (
    serve.init_db,
    people.create_user,
    network.create_campaign,
    network.demo,
    serve.serve,
    jobs.worker,
    jobs.tick,
    jobs.sequences,
    people.import_participants,
    report.report,
    report.export,
    network.simulate,
)
for command in COMMANDS:
    main.add_command(command)
