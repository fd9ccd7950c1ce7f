"""`campaign create-group`: a member's pilot group from the command line, as the web UI makes
one (campaign/enrolment/pilot_groups.py), so that `import-participants` can fill it."""

from __future__ import annotations

import shlex
from datetime import date, datetime

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign import db, timing
from campaign.cli.context import Line, app_of, campaign_named, campaign_option, require_schema
from campaign.drip.files import load_sequences
from campaign.enrolment import pilot_groups
from campaign.enrolment.models import PilotGroup, PilotGroupKind
from campaign.network import phases
from campaign.network.models import Campaign, Membership, Organisation

NO_MAIL = "none"  # --sequence none: the group's participants get no sequence mail


@click.command("create-group")
@campaign_option
@click.option("--org", "org_slug", required=True, help="The member's slug, e.g. kungalv.")
@click.option(
    "--name", required=True, type=Line(200),
    help="The group's name, not yet used by the member's groups in this campaign.",
)  # fmt: skip
@click.option(
    "--starts", required=True, type=click.DateTime(["%Y-%m-%d"]), metavar="YYYY-MM-DD",
    help="The day the sequence's e-mails count from; within the campaign.",
)  # fmt: skip
@click.option(
    "--sequence", default="pilot-group", show_default=True,
    help=f"The e-mail sequence (a folder of sequences/); {NO_MAIL!r} for no e-mails.",
)  # fmt: skip
@click.option(
    "--kind", type=click.Choice([k.value for k in PilotGroupKind]),
    default=PilotGroupKind.PROJECT_GROUP.value, show_default=True,
)  # fmt: skip
@click.pass_context
def create_group(
    ctx: click.Context,
    campaign_slug: str | None,
    org_slug: str,
    name: str,
    starts: datetime,
    sequence: str,
    kind: str,
) -> None:
    """Create a member's pilot group, to fill with `campaign import-participants`."""
    app = app_of(ctx)
    require_schema(app)
    fields = pilot_groups.GroupFields(
        name=" ".join(name.split()), kind=PilotGroupKind(kind), starts_on=starts.date(),
        sequence_name=_sequence(sequence),
    )  # fmt: skip
    with app.app_context(), db.open_session(app) as session:
        campaign = campaign_named(session, campaign_slug)
        now = timing.clock_of(app).now()
        _refuse_read_only(campaign, now)
        group = _new_group(session, campaign, _member(session, campaign, org_slug), fields)
        pilot_groups.save(session, group, fields, None, now)
        session.commit()
        click.echo(_created(campaign, org_slug, group))


def _sequence(name: str) -> str | None:
    """Return the sequence's name (None for no e-mails); stop unless it is on file."""
    if name == NO_MAIL:
        return None
    sequences, _problems = load_sequences()
    if name not in sequences:
        known = ", ".join(sorted(sequences)) or "none"
        raise click.BadParameter(
            f"there is no e-mail sequence {name!r} (the sequences: {known};"
            f" {NO_MAIL} for no e-mails)",
            param_hint="--sequence",
        )
    return name


def _refuse_read_only(campaign: Campaign, now: datetime) -> None:
    """Stop when the campaign is archived or purged: nothing in it may change."""
    if phases.phase_of(campaign, now).is_read_only:
        raise click.ClickException(
            f"{campaign.name} is archived: nothing in it can change (`campaign reopen` first)."
        )


def _member(session: Session, campaign: Campaign, org_slug: str) -> Organisation:
    """Return the campaign's member with the slug, or stop with a sentence naming the members."""
    organisation = session.scalar(
        select(Organisation)
        .join(Membership, Membership.organisation_id == Organisation.id)
        .where(Organisation.slug == org_slug, Membership.campaign_id == campaign.id)
    )
    if organisation is None:
        slugs = ", ".join(sorted(m.organisation.slug for m in campaign.memberships))
        raise click.ClickException(
            f"{campaign.name} has no member with the slug {org_slug!r} (its members: {slugs})."
        )
    return organisation


def _new_group(
    session: Session, campaign: Campaign, org: Organisation, fields: pilot_groups.GroupFields
) -> PilotGroup:
    """Return the new group, unsaved; stop if its day is outside the campaign or its name is
    taken by another of the member's groups."""
    _refuse_outside(campaign, fields.starts_on)
    group = PilotGroup(campaign_id=campaign.id, organisation_id=org.id)
    if pilot_groups.name_taken(session, group, fields.name):
        raise click.BadParameter(
            f"{org.name} already has a pilot group named {fields.name!r}", param_hint="--name"
        )
    return group


def _refuse_outside(campaign: Campaign, day: date) -> None:
    """Stop unless `day` is one of the campaign's days."""
    if not campaign.starts_on <= day <= campaign.ends_on:
        raise click.BadParameter(
            f"{day} is not within {campaign.name}, which runs from {campaign.starts_on}"
            f" to {campaign.ends_on}",
            param_hint="--starts",
        )


def _created(campaign: Campaign, org_slug: str, group: PilotGroup) -> str:
    """Say which group was made, and the command that fills it."""
    sequence = group.sequence_name or "no e-mails"
    fill = shlex.join(
        ["campaign", "import-participants", "FILE.csv", "--campaign", campaign.slug,
         "--org", org_slug, "--group", group.name]
    )  # fmt: skip
    return (
        f"Created the pilot group {group.name!r} (id {group.id}) of {org_slug} in"
        f" {campaign.name}, starting {group.starts_on}, sequence {sequence}.\n"
        f"Fill it with people who have agreed: {fill}"
    )
