"""`campaign worker`, `campaign tick` and `campaign sequences`: the jobs and what they send."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from campaign import db, jobs
from campaign.cli.context import (
    app_of,
    campaign_named,
    campaign_option,
    configure_logging,
    parse_instant,
    require_schema,
)

if TYPE_CHECKING:
    from campaign.drip.files import Problem


@click.command()
@click.option(
    "--only",
    multiple=True,
    type=click.Choice([job.name for job in jobs.JOBS]),
    help="Run only this job (repeat for more), e.g. extra dispatch workers beside one that"
    " runs them all, or the senders of a simulation whose driver runs the other jobs.",
)
@click.pass_context
def worker(ctx: click.Context, only: tuple[str, ...]) -> None:
    """Run the scheduler's jobs only (no web UI), until stopped."""
    app = app_of(ctx)
    configure_logging()
    require_schema(app)
    names = f" ({', '.join(only)} only)" if only else ""
    click.echo(f"The scheduler is running{names} (Ctrl+C stops).")
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        jobs.build_scheduler(app, blocking=True, only=frozenset(only)).start()


@click.command()
@click.option(
    "--now", "now_text", help="Run as if it were this ISO time, e.g. 2014-05-02T08:00+02:00."
)
@click.pass_context
def tick(ctx: click.Context, now_text: str | None) -> None:
    """Run every scheduler job once (for cron, or to look at what would happen).

    A --now in the future is refused while a scheduler runs.
    """
    app = app_of(ctx)
    require_schema(app)
    now = parse_instant(now_text, "--now") if now_text else None
    try:
        results = jobs.tick(app, now)
    except jobs.SchedulerRunning as refusal:
        raise click.ClickException(str(refusal)) from None
    _print_results(results)
    if not all(results.values()):
        sys.exit(1)


def _print_results(results: dict[str, bool]) -> None:
    """Print how each job went."""
    for name, ok in results.items():
        click.echo(f"{name}: {'ok' if ok else 'skipped or failed (see the log)'}")


@click.group()
def sequences() -> None:
    """Work with the e-mail sequences in campaign/sequences/."""


@sequences.command("check")
@click.option(
    "--path",
    "root",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Check the sequences in this folder instead of the shipped ones.",
)
@campaign_option
@click.pass_context
def check_sequences(ctx: click.Context, root: Path | None, campaign_slug: str | None) -> None:
    """Load every sequence and render every step; list each problem with its file and line,
    and warn of each optional placeholder used without a fallback. With --campaign, check the
    campaign's own copies (or the --path folder's files) and the questionnaires, questions,
    options and milestones they name against the campaign's; without, say which of those names
    were not checked."""
    from campaign.drip.check import check
    from campaign.drip.fallbacks import warnings
    from campaign.drip.files import SEQUENCES_DIR

    if campaign_slug is not None and root is None:
        _report(*_campaign_copies(ctx, campaign_slug), [])
        return
    count, problems = check(root or SEQUENCES_DIR)
    if not count and not problems:
        raise click.ClickException(f"{root or SEQUENCES_DIR} holds no sequence steps to check.")
    problems += _named_problems(ctx, root or SEQUENCES_DIR, campaign_slug)
    _report(count, problems, warnings(root or SEQUENCES_DIR))


def _report(count: int, problems: list[Problem], warned: list[Problem]) -> None:
    """Print each problem and warning; fail when there is a problem."""
    for problem in [*problems, *warned]:
        click.echo(str(problem), err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) in {count} step(s).")
    click.echo(
        f"{count} steps checked: no problems" + (f", {len(warned)} warning(s)." if warned else ".")
    )


def _campaign_copies(ctx: click.Context, slug: str) -> tuple[int, list[Problem]]:
    """Check the campaign's own copy of each sequence as saving one checks it; return how many
    steps were read and the problems."""
    from campaign.drip import stored

    app = app_of(ctx)
    require_schema(app)
    with app.app_context(), db.open_session(app) as session:
        campaign_id = campaign_named(session, slug).id
        copies = stored.copies(session, campaign_id).values()
        problems = [
            p
            for copy in copies
            for p in stored.problems_of(session, campaign_id, copy.name, copy.files)
        ]
    count = sum(len(steps) for copy in copies for steps in copy.sequence.steps.values())
    return count, problems


def _named_problems(ctx: click.Context, root: Path, slug: str | None) -> list[Problem]:
    """The campaign's problems with the names the steps give; without a campaign, none, and a
    line naming those left unchecked."""
    from campaign.drip import known
    from campaign.drip.files import load_sequences

    sequences, _problems = load_sequences(root)
    if slug is None:
        if names := known.unchecked(sequences.values()):
            click.echo(f"Not checked without --campaign: {', '.join(names)}.")
        return []
    app = app_of(ctx)
    require_schema(app)
    with app.app_context(), db.open_session(app) as session:
        found = known.known_in(session, campaign_named(session, slug).id)
        return [p for sequence in sequences.values() for p in known.problems(sequence, found)]
