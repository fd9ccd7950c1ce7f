"""`campaign init-db` and `campaign serve`: the database, then the web UI with its scheduler."""

from __future__ import annotations

import socket

import click
from flask import Flask

from campaign import db, jobs, migrations
from campaign.cli.context import app_of, configure_logging
from campaign.cli.demo import load_demo


@click.command("init-db")
@click.pass_context
def init_db(ctx: click.Context) -> None:
    """Create the schema, or upgrade it to the newest version."""
    app = app_of(ctx)
    migrations.upgrade(db.engine_of(app))
    click.echo(f"The database is up to date: {db.engine_of(app).url.render_as_string()}")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--demo", "with_demo", is_flag=True, help="Load the demo network first.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256))
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, with_demo: bool, threads: int) -> None:
    """Upgrade the database, then run the web UI and the scheduler in one process."""
    app = app_of(ctx)
    _refuse_unusable_address(host, port)
    configure_logging()
    migrations.upgrade(db.engine_of(app))
    if with_demo:
        load_demo(app)
    _serve_with_scheduler(app, host, port, threads)


def _refuse_unusable_address(host: str, port: int) -> None:
    """Stop with a sentence, before anything starts, if the web UI cannot listen there."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        socket.create_server((host, port), family=family).close()
    except OSError as error:  # a name that does not resolve, a port in use or not allowed
        reason = error.strerror or str(error)
        raise click.ClickException(f"Cannot serve on {host}:{port}: {reason}.") from None


def _serve_with_scheduler(app: Flask, host: str, port: int, threads: int) -> None:
    """Run the scheduler in the background and the web UI in front, until stopped."""
    import waitress

    scheduler = jobs.build_scheduler(app, blocking=False)
    scheduler.start()
    click.echo(f"Serving on http://{host}:{port}/ with the scheduler (Ctrl+C stops).")
    try:
        waitress.serve(app, host=host, port=port, threads=threads, ident="campaign")
    finally:
        scheduler.shutdown(wait=False)
