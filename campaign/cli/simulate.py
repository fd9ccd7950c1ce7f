"""`campaign simulate`: a whole campaign in accelerated time, in a throwaway database."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from campaign.cli.context import output_file


@click.command()
@click.option("--members", default=5, show_default=True, type=click.IntRange(1, 500))
@click.option("--participants", default=40, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--days", default=200, show_default=True, type=click.IntRange(1, 800))
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
    default=Path("simulation-report.html"), show_default=True, callback=output_file,
    help="The final report; .pdf for a PDF, .zip for the whole final bundle, else HTML.",
)  # fmt: skip
@click.option("--seed", default=2014, show_default=True, type=int)
def simulate(members: int, participants: int, days: int, output: Path, seed: int) -> None:
    """Run a whole campaign in accelerated time in a throwaway database, then write its report.

    The real jobs, the real dispatcher and SMTP to a local sink; invented people answer.
    """
    from campaign.demo import simulation

    with click.progressbar(length=days, label="Simulating days", file=sys.stderr) as bar:
        summary = simulation.run(
            members=members,
            participants=participants,
            days=days,
            output=output,
            seed=seed,
            progress=lambda done: bar.update(done - bar.pos),
        )
    click.echo(
        f"{summary.members} members, {summary.participants} pilot users:"
        f" {summary.delivered} e-mails delivered to them ({summary.received_by_sink} mails"
        f" reached the SMTP sink in all), {summary.trained} trained,"
        f" {summary.answers} follow-up answers counted. Report: {summary.report}"
    )
