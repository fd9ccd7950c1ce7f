"""The `campaign` command: set up the database, create accounts, serve, tick the clock."""

from __future__ import annotations

import contextlib
import logging
import secrets
import sys
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import select

from campaign import create_app, db, jobs, migrations, timing
from campaign.accounts.models import Role, User
from campaign.config import ConfigError
from campaign.network.models import MembershipStatus, Organisation, OrganisationKind
from campaign.security import MIN_PASSWORD_LENGTH, hash_password


def _app(ctx: click.Context) -> Flask:
    return ctx.find_object(Flask)  # type: ignore[return-value]


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Run a network-wide pilot-group campaign."""
    if isinstance(ctx.obj, Flask):  # handed in by tests
        return
    try:
        ctx.obj = create_app()
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


@main.command("init-db")
@click.pass_context
def init_db(ctx: click.Context) -> None:
    """Create the schema, or upgrade it to the newest version."""
    app = _app(ctx)
    migrations.upgrade(db.engine_of(app))
    click.echo(f"The database is up to date: {db.engine_of(app).url.render_as_string()}")


@main.command("create-user")
@click.option("--email", required=True, help="The person's e-mail address (their login).")
@click.option("--name", required=True, help="The person's full name.")
@click.option(
    "--role", type=click.Choice([r.value for r in Role]), required=True, help="What they may do."
)
@click.option("--org", "org_slug", help="The organisation a member_rep represents (its slug).")
@click.option("--language", type=click.Choice(["sv", "en"]), default="sv", show_default=True)
@click.password_option(help="Asked for when not given; at least 12 characters.")
@click.pass_context
def create_user(
    ctx: click.Context,
    email: str,
    name: str,
    role: str,
    org_slug: str | None,
    language: str,
    password: str,
) -> None:
    """Create a staff account."""
    app = _app(ctx)
    _require_schema(app)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.ClickException(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.")
    with db.open_session(app) as session:
        organisation = None
        if org_slug:
            organisation = session.scalar(select(Organisation).where(Organisation.slug == org_slug))
            if organisation is None:
                raise click.ClickException(f"There is no organisation with the slug {org_slug!r}.")
        if Role(role) is Role.MEMBER_REP and organisation is None:
            raise click.ClickException("A member_rep needs --org, the organisation they represent.")
        email = email.strip().lower()
        if session.scalar(select(User).where(User.email == email)) is not None:
            raise click.ClickException(f"An account for {email} exists already.")
        session.add(
            User(
                email=email,
                name=name,
                role=Role(role),
                organisation=organisation,
                language=language,
                password_hash=hash_password(password),
            )
        )
        session.commit()
    click.echo(f"Created {role} {email}.")


@main.command("create-campaign")
@click.option("--name", required=True, help='For example "Resfria möten 2026-2027".')
@click.option("--lead", "lead_name", required=True, help="Full name of the lead organisation.")
@click.option("--lead-short", help="Short name of the lead organisation, for tables.")
@click.option(
    "--lead-kind",
    type=click.Choice([k.value for k in OrganisationKind]),
    default=OrganisationKind.MUNICIPALITY.value,
    show_default=True,
)
@click.option("--starts", type=click.DateTime(["%Y-%m-%d"]), required=True, help="YYYY-MM-DD")
@click.option("--ends", type=click.DateTime(["%Y-%m-%d"]), required=True, help="YYYY-MM-DD")
@click.pass_context
def create_campaign(
    ctx: click.Context,
    name: str,
    lead_name: str,
    lead_short: str | None,
    lead_kind: str,
    starts: datetime,
    ends: datetime,
) -> None:
    """Create a campaign with its lead organisation as the first member."""
    from campaign.network.members import add_member, slugify
    from campaign.network.models import Campaign

    app = _app(ctx)
    _require_schema(app)
    if ends.date() < starts.date():
        raise click.ClickException("--ends is before --starts.")
    with db.open_session(app) as session:
        campaign = Campaign(
            slug=slugify(name),
            name=name,
            starts_on=starts.date(),
            ends_on=ends.date(),
            timezone=app.config["CAMPAIGN_TIMEZONE"],
            language=app.config["CAMPAIGN_DEFAULT_LANGUAGE"],
            lead_organisation=Organisation(
                slug=slugify(lead_short or lead_name),
                name=lead_name,
                short_name=lead_short or lead_name,
                kind=OrganisationKind(lead_kind),
            ),
        )
        session.add(campaign)
        session.flush()
        add_member(
            session,
            campaign,
            name=lead_name,
            short_name=lead_short or lead_name,
            kind=OrganisationKind(lead_kind),
            status=MembershipStatus.SIGNED,
            slug=campaign.lead_organisation.slug,
        )
        session.commit()
    click.echo(f"Created the campaign {name!r} led by {lead_name}.")


@main.command()
@click.option(
    "--pilot", is_flag=True, help="Also fill it with an invented pilot that has run (for reports)."
)
@click.pass_context
def demo(ctx: click.Context, pilot: bool) -> None:
    """Load the demo network (seed 004) and print fresh demo credentials."""
    app = _app(ctx)
    migrations.upgrade(db.engine_of(app))
    _load_demo(app)
    if pilot:
        from campaign.enrolment.models import Participant
        from campaign.network.demo import DEMO_SLUG, simulate_pilot
        from campaign.network.models import Campaign

        with app.app_context(), db.open_session(app) as session:
            campaign = session.scalars(select(Campaign).where(Campaign.slug == DEMO_SLUG)).one()
            if session.scalar(select(Participant.id).where(Participant.campaign_id == campaign.id)):
                raise click.ClickException("The demo campaign has participants already.")
            added = simulate_pilot(session, campaign)
            session.commit()
        click.echo(f"Added an invented pilot: {added} pilot users with mail, training, answers.")


def _load_demo(app: Flask) -> None:
    from campaign.network.demo import DEMO_ACCOUNTS, load_demo

    passwords = {email: secrets.token_urlsafe(12) for email, *_ in DEMO_ACCOUNTS}
    with db.open_session(app) as session:
        summary = load_demo(session, passwords)
        session.commit()
    click.echo(summary)
    click.echo("Demo accounts (passwords are new each time the demo is loaded):")
    for email, _name, role, _org in DEMO_ACCOUNTS:
        click.echo(f"  {role:<11} {email:<28} {passwords[email]}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--demo", "with_demo", is_flag=True, help="Load the demo network first.")
@click.option("--threads", default=8, show_default=True, type=int)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, with_demo: bool, threads: int) -> None:
    """Upgrade the database, then run the web UI and the scheduler in one process."""
    import waitress

    app = _app(ctx)
    _configure_logging()
    migrations.upgrade(db.engine_of(app))
    if with_demo:
        _load_demo(app)
    scheduler = jobs.build_scheduler(app, blocking=False)
    scheduler.start()
    click.echo(f"Serving on http://{host}:{port}/ with the scheduler (Ctrl+C stops).")
    try:
        waitress.serve(app, host=host, port=port, threads=threads, ident="campaign")
    finally:
        scheduler.shutdown(wait=False)


@main.command()
@click.pass_context
def worker(ctx: click.Context) -> None:
    """Run the scheduler's jobs only (no web UI), until stopped."""
    app = _app(ctx)
    _configure_logging()
    _require_schema(app)
    click.echo("The scheduler is running (Ctrl+C stops).")
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        jobs.build_scheduler(app, blocking=True).start()


@main.command()
@click.option(
    "--now", "now_text", help="Run as if it were this ISO time, e.g. 2014-05-02T08:00+02:00."
)
@click.pass_context
def tick(ctx: click.Context, now_text: str | None) -> None:
    """Run every scheduler job once (for cron, or to look at what would happen)."""
    app = _app(ctx)
    _require_schema(app)
    now = _parse_instant(now_text, "--now") if now_text else None
    results = jobs.tick(app, now)
    for name, ok in results.items():
        click.echo(f"{name}: {'ok' if ok else 'skipped or failed (see the log)'}")
    if not all(results.values()):
        sys.exit(1)


@main.group()
def sequences() -> None:
    """Work with the e-mail sequences in campaign/sequences/."""


@sequences.command("check")
@click.option(
    "--path",
    "root",
    type=click.Path(file_okay=False, path_type=Path),
    help="Check the sequences in this folder instead of the shipped ones.",
)
def check_sequences(root: Path | None) -> None:
    """Load every sequence and render every step; list each problem with its file and line."""
    from campaign.drip.check import check
    from campaign.drip.files import SEQUENCES_DIR

    count, problems = check(root or SEQUENCES_DIR)
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) in {count} step(s).")
    click.echo(f"{count} steps checked: no problems.")


@main.command("import-participants")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--org", "org_slug", required=True, help="The member's slug, e.g. kungalv.")
@click.option("--group", "group_name", required=True, help="The name of one of its pilot groups.")
@click.option("--yes", is_flag=True, help="Import after the preview without asking.")
@click.option("--dry-run", is_flag=True, help="Only show what would happen; write nothing.")
@click.pass_context
def import_participants(
    ctx: click.Context, file: Path, org_slug: str, group_name: str, yes: bool, dry_run: bool
) -> None:
    """Enrol the people of a CSV or XLSX file into a pilot group: preview, then all or nothing."""
    from campaign.enrolment import importing
    from campaign.enrolment.models import ImportState, ParticipantImport, PilotGroup
    from campaign.network.members import current_campaign

    app = _app(ctx)
    _require_schema(app)
    with app.app_context(), db.open_session(app) as session:
        campaign = current_campaign(session)
        organisation = session.scalar(select(Organisation).where(Organisation.slug == org_slug))
        if campaign is None or organisation is None:
            raise click.ClickException(f"There is no member with the slug {org_slug!r}.")
        groups = {
            g.name: g
            for g in session.scalars(
                select(PilotGroup).where(
                    PilotGroup.organisation_id == organisation.id,
                    PilotGroup.campaign_id == campaign.id,
                )
            )
        }
        if group_name not in groups:
            known = ", ".join(sorted(groups)) or "none yet; create one in the web UI"
            raise click.ClickException(
                f"{organisation.name} has no pilot group {group_name!r} (its groups: {known})."
            )
        if file.stat().st_size > importing.MAX_FILE_BYTES:  # the same limit as an upload
            with force_locale("en"):
                raise click.ClickException(f"{file.name}: {importing.describe('too_large')}")
        now = timing.current_clock().now()
        job = ParticipantImport(
            campaign_id=campaign.id,
            organisation_id=organisation.id,
            pilot_group_id=groups[group_name].id,
            filename=file.name,
            content=file.read_bytes(),
            created_at=now,
        )
        session.add(job)
        session.commit()
        bar: list[Any] = []

        def progress(read: int, total: int) -> None:
            if not bar:
                bar.append(click.progressbar(length=total, label="Reading", file=sys.stderr))
                bar[0].__enter__()
            bar[0].length = max(total, read)
            bar[0].update(read - bar[0].pos)

        importing.read_import(session, job, progress)
        if bar:
            bar[0].__exit__(None, None, None)
        if job.state is ImportState.FAILED:
            with force_locale("en"):
                problem = importing.describe(job.error, job.counts)
                raise click.ClickException(f"{file.name}: {problem}")
        with force_locale("en"):
            _print_preview(session, job, importing.REASONS)
        counts = job.counts
        if dry_run or not (counts["add"] or counts["update"]):
            importing.discard(session, job, now)
            session.commit()
            click.echo("Nothing was written.")
            return
        if not yes and not click.confirm(
            "Have these people agreed to take part, and shall they be imported?"
        ):
            importing.discard(session, job, now)
            session.commit()
            click.echo("Nothing was written.")
            return
        try:
            applied = importing.apply_import(session, job, None, now)
        except importing.PlanChanged:
            raise click.ClickException(
                "Enrolments changed while you looked at the preview; nothing was written."
                " Run the command again."
            ) from None
        click.echo(f"Imported: {applied.added} added, {applied.updated} updated.")


def _print_preview(session: Any, job: Any, reasons: dict[str, Any]) -> None:
    from campaign.enrolment.models import ImportRow, RowOutcome

    counts = job.counts
    click.echo(
        f"{job.rows_total} rows read: {counts['add']} to add, {counts['update']} to update,"
        f" {counts['unchanged']} already enrolled, {counts['reject']} rejected,"
        f" {counts['blank']} blank."
    )
    if counts["ignored_columns"]:
        click.echo(f"Columns left out: {', '.join(counts['ignored_columns'])}")
    rejected = session.scalars(
        select(ImportRow)
        .where(ImportRow.import_id == job.id, ImportRow.outcome == RowOutcome.REJECT)
        .order_by(ImportRow.row_number)
    )
    for row in rejected:
        detail = f" ({row.detail})" if row.reason in ("duplicate_in_file", "other_group") else ""
        click.echo(
            f"  row {row.row_number}: {row.email or '(empty)'}: {reasons[row.reason]}{detail}"
        )


@main.command()
@click.option(
    "--format", "fmt", type=click.Choice(["html", "md", "pdf", "csv", "xlsx"]), default="html",
    show_default=True,
)  # fmt: skip
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--language", type=click.Choice(["sv", "en"]), help="Default: the campaign's.")
@click.option(
    "--as-of",
    "as_of_text",
    help="The moment of the data, ISO 8601 (without an offset: the campaign's time); default now.",
)
@click.pass_context
def report(
    ctx: click.Context, fmt: str, output: Path, language: str | None, as_of_text: str | None
) -> None:
    """Write the joint final report (HTML, Markdown, PDF) or its figures (CSV, XLSX)."""
    from campaign import exports
    from campaign.network.members import current_campaign
    from campaign.report import document

    app = _app(ctx)
    _require_schema(app)
    with app.app_context(), db.open_session(app) as session:
        campaign = current_campaign(session)
        if campaign is None:
            raise click.ClickException(
                "There is no campaign yet: run `campaign demo` or create one."
            )
        as_of = (
            _parse_instant(as_of_text, zone=ZoneInfo(campaign.timezone))
            if as_of_text
            else app.extensions["campaign.clock"].now()
        )
        click.echo(f"Computing the figures as of {as_of.isoformat()} ...", err=True)
        made = document.build(session, campaign, as_of, language or campaign.language)
        click.echo(f"Writing {fmt.upper()} ...", err=True)
        if fmt in ("csv", "xlsx"):
            header, rows = document.table(made)
            body = (
                exports.csv_bytes(header, rows)
                if fmt == "csv"
                else exports.xlsx_bytes(campaign.slug, header, rows)
            )
        elif fmt == "pdf":
            body = document.pdf(made)
        else:
            body = (document.html(made) if fmt == "html" else document.markdown(made)).encode()
    output.write_bytes(body)
    figures = made.figures
    click.echo(
        f"Wrote {output} ({len(body):,} bytes): {len(figures.members)} members,"
        f" {figures.participants} participants, {figures.trained} trained,"
        f" {figures.outcomes.respondents} follow-up answers counted."
    )


@main.command()
@click.option("--members", default=5, show_default=True, type=click.IntRange(1, 500))
@click.option("--participants", default=40, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--days", default=200, show_default=True, type=click.IntRange(1, 800))
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
    default=Path("simulation-report.html"), show_default=True,
    help="The final report; .pdf for a PDF, else HTML.",
)  # fmt: skip
@click.option("--seed", default=2014, show_default=True, type=int)
def simulate(members: int, participants: int, days: int, output: Path, seed: int) -> None:
    """Run a whole campaign in accelerated time in a throwaway database, then write its report.

    Real clock jobs, the real dispatcher and SMTP to a local sink; invented people answer.
    """
    from campaign import simulate as simulation

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


def _parse_instant(text: str, option: str = "--as-of", zone: tzinfo = UTC) -> datetime:
    """An ISO 8601 instant from the command line; without an offset it is taken in `zone`."""
    try:
        return timing.parse_instant(text, zone)
    except ValueError:
        raise click.BadParameter("is not an ISO date-time", param_hint=option) from None


def _require_schema(app: Flask) -> None:
    if not migrations.is_current(db.engine_of(app)):
        raise click.ClickException("The database is not up to date: run `campaign init-db` first.")


def _configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # not a line for every tick
