"""What goes wrong outside the code ends a command with one sentence, never a traceback.

Three kinds of exception describe the world rather than the code: the database cannot be used
(PEP 249's OperationalError: "not necessarily under the programmer's control": a server that
does not answer, a file SQLite cannot open, a lock), a file cannot be read or written (an
OSError that names its file), and a setting the service cannot run with (ConfigError). The
`campaign` group turns exactly those into a sentence. Anything else (an IntegrityError, a
KeyError, an OSError of no file) is a bug or a case the command should have checked: it keeps
its traceback, and the test that found it is fixed where the command reads its input.
"""

from __future__ import annotations

from typing import Any

import click
from flask import Flask
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError

from campaign import db
from campaign.config import ConfigError


class Commands(click.Group):
    """A command group whose commands end with a sentence when the world fails them."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; turn an expected failure into a sentence (exit code 1)."""
        try:
            return super().invoke(ctx)
        except click.UsageError as error:
            if ctx.invoked_subcommand not in TEMPFAIL_COMMANDS:
                raise
            raise MisusedLater(error.message, error.ctx) from None
        except OperationalError as error:
            raise _failure(ctx, database_sentence(ctx, error)) from None
        except ConfigError as error:
            raise _failure(ctx, str(error)) from None
        except OSError as error:
            if not error.filename:
                raise
            raise _failure(ctx, file_sentence(error)) from None


# Commands a mail server runs, for which any failure means "try again later" (sysexits.h's
# EX_TEMPFAIL): Postfix's and Exim's pipe transports keep the message and retry, where any
# other status would bounce it back to its sender.
TEMPFAIL_COMMANDS = {"inbound"}


class TryLater(click.ClickException):
    """A failure after which the mail server that ran the command keeps the message and
    retries: exit status 75, EX_TEMPFAIL."""

    exit_code = 75


class MisusedLater(click.UsageError):
    """A command line the mail server's pipe got wrong: it keeps the message (exit status 75)
    until someone corrects its configuration, rather than bouncing it."""

    exit_code = 75


def _failure(ctx: click.Context, sentence: str) -> click.ClickException:
    """Return the exception that ends the command with `sentence` and its exit status."""
    if ctx.invoked_subcommand in TEMPFAIL_COMMANDS:
        return TryLater(sentence)
    return click.ClickException(sentence)


def database_sentence(ctx: click.Context, error: OperationalError) -> str:
    """Say which database cannot be used and why, in the driver's words (its first line)."""
    reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
    app = ctx.find_object(Flask)
    url = db.engine_of(app).url if app else None
    where = f" {url.render_as_string()}" if url else ""
    return f"The database{where} cannot be used: {reason}. {_hint(url)}"


def _hint(url: URL | None) -> str:
    """Say what to check: the URL, and the SQLite file's folder or the database server."""
    if url is not None and url.get_backend_name() == "sqlite":
        return "Check CAMPAIGN_DATABASE_URL, and that the file's folder exists and is writable."
    return "Check CAMPAIGN_DATABASE_URL, and that the database server runs and lets you in."


def file_sentence(error: OSError) -> str:
    """Say which file could not be read or written, and why."""
    return f"{error.filename}: {error.strerror or error}."
