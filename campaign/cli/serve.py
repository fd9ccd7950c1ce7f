"""`campaign init-db` and `campaign serve`: the database, then the web UI with its scheduler."""

from __future__ import annotations

import errno
import logging
import socket
from typing import Any

import click
from flask import Flask

from campaign import db, jobs, migrations
from campaign.cli.context import app_of, configure_logging
from campaign.cli.demo import Account, load_demo


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
@click.option("--verbose", is_flag=True, help="Log migrations and the jobs' INFO lines too.")
@click.pass_context
def serve(
    ctx: click.Context, host: str, port: int, with_demo: bool, threads: int, verbose: bool
) -> None:
    """Upgrade the database, then run the web UI and the scheduler in one process."""
    app = app_of(ctx)
    listening = _listen(host, port)  # held from here on: no other process can take the port
    try:
        _quiet_unless(verbose)
        migrations.upgrade(db.engine_of(app))
        accounts = load_demo(app, echo=False) if with_demo else []
        _serve_with_scheduler(app, listening, threads, accounts)
    finally:
        listening.close()


def _quiet_unless(verbose: bool) -> None:
    """Log warnings only (no migration chatter), or with --verbose everything from INFO up."""
    configure_logging()
    logging.getLogger().setLevel(logging.INFO if verbose else logging.WARNING)


def _listen(host: str, port: int) -> socket.socket:
    """Bind and listen at host:port, before anything starts; stop with a sentence if the web
    UI cannot listen there (a name that does not resolve, a port in use or not allowed)."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        return socket.create_server((host, port), family=family)
    except OSError as error:
        raise click.ClickException(_refusal(host, port, error)) from None


def _refusal(host: str, port: int, error: OSError) -> str:
    """The sentence that says why nothing can listen at host:port."""
    if isinstance(error, socket.gaierror):
        return f"Cannot serve on {host}:{port}: the host name {host!r} does not resolve."
    if error.errno == errno.EADDRINUSE:
        return (
            f"Cannot serve on {host}:{port}: the port is in use by another program;"
            " stop it or choose another port with --port."
        )
    reason = error.strerror or str(error)
    return f"Cannot serve on {host}:{port}: {reason}."


def _serve_with_scheduler(
    app: Flask, listening: socket.socket, threads: int, accounts: list[Account]
) -> None:
    """Run the scheduler in the background and the web UI in front, until stopped."""
    from waitress.server import create_server

    server: Any = create_server(app, sockets=[listening], threads=threads, ident="campaign")
    scheduler = jobs.build_scheduler(app, blocking=False)
    scheduler.start()
    click.echo(ready_box(_address(listening), accounts, _mail_goes_to(app)))
    try:
        server.run()
    finally:
        scheduler.shutdown(wait=False)


def _address(listening: socket.socket) -> str:
    """The web UI's address, as a browser is given it."""
    host, port = listening.getsockname()[:2]
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def _mail_goes_to(app: Flask) -> str:
    """Where sent mail goes: the SMTP server, or the Maildir folder it is written to."""
    if app.config.get("CAMPAIGN_SMTP_URL"):
        return "the SMTP server of CAMPAIGN_SMTP_URL"
    return f"the Maildir {app.config['CAMPAIGN_MAILDIR']} (nothing leaves this computer)"


def ready_box(address: str, accounts: list[Account], mail: str) -> str:
    """The box printed once the web UI listens: where, who can sign in, where mail goes."""
    lines = [f"The campaign web UI is ready: {address}", ""]
    if accounts:
        lines.append("Demo accounts (new passwords each time the demo is loaded):")
        lines += [f"  {a.role:<11} {a.email:<20} {a.password}" for a in accounts]
        lines.append("")
    lines += [f"Mail goes to {mail}.", "The scheduler runs in this process; Ctrl+C stops both."]
    width = max(len(line) for line in lines)
    rule = "+" + "-" * (width + 2) + "+"
    return "\n".join([rule, *(f"| {line:<{width}} |" for line in lines), rule])
