"""`campaign create-user` and `campaign import-participants`: people from the command line."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign import db, timing
from campaign.accounts.models import Role, User
from campaign.cli.context import (
    Line,
    address,
    app_of,
    campaign_named,
    campaign_option,
    require_schema,
)
from campaign.enrolment import importing, pilot_groups
from campaign.enrolment.models import (
    ImportRow,
    ImportState,
    ParticipantImport,
    PilotGroup,
    RowOutcome,
)
from campaign.network.models import Campaign, Membership, Organisation
from campaign.security import MIN_PASSWORD_LENGTH, hash_password


@click.command("create-user")
@click.option(
    "--email", required=True, callback=address, help="The person's e-mail address (their login)."
)
@click.option("--name", required=True, type=Line(200), help="The person's full name.")
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
    app = app_of(ctx)
    require_schema(app)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.ClickException(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.")
    account = _NewAccount(email, name, Role(role), language, password)
    with db.open_session(app) as session:
        _add(session, account, org_slug, timing.clock_of(app).now())
    click.echo(f"Created {role} {account.email}.")


@dataclass(frozen=True)
class _NewAccount:
    """A staff account as the command line gives it."""

    email: str
    name: str
    role: Role
    language: str
    password: str

    def user(self, organisation: Organisation | None, now: datetime) -> User:
        """Return the account's row, its password hashed."""
        return User(
            email=self.email,
            name=self.name,
            role=self.role,
            organisation=organisation,
            language=self.language,
            password_hash=hash_password(self.password),
            created_at=now,
        )


def _add(session: Session, account: _NewAccount, org_slug: str | None, now: datetime) -> None:
    """Add the account, of the organisation --org names; stop if the address has one."""
    organisation = _represented(session, account.role, org_slug)
    if session.scalar(select(User).where(User.email == account.email)) is not None:
        raise click.ClickException(f"An account for {account.email} exists already.")
    session.add(account.user(organisation, now))
    session.commit()


def _represented(session: Session, role: Role, org_slug: str | None) -> Organisation | None:
    """Return the organisation named by --org, if any; a member_rep must name one."""
    organisation = None
    if org_slug:
        organisation = session.scalar(select(Organisation).where(Organisation.slug == org_slug))
        if organisation is None:
            raise click.ClickException(f"There is no organisation with the slug {org_slug!r}.")
    if role is Role.MEMBER_REP and organisation is None:
        raise click.ClickException("A member_rep needs --org, the organisation they represent.")
    return organisation


@click.command("import-participants")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@campaign_option
@click.option("--org", "org_slug", required=True, help="The member's slug, e.g. kungalv.")
@click.option("--group", "group_name", required=True, help="The name of one of its pilot groups.")
@click.option("--yes", is_flag=True, help="Import after the preview without asking.")
@click.option("--dry-run", is_flag=True, help="Only show what would happen; write nothing.")
@click.pass_context
def import_participants(
    ctx: click.Context,
    file: Path,
    campaign_slug: str | None,
    org_slug: str,
    group_name: str,
    yes: bool,
    dry_run: bool,
) -> None:
    """Enrol the people of a CSV or XLSX file into a pilot group: preview, then all or nothing."""
    app = app_of(ctx)
    require_schema(app)
    with app.app_context(), db.open_session(app) as session:
        group = _pilot_group(session, campaign_named(session, campaign_slug), org_slug, group_name)
        _refuse_too_large(file)
        now = timing.clock_of(app).now()
        job = _stored(session, group, file, now)
        _read(session, job, file.name)
        with force_locale("en"):
            _print_preview(session, job, importing.REASONS)
        if _wanted(job, yes, dry_run):
            _apply(session, job, now)
        else:
            importing.discard(session, job, now)
            session.commit()
            click.echo("Nothing was written.")


def _refuse_too_large(file: Path) -> None:
    """Stop at a file larger than an upload may be."""
    if file.stat().st_size > importing.MAX_FILE_BYTES:
        with force_locale("en"):
            raise click.ClickException(f"{file.name}: {importing.describe('too_large')}")


def _pilot_group(
    session: Session, campaign: Campaign, org_slug: str, group_name: str
) -> PilotGroup:
    """Return the member's pilot group by name, or stop with a sentence naming what exists."""
    organisation = session.scalar(
        select(Organisation)
        .join(Membership, Membership.organisation_id == Organisation.id)
        .where(Organisation.slug == org_slug, Membership.campaign_id == campaign.id)
    )
    if organisation is None:
        raise click.ClickException(f"{campaign.name} has no member with the slug {org_slug!r}.")
    groups = {g.name: g for g in pilot_groups.of_member(session, campaign.id, organisation.id)}
    if group_name not in groups:
        known = ", ".join(sorted(groups)) or (
            f"none yet; create one with campaign create-group --org {org_slug} --name ..."
        )
        raise click.ClickException(
            f"{organisation.name} has no pilot group {group_name!r} (its groups: {known})."
        )
    return groups[group_name]


def _stored(session: Session, group: PilotGroup, file: Path, now: datetime) -> ParticipantImport:
    """Store the file as a new import of `group` and commit it."""
    job = ParticipantImport(
        campaign_id=group.campaign_id,
        organisation_id=group.organisation_id,
        pilot_group_id=group.id,
        filename=file.name,
        content=file.read_bytes(),
        created_at=now,
    )
    session.add(job)
    session.commit()
    return job


class _ProgressBar:
    """A progress bar on stderr that appears with the first news of the file's size."""

    def __init__(self) -> None:
        self.bar: Any = None

    def __call__(self, read: int, total: int) -> None:
        """Show that `read` of about `total` rows are read."""
        if self.bar is None:
            self.bar = click.progressbar(length=total, label="Reading", file=sys.stderr)
            self.bar.__enter__()
        self.bar.length = max(total, read)
        self.bar.update(read - self.bar.pos)

    def close(self) -> None:
        """Take the bar away, if it appeared."""
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _read(session: Session, job: ParticipantImport, filename: str) -> None:
    """Read the import's rows, showing progress; stop with the reason if the file is unreadable."""
    bar = _ProgressBar()
    importing.read_import(session, job, bar)
    bar.close()
    if job.state is ImportState.FAILED:
        _stop_unreadable(job, filename)


def _stop_unreadable(job: ParticipantImport, filename: str) -> None:
    """Stop with the sentence that says why the file could not be read, and where."""
    with force_locale("en"):
        raise click.ClickException(f"{filename}: {importing.describe(job.error, job.counts)}")


def _wanted(job: ParticipantImport, yes: bool, dry_run: bool) -> bool:
    """Return whether to write the import: something to write, and a yes (asked if not given)."""
    if dry_run or not (job.counts["add"] or job.counts["update"]):
        return False
    question = "Have these people agreed to take part, and shall they be imported?"
    return yes or click.confirm(question)


def _apply(session: Session, job: ParticipantImport, now: datetime) -> None:
    """Write the import as previewed, or say that enrolments changed meanwhile."""
    try:
        applied = importing.apply_import(session, job, None, now)
    except importing.PlanChanged:
        raise click.ClickException(
            "Enrolments changed while you looked at the preview; nothing was written."
            " Run the command again."
        ) from None
    click.echo(f"Imported: {applied.added} added, {applied.updated} updated.")


def _print_preview(session: Session, job: ParticipantImport, reasons: dict[str, Any]) -> None:
    """Print the preview's counts and every rejected row with its reason."""
    click.echo(_counts_text(job))
    if job.counts["ignored_columns"]:
        click.echo(f"Columns left out: {', '.join(job.counts['ignored_columns'])}")
    for row in _rejected(session, job):
        click.echo(_rejected_text(row, reasons))


def _counts_text(job: ParticipantImport) -> str:
    """Say how many rows were read, and what confirming would do with them."""
    counts = job.counts
    return (
        f"{job.rows_total} rows read: {counts['add']} to add, {counts['update']} to update,"
        f" {counts['unchanged']} already enrolled, {counts['reject']} rejected,"
        f" {counts['blank']} blank."
    )


def _rejected_text(row: ImportRow, reasons: dict[str, Any]) -> str:
    """Say which row was rejected and why (naming the earlier row or the other group)."""
    detail = f" ({row.detail})" if row.reason in ("duplicate_in_file", "other_group") else ""
    return f"  row {row.row_number}: {row.email or '(empty)'}: {reasons[row.reason]}{detail}"


def _rejected(session: Session, job: ParticipantImport) -> list[ImportRow]:
    """Return the preview's rejected rows, in the file's order."""
    query = (
        select(ImportRow)
        .where(ImportRow.import_id == job.id, ImportRow.outcome == RowOutcome.REJECT)
        .order_by(ImportRow.row_number)
    )
    return list(session.scalars(query))
