"""The `campaign` command: set up the database, create accounts, serve, run the jobs.

Each module of this package holds the commands of one subject; this one gathers them. Bad
input ends a command with a sentence (campaign/cli/failures.py), never a traceback.
"""

from __future__ import annotations

import click
from flask import Flask

from campaign import create_app
from campaign.cli import (
    archive,
    demo,
    groups,
    inbound,
    jobs,
    network,
    people,
    report,
    serve,
    simulate,
    tokens,
)
from campaign.cli.failures import Commands


@click.group(cls=Commands)
@click.pass_context
def main(ctx: click.Context) -> None:
    """Run a network-wide pilot-group campaign."""
    if not isinstance(ctx.obj, Flask):  # else handed in by tests
        ctx.obj = create_app()  # a ConfigError becomes a sentence naming the setting


COMMANDS: tuple[click.Command, ...] = (
    serve.init_db,
    people.create_user,
    network.create_campaign,
    demo.demo,
    serve.serve,
    jobs.worker,
    jobs.tick,
    jobs.sequences,
    groups.create_group,
    people.import_participants,
    report.report,
    report.export,
    simulate.simulate,
    archive.archive,
    archive.reopen,
    inbound.inbound,
    tokens.create_token,
    tokens.revoke_token,
)
for command in COMMANDS:
    main.add_command(command)
