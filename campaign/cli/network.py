"""`campaign create-campaign`, `campaign demo` and `campaign simulate`: a network to work with."""

from __future__ import annotations

import secrets
import sys
from datetime import datetime
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign import db, migrations, timing
from campaign.cli.context import app_of, output_file, require_schema
from campaign.cli.succession import start_from
from campaign.network.members import add_member, slugify
from campaign.network.models import Campaign, MembershipStatus, Organisation, OrganisationKind
from campaign.succession.copying import Plan


def _zone_name(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    if not timing.is_zone_name(value):
        raise click.BadParameter(
            "is not a known time zone; use an IANA name such as Europe/Stockholm"
        )
    return value


@click.command("create-campaign")
@click.option("--name", required=True, help='For example "Resfria möten 2026-2027".')
@click.option("--from", "source", help="Start from this campaign (its slug): members, settings.")
@click.option("--slug", help="The new campaign's address name; made from --name if left out.")
@click.option(
    "--invite-returning", is_flag=True,
    help="With --from: e-mail last time's pilot users the link to join again.",
)  # fmt: skip
@click.option("--lead", "lead_name", help="Full name of the lead organisation (without --from).")
@click.option("--lead-short", help="Short name of the lead organisation, for tables.")
@click.option(
    "--lead-kind",
    type=click.Choice([k.value for k in OrganisationKind]),
    default=OrganisationKind.MUNICIPALITY.value,
    show_default=True,
)
@click.option("--starts", type=click.DateTime(["%Y-%m-%d"]), required=True, help="YYYY-MM-DD")
@click.option("--ends", type=click.DateTime(["%Y-%m-%d"]), required=True, help="YYYY-MM-DD")
@click.option(
    "--timezone",
    default=timing.DEFAULT_ZONE_NAME,
    show_default=True,
    callback=_zone_name,
    help="The campaign's time zone: for its sending times and every time shown.",
)
@click.pass_context
def create_campaign(
    ctx: click.Context,
    name: str,
    source: str | None,
    slug: str | None,
    invite_returning: bool,
    lead_name: str | None,
    lead_short: str | None,
    lead_kind: str,
    starts: datetime,
    ends: datetime,
    timezone: str,
) -> None:
    """Create a campaign with its lead organisation as the first member, or (--from) the next
    campaign of a network: its members, pilot groups, questionnaires and settings."""
    app = app_of(ctx)
    require_schema(app)
    if source and lead_name:
        raise click.ClickException(
            "--lead goes with a new network; with --from the lead carries over."
        )
    if source:
        plan = Plan(slug or slugify(name), name, starts.date(), ends.date())
        return start_from(app, source, plan, invite_returning)
    if not lead_name:
        raise click.ClickException(
            "Give --lead for a new network, or --from SLUG to start from a campaign."
        )
    if ends.date() < starts.date():
        raise click.ClickException("--ends is before --starts.")
    now = timing.clock_of(app).now()
    campaign = Campaign(
        slug=slug or slugify(name),
        name=name,
        starts_on=starts.date(),
        ends_on=ends.date(),
        timezone=timezone,
        language=app.config["CAMPAIGN_DEFAULT_LANGUAGE"],
        lead_organisation=_lead(lead_name, lead_short or lead_name, lead_kind, now),
        created_at=now,
    )
    with db.open_session(app) as session:
        _add_with_lead(session, campaign, now)
        session.commit()
    click.echo(f"Created the campaign {name!r} led by {lead_name}.")


def _lead(name: str, short_name: str, kind: str, now: datetime) -> Organisation:
    """Return the new lead organisation, its slug made from its short name."""
    slug = slugify(short_name)
    return Organisation(
        slug=slug, name=name, short_name=short_name, kind=OrganisationKind(kind), created_at=now
    )


def _add_with_lead(session: Session, campaign: Campaign, now: datetime) -> None:
    """Add the campaign and make its lead organisation its first (signed) member."""
    session.add(campaign)
    session.flush()
    lead = campaign.lead_organisation
    add_member(
        session,
        campaign,
        name=lead.name,
        short_name=lead.short_name,
        kind=lead.kind,
        status=MembershipStatus.SIGNED,
        slug=lead.slug,
        now=now,
    )


@click.command()
@click.option(
    "--pilot", is_flag=True, help="Also fill it with an invented pilot that has run (for reports)."
)
@click.pass_context
def demo(ctx: click.Context, pilot: bool) -> None:
    """Load the demo network (seed 004) and print fresh demo credentials."""
    app = app_of(ctx)
    migrations.upgrade(db.engine_of(app))
    load_demo(app)
    if pilot:
        _add_pilot(app)


def _add_pilot(app: Flask) -> None:
    """Fill the demo campaign with an invented pilot, unless it has participants already."""
    from campaign.demo.network import DEMO_SLUG
    from campaign.demo.pilot import simulate_pilot
    from campaign.enrolment.models import Participant

    with app.app_context(), db.open_session(app) as session:
        campaign = session.scalars(select(Campaign).where(Campaign.slug == DEMO_SLUG)).one()
        if session.scalar(select(Participant.id).where(Participant.campaign_id == campaign.id)):
            raise click.ClickException("The demo campaign has participants already.")
        added = simulate_pilot(session, campaign)
        session.commit()
    click.echo(f"Added an invented pilot: {added} pilot users with mail, training, answers.")


def load_demo(app: Flask) -> None:
    """Load the demo network and print its accounts with fresh passwords."""
    from campaign.demo.network import DEMO_ACCOUNTS
    from campaign.demo.network import load_demo as load

    passwords = {email: secrets.token_urlsafe(12) for email, *_ in DEMO_ACCOUNTS}
    with db.open_session(app) as session:
        summary = load(session, passwords, timing.clock_of(app).now())
        session.commit()
    click.echo(summary)
    click.echo("Demo accounts (passwords are new each time the demo is loaded):")
    for email, _name, role, _org in DEMO_ACCOUNTS:
        click.echo(f"  {role:<11} {email:<28} {passwords[email]}")


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
