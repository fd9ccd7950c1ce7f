"""`campaign report`: the joint final report, or its figures, written to a file."""

from __future__ import annotations

import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import click
from flask import Flask

from campaign import db, timing
from campaign.audit import record
from campaign.cli.context import (
    app_of,
    campaign_named,
    campaign_option,
    output_file,
    parse_instant,
    require_schema,
)
from campaign.network.models import Campaign

if TYPE_CHECKING:
    from campaign.report.bundle import Bundle, Part
    from campaign.report.document import Report


@click.command()
@click.option(
    "--format", "fmt", type=click.Choice(["html", "md", "pdf", "csv", "xlsx"]), default="html",
    show_default=True,
)  # fmt: skip
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
    callback=output_file,
)  # fmt: skip
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
        body = _body(made, campaign, fmt, language or campaign.language)
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


def _body(made: Report, campaign: Campaign, fmt: str, language: str) -> bytes:
    """Return the report (or its figures) in the format asked for, in `language`'s way."""
    from campaign import exports
    from campaign.report import document

    if fmt in ("csv", "xlsx"):
        header, rows = document.table(made)
        zone = ZoneInfo(campaign.timezone)
        if fmt == "csv":
            return exports.csv_bytes(header, rows, language, zone)
        return exports.xlsx_bytes(campaign.slug, header, rows, zone)
    if fmt == "pdf":
        return document.pdf(made)
    return (document.html(made) if fmt == "html" else document.markdown(made)).encode()


@click.command()
@campaign_option
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
    help="The ZIP file to write, e.g. resfria-moten-slutrapport-2015-03-31.zip.",
)  # fmt: skip
@click.pass_context
def export(ctx: click.Context, campaign_slug: str | None, output: Path) -> None:
    """Write the final bundle (ZIP): report, figures, answers, facts, audit log, sequences."""
    from campaign.report.bundle import Bundle

    app = app_of(ctx)
    require_schema(app)
    if not output.parent.is_dir():
        raise click.ClickException(f"There is no folder {output.parent} to write the bundle in.")
    with app.app_context(), db.open_session(app) as session:
        campaign = campaign_named(session, campaign_slug)
        made = Bundle(session, campaign, timing.clock_of(app).now())
        files = _write_bundle(made, output)
        record(session, None, "campaign.bundle_exported", target=output.name, files=files,
               via="command line", campaign_id=campaign.id)  # fmt: skip
        session.commit()
    click.echo(f"Wrote {output} ({output.stat().st_size:,} bytes, {files} files).")


def _write_bundle(made: Bundle, output: Path) -> int:
    """Write the bundle beside `output` with a progress bar, then put it in place; return the
    number of files in it. An error leaves no half-written file."""
    from campaign.report.bundle import PdfUnavailable

    spool = tempfile.NamedTemporaryFile(dir=output.parent, suffix=".part", delete=False)  # noqa: SIM115 - renamed or removed below
    try:
        with spool, _progress(made.parts()) as parts:
            files = len(made.write(spool, parts))
        Path(spool.name).replace(output)
    except PdfUnavailable:
        raise click.ClickException(
            "The PDF could not be made: weasyprint needs the Pango library"
            " (Debian: libpangoft2-1.0-0)."
        ) from None
    finally:
        Path(spool.name).unlink(missing_ok=True)  # gone already once put in place
    return files


def _progress(parts: list[Part]) -> Any:
    """A progress bar on stderr over the parts, naming the one being written."""
    return click.progressbar(
        parts, label="Writing the bundle", file=sys.stderr,
        item_show_func=lambda part: part.label if part else None,
    )  # fmt: skip
