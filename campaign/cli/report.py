"""`campaign report`: the joint final report, or its figures, written to a file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click
from flask import Flask

from campaign import db, timing
from campaign.cli.context import (
    app_of,
    campaign_named,
    campaign_option,
    parse_instant,
    require_schema,
)
from campaign.network.models import Campaign

if TYPE_CHECKING:
    from campaign.report.document import Report


@click.command()
@click.option(
    "--format", "fmt", type=click.Choice(["html", "md", "pdf", "csv", "xlsx"]), default="html",
    show_default=True,
)  # fmt: skip
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@campaign_option
@click.option("--language", type=click.Choice(["sv", "en"]), help="Default: the campaign's.")
@click.option(
    "--as-of",
    "as_of_text",
    help="The moment of the data, ISO 8601 (without an offset: the campaign's time); default now.",
)
@click.pass_context
def report(
    ctx: click.Context,
    fmt: str,
    output: Path,
    campaign_slug: str | None,
    language: str | None,
    as_of_text: str | None,
) -> None:
    """Write the joint final report (HTML, Markdown, PDF) or its figures (CSV, XLSX)."""
    from campaign.report import document

    app = app_of(ctx)
    require_schema(app)
    with app.app_context(), db.open_session(app) as session:
        campaign = campaign_named(session, campaign_slug)
        as_of = _as_of(app, campaign, as_of_text)
        click.echo(f"Computing the figures as of {as_of.isoformat()} ...", err=True)
        made = document.build(session, campaign, as_of, language or campaign.language)
        click.echo(f"Writing {fmt.upper()} ...", err=True)
        body = _body(made, campaign, fmt)
    output.write_bytes(body)
    click.echo(_written(output, body, made))


def _written(output: Path, body: bytes, made: Report) -> str:
    """Say what was written where: the file's size and the report's main figures."""
    figures = made.figures
    return (
        f"Wrote {output} ({len(body):,} bytes): {len(figures.members)} members,"
        f" {figures.participants} participants, {figures.trained} trained,"
        f" {figures.outcomes.respondents} follow-up answers counted."
    )


def _as_of(app: Flask, campaign: Campaign, text: str | None) -> datetime:
    """The moment of --as-of (without an offset: in the campaign's zone), or the clock's now."""
    if text:
        return parse_instant(text, zone=ZoneInfo(campaign.timezone))
    return timing.clock_of(app).now()


def _body(made: Report, campaign: Campaign, fmt: str) -> bytes:
    """Return the report (or its figures) in the format asked for."""
    from campaign import exports
    from campaign.report import document

    if fmt in ("csv", "xlsx"):
        header, rows = document.table(made)
        if fmt == "csv":
            return exports.csv_bytes(header, rows)
        return exports.xlsx_bytes(campaign.slug, header, rows)
    if fmt == "pdf":
        return document.pdf(made)
    return (document.html(made) if fmt == "html" else document.markdown(made)).encode()
