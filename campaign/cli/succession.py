"""`campaign create-campaign --from SLUG`: the next campaign, started from one that has run."""

from __future__ import annotations

from datetime import datetime

import click
from flask import Flask
from flask_babel import force_locale
from sqlalchemy.orm import Session

from campaign import db, timing
from campaign.cli.context import campaign_named
from campaign.network.models import Campaign
from campaign.succession import copying, returning


def start_from(app: Flask, source: str, plan: copying.Plan, invite: bool) -> None:
    """Create the campaign of `plan` from the campaign `source` and say what was made; stop
    with the plan's problems in sentences, having written nothing."""
    now = timing.clock_of(app).now()
    with app.app_context(), force_locale("en"), db.open_session(app) as session:
        old = campaign_named(session, source)
        try:
            new = copying.start_next(session, old, plan, None, now)
        except copying.PlanError as error:
            raise click.ClickException(_sentences(error)) from None
        said = _invited(session, old, new, now) if invite else ""
        session.commit()
        click.echo(_started(session, old, new) + said)


def _sentences(error: copying.PlanError) -> str:
    """The plan's problems, each named by its option."""
    options = {"name": "--name", "slug": "--slug", "ends_on": "--starts/--ends"}
    return " ".join(f"{options[field]}: {sentence}" for field, sentence in error.problems.items())


def _invited(session: Session, old: Campaign, new: Campaign, now: datetime) -> str:
    """Invite last time's pilot users; return the sentence that says what happened."""
    if not returning.may_invite(new, now):
        return " The new campaign may not send mail now, so nobody was invited to join again."
    queued = returning.invite_returning(session, old, new, None, now)
    return f" {queued} pilot users of {old.name!r} are invited to join again."


def _started(session: Session, old: Campaign, new: Campaign) -> str:
    members = len(new.memberships)
    return (
        f"Created the campaign {new.name!r} ({new.slug}, {new.starts_on} to {new.ends_on}) from"
        f" {old.name!r}: {members} members with their pilot groups, questionnaires and settings,"
        " no participants."
    )
