"""The enrolment blueprint, and the lookups its staff pages share: each finds an object of
`g.organisation` in the request's campaign only, so an id of another member's object, or of
another campaign's, is a 404."""

from __future__ import annotations

from flask import Blueprint, flash, g, request
from flask_babel import gettext as _
from sqlalchemy import select

from campaign import db
from campaign.accounts.scope import of_member
from campaign.enrolment import pilot_groups
from campaign.enrolment.forms import ImportForm, NewParticipantForm
from campaign.enrolment.models import (
    Participant,
    ParticipantImport,
    ParticipantStatus,
    PilotGroup,
)
from campaign.network.models import Campaign

bp = Blueprint("enrolment", __name__)


def group_or_404(group_id: int) -> PilotGroup:
    """Return the member's pilot group with this id."""
    return db.first_or_404(
        select(PilotGroup).where(PilotGroup.id == group_id, of_member(PilotGroup))
    )


def person_or_404(participant_id: int) -> Participant:
    """Return the member's participant with this id (not an erased one)."""
    return db.first_or_404(
        select(Participant).where(
            Participant.id == participant_id,
            of_member(Participant),
            Participant.status != ParticipantStatus.ERASED,
        )
    )


def import_or_404(import_id: int) -> ParticipantImport:
    """Return the member's import with this id."""
    query = select(ParticipantImport).where(ParticipantImport.id == import_id)
    return db.first_or_404(query.where(of_member(ParticipantImport)))


def member_groups(campaign: Campaign) -> list[PilotGroup]:
    """Return the pilot groups of `g.organisation` in the campaign."""
    return pilot_groups.of_member(db.session(), campaign.id, g.organisation.id)


def offer_groups(form: NewParticipantForm | ImportForm, campaign: Campaign) -> bool:
    """Offer the member's pilot groups (the one in ?group= first); False, with a message,
    when it has none yet."""
    groups_here = member_groups(campaign)
    if not groups_here:
        flash(_("Create a pilot group first; every participant belongs to one."), "error")
        return False
    form.pilot_group.choices = [(gr.id, gr.name) for gr in groups_here]
    if request.method == "GET":
        form.pilot_group.data = db.id_from(request.args.get("group"))
    return True
