"""`campaign simulate`: a whole campaign in accelerated time, thrown away or kept to be served."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from campaign import timing
from campaign.cli.context import app_of, output_file

if TYPE_CHECKING:  # the simulation's modules load when it runs, not with every command
    from campaign.demo.simulation import Progress, Summary

EVERY_SECONDS = 5.0  # how often a progress line is printed when stderr is not a terminal


@click.command()
@click.option("--members", default=5, show_default=True, type=click.IntRange(1, 500))
@click.option(
    "--participants", default=200, show_default=True, type=click.IntRange(1, 100_000),
    help="Pilot users in all, shared evenly among the members (200 with 5 members: 40 each).",
)  # fmt: skip
@click.option("--days", default=200, show_default=True, type=click.IntRange(1, 800))
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
    default=Path("simulation-report.html"), show_default=True, callback=output_file,
    help="The final report; .pdf for a PDF, .zip for the whole final bundle, else HTML.",
)  # fmt: skip
@click.option("--seed", default=2014, show_default=True, type=int)
@click.option(
    "--keep", type=click.Path(path_type=Path), metavar="DIR",
    help="Keep the campaign in DIR (a new or empty folder), with every mail in DIR/maildir,"
    " to open with `CAMPAIGN_INSTANCE_PATH=DIR campaign serve`; its days end now.",
)  # fmt: skip
@click.pass_context
def simulate(
    ctx: click.Context,
    members: int,
    participants: int,
    days: int,
    output: Path,
    seed: int,
    keep: Path | None,
) -> None:
    """Run a whole campaign in accelerated time, then write its report.

    The real jobs, the real dispatcher and SMTP to a local sink; invented people answer. The
    campaign runs in a throwaway database from the first Monday after 20 February 2014 (the
    same days each run), or, with --keep, kept in DIR over the days that end now.
    """
    from campaign.demo import simulation

    per_member = _shares(participants, members)
    keep = _kept_folder(keep)
    ends_at = timing.clock_of(app_of(ctx)).now() if keep else None
    with _progress(days) as progress:
        summary = simulation.run(
            members=members, per_member=per_member, days=days, output=output,
            seed=seed, ends_at=ends_at, keep=keep, progress=progress,
        )  # fmt: skip
    click.echo(_outcome(summary, per_member))
    if keep:
        click.echo(_how_to_open(summary, keep))


def _shares(participants: int, members: int) -> list[int]:
    """Return each member's pilot users; stop with a sentence if some member would have none."""
    from campaign.demo.simulation import split

    if participants < members:
        raise click.BadParameter(
            f"{participants} pilot users cannot be shared among {members} members:"
            " give at least one for each member",
            param_hint="--participants",
        )
    return split(participants, members)


def _kept_folder(keep: Path | None) -> Path | None:
    """Return the folder to keep the campaign in, made absolute; refuse one that is in use."""
    from campaign.demo import kept

    if keep is None:
        return None
    reason = kept.unusable(keep)
    if reason:
        raise click.ClickException(reason)
    return keep.absolute()


@contextmanager
def _progress(days: int) -> Iterator[Callable[[Progress], None]]:
    """Yield what shows the progress: a bar on a terminal, else a line every few seconds."""
    if not sys.stderr.isatty():
        yield _Lines()
        return
    with click.progressbar(length=days, label="Simulating days", file=sys.stderr) as bar:
        yield lambda done: bar.update(done.day - bar.pos)


class _Lines:
    """Progress as a line every EVERY_SECONDS, and at the end: for a log or a pipe, where a
    progress bar shows nothing."""

    def __init__(self) -> None:
        self.printed_at = time.monotonic()  # wall time between lines, not the campaign's clock

    def __call__(self, done: Progress) -> None:
        """Print how far the simulation is, when it is time to."""
        if done.day < done.days and time.monotonic() - self.printed_at < EVERY_SECONDS:
            return
        click.echo(f"day {done.day} of {done.days}, {done.mails} mails sent", err=True)
        self.printed_at = time.monotonic()


def _outcome(summary: Summary, per_member: list[int]) -> str:
    """Say what the simulation did, over which days, and where the report is."""
    s = summary
    return (
        f"{s.members} members, {s.participants} pilot users in all ({_each(per_member)} per"
        f" member), {s.period.start} to {s.period.last_day}: {s.delivered} e-mails delivered"
        f" to them ({s.received_by_sink} mails reached the SMTP sink in all), {s.trained}"
        f" trained, {s.answers} follow-up answers counted. Report: {s.report}"
    )


def _each(per_member: list[int]) -> str:
    """Say how many pilot users a member had: "40", or "39-40" when they could not be even."""
    fewest, most = per_member[-1], per_member[0]
    return f"{most}" if fewest == most else f"{fewest}-{most}"


def _how_to_open(summary: Summary, folder: Path) -> str:
    """Say where the kept campaign is, the command that serves it, and how to sign in."""
    from campaign.demo import kept

    assert summary.account is not None
    lines = [
        f"The campaign is kept in {folder}, its {summary.received_by_sink} mails in"
        f" {kept.maildir(folder)}. Open it with:",
        f"  CAMPAIGN_INSTANCE_PATH={shlex.quote(str(folder))} {_program()} serve",
        f"and sign in as {summary.account.email} with the password {summary.account.password}.",
    ]
    for name in kept.overriding(dict(os.environ)):
        lines.append(f"{name} is set here (environment or .env) and would win over the"
                     " folder's setting: unset it first.")  # fmt: skip
    return "\n".join(lines)


def _program() -> str:
    """Return the command that runs this program again: `campaign` when that is the one on the
    PATH, else its path (or `python -m campaign`)."""
    started = Path(sys.argv[0]).absolute()
    if started.name == "__main__.py":
        return f"{shlex.quote(sys.executable)} -m campaign"
    on_path = shutil.which("campaign")
    if on_path and Path(on_path).absolute() == started:
        return "campaign"
    return shlex.quote(str(started)) if started.name == "campaign" else "campaign"
