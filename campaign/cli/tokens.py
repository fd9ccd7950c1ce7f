"""`campaign create-token` and `campaign revoke-token`: personal API tokens from the command line.

The new token is the only thing `create-token` writes to stdout (a script can capture it);
what it says about it goes to stderr. Both are audited as done from the command line, and so
is a token refused (no such account, or a disabled one: `api_token.refused`, with why).
"""

from __future__ import annotations

from datetime import datetime
from typing import NoReturn

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign import db, timing
from campaign.accounts.models import User
from campaign.api.tokens import ALL_SCOPES, LONGEST_LIFETIME, ApiToken, create, withdraw
from campaign.audit import record
from campaign.cli.context import Line, address, app_of, require_schema

HOW = {"via": "command line"}


@click.command("create-token")
@click.option("--user", "email", required=True, callback=address, help="The account's e-mail.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(ALL_SCOPES),
    help="What the token may do: read, write, or <resource>:read|write; repeat for several.",
)
@click.option("--name", type=Line(100), default="command line", show_default=True)
@click.option(
    "--expires-in-days",
    "days",
    type=click.IntRange(1, LONGEST_LIFETIME.days),
    default=90,
    show_default=True,
)
@click.pass_context
def create_token(
    ctx: click.Context, email: str, scopes: tuple[str, ...], name: str, days: int
) -> None:
    """Make a personal API token for an account and print it (shown this once)."""
    app = app_of(ctx)
    require_schema(app)
    with db.open_session(app) as session:
        now = timing.clock_of(app).now()
        user = session.scalar(select(User).where(User.email == email))
        if user is None or not user.is_enabled:
            _refuse(session, email, user, scopes, now)
        issued = create(
            session, user, actor=None, name=name, scopes=list(scopes), days=days, now=now, **HOW
        )
        session.commit()
        click.echo(
            f"Made token {issued.token.id} ({issued.token.name}) for {email}, valid until "
            f"{issued.token.expires_at:%Y-%m-%d %H:%M} UTC. It is shown only this once:",
            err=True,
        )
        click.echo(issued.plaintext)


def _refuse(
    session: Session, email: str, user: User | None, scopes: tuple[str, ...], now: datetime
) -> NoReturn:
    """Audit a token refused to a missing or disabled account, commit, and say why."""
    reason = "no account" if user is None else "account disabled"
    record(
        session, None, "api_token.refused", now=now, account=email, reason=reason,
        scopes=list(scopes), via=HOW["via"],
    )  # fmt: skip
    session.commit()
    if user is None:
        raise click.ClickException(f"There is no account for {email}.")
    raise click.ClickException(f"The account of {email} is disabled: no token would work.")


@click.command("revoke-token")
@click.argument("token_id", type=int)
@click.pass_context
def revoke_token(ctx: click.Context, token_id: int) -> None:
    """Revoke an API token (its number, as the token pages and create-token show it)."""
    app = app_of(ctx)
    require_schema(app)
    with db.open_session(app) as session:
        token = session.get(ApiToken, token_id)
        if token is None:
            raise click.ClickException(f"There is no API token {token_id}.")
        if token.revoked_at is not None:
            click.echo(f"Token {token_id} ({token.name}) was revoked already.")
            return
        withdraw(session, token, actor=None, now=timing.clock_of(app).now(), **HOW)
        session.commit()
        click.echo(f"Revoked token {token_id} ({token.name}) of {token.user.email}.")
