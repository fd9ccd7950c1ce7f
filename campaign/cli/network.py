"""`campaign create-campaign`: a network to work with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import click
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campaign import db, timing
from campaign.cli.context import app_of, require_schema
from campaign.cli.succession import start_from
from campaign.network import members
from campaign.network.members import add_member, slugify
from campaign.network.models import Campaign, MembershipStatus, Organisation, OrganisationKind
from campaign.succession.copying import Plan


def _zone_name(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    if not timing.is_zone_name(value):
        raise click.BadParameter(
            "is not a known time zone; use an IANA name such as Europe/Stockholm"
        )
    return value


def _slug(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is not None and value != slugify(value):
        raise click.BadParameter("may hold only lower-case letters a-z, digits and hyphens")
    return value


@click.command("create-campaign")
@click.option("--name", required=True, help='For example "Resfria möten 2026-2027".')
@click.option("--from", "source", help="Start from this campaign (its slug): members, settings.")
@click.option(
    "--slug", callback=_slug, help="Its name in the addresses of its pages; default: from --name."
)
@click.option(
    "--invite-returning", is_flag=True,
    help="With --from: e-mail last time's pilot users the link to join again.",
)  # fmt: skip
@click.option(
    "--lead",
    "lead_name",
    help="The lead organisation (without --from): an existing one by name, short name or slug,"
    " else a new one.",
)
@click.option(
    "--lead-slug", callback=_slug, help="The lead organisation's slug: an existing or a new one."
)
@click.option("--lead-short", help="Short name of a new lead organisation, for tables.")
@click.option(
    "--lead-kind",
    type=click.Choice([k.value for k in OrganisationKind]),
    default=OrganisationKind.MUNICIPALITY.value,
    show_default=True,
    help="The kind of a new lead organisation.",
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
    ctx: click.Context, source: str | None, invite_returning: bool, **options: Any
) -> None:
    """Create a campaign with its lead organisation (an existing one, or new) as first member,
    or (--from) the next campaign of a network: its members, pilot groups, questionnaires and
    settings."""
    app = app_of(ctx)
    require_schema(app)
    if source:
        return _next_campaign(app, source, invite_returning, options)
    if not options["lead_name"]:
        raise click.ClickException(
            "Give --lead for a new network, or --from SLUG to start from a campaign."
        )
    wanted = _NewCampaign(**options)
    if wanted.ends.date() < wanted.starts.date():
        raise click.ClickException("--ends is before --starts.")
    now = timing.clock_of(app).now()
    with db.open_session(app) as session:
        campaign, lead_is_new = _created(session, wanted, app.config, now)
    click.echo(_created_text(campaign, lead_is_new))


def _next_campaign(app: Flask, source: str, invite_returning: bool, options: Any) -> None:
    """Start the next campaign from `source`; its lead carries over, so --lead is refused."""
    if options["lead_name"] or options["lead_slug"]:
        raise click.ClickException(
            "--lead goes with a new network; with --from the lead carries over."
        )
    name = options["name"]
    plan = Plan(options["slug"] or slugify(name), name, options["starts"].date(),
                options["ends"].date())  # fmt: skip
    start_from(app, source, plan, invite_returning)


@dataclass(frozen=True)
class _NewCampaign:
    """A campaign as the options of create-campaign give it."""

    name: str
    slug: str | None
    lead_name: str
    lead_slug: str | None
    lead_short: str | None
    lead_kind: str
    starts: datetime
    ends: datetime
    timezone: str

    def campaign(self, lead: Organisation, language: str, now: datetime) -> Campaign:
        """Return the campaign's row, led by `lead`."""
        return Campaign(
            slug=self.slug or slugify(self.name),
            name=self.name,
            starts_on=self.starts.date(),
            ends_on=self.ends.date(),
            timezone=self.timezone,
            language=language,
            lead_organisation=lead,
            created_at=now,
        )

    def new_lead(self, now: datetime) -> Organisation:
        """Return a new lead organisation, its slug --lead-slug or made from its short name."""
        short_name = self.lead_short or self.lead_name
        return Organisation(
            slug=self.lead_slug or slugify(short_name),
            name=self.lead_name,
            short_name=short_name,
            kind=OrganisationKind(self.lead_kind),
            created_at=now,
        )


def _created(
    session: Session, wanted: _NewCampaign, config: Any, now: datetime
) -> tuple[Campaign, bool]:
    """Add the campaign and its lead as first member, and commit; stop with a sentence when the
    slug is taken or the lead is not clear. Return it, and whether its lead is new."""
    _refuse_taken_slug(session, wanted.slug or slugify(wanted.name))
    lead = _existing_lead(session, wanted)
    campaign = wanted.campaign(
        lead or wanted.new_lead(now), config["CAMPAIGN_DEFAULT_LANGUAGE"], now
    )
    _add_with_lead(session, campaign, now)
    try:
        session.commit()
    except IntegrityError:
        raise click.ClickException(
            f"The campaign or its lead organisation {campaign.lead_organisation.slug!r} clashes"
            " with one that exists: choose another --slug or --lead-slug."
        ) from None
    return campaign, lead is None


def _refuse_taken_slug(session: Session, slug: str) -> None:
    """Stop with a sentence unless `slug` can name a new campaign."""
    if not slug:
        raise click.ClickException("--name makes no slug of letters and digits: give --slug.")
    if members.campaign_with_slug(session, slug) is not None:
        raise click.ClickException(
            f"A campaign with the slug {slug!r} exists already: choose another with --slug."
        )


def _existing_lead(session: Session, wanted: _NewCampaign) -> Organisation | None:
    """Return the organisation --lead-slug names, or the one --lead names (None: a new one);
    stop with a sentence when --lead names several."""
    if wanted.lead_slug:
        return session.scalar(select(Organisation).where(Organisation.slug == wanted.lead_slug))
    found = members.organisations_named(session, wanted.lead_name)
    if len(found) > 1:
        slugs = ", ".join(o.slug for o in found)
        raise click.ClickException(
            f"{wanted.lead_name!r} could be any of the organisations {slugs}: name the lead"
            " with --lead-slug."
        )
    return found[0] if found else None


def _created_text(campaign: Campaign, lead_is_new: bool) -> str:
    """Say what was created: the campaign, its slug and its lead, new or existing."""
    lead = campaign.lead_organisation
    known = "a new organisation" if lead_is_new else "an organisation that exists already"
    return (
        f"Created the campaign {campaign.name!r} (slug {campaign.slug}, its pages under"
        f" /campaigns/{campaign.slug}/) led by {lead.name} ({lead.slug}, {known})."
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
