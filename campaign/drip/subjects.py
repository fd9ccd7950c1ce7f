"""The subjects of a participant's coming steps, filled in as their mail will be.

A step not yet queued is shown by its subject, rendered for the participant with the sending
path's renderer and placeholders (campaign/drip/materialize.py `context_for`); a step that does
not render for them is shown with a note saying why, never as an error page.
"""

from __future__ import annotations

from dataclasses import dataclass

import jinja2
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.drip.files import EVENT_ANCHORS
from campaign.drip.materialize import Enrolled, context_for, needs_next
from campaign.drip.samples import sample_context
from campaign.drip.schedule import Planned
from campaign.enrolment.models import Participant, PilotGroup
from campaign.network.models import Campaign, Membership, Organisation
from campaign.outbox.compose import render_subject


@dataclass(frozen=True)
class Subject:
    """A step's subject as the participant will get it, or why it cannot be shown."""

    text: str | None
    note: str | None = None


class Subjects:
    """Fills in the subjects of planned steps, reading each member's rows once."""

    def __init__(self, db_session: Session, campaign: Campaign) -> None:
        self.db_session, self.campaign = db_session, campaign
        self._members: dict[int, tuple[Organisation, Membership] | None] = {}

    def of(self, person: Participant, item: Planned) -> Subject:
        """Return the subject of one planned step of `person`."""
        if item.following is None and item.step.anchor in EVENT_ANCHORS and needs_next(item.step):
            return Subject(None, _("Sent only when a later meeting is planned to offer."))
        enrolled = self._enrolled(person)
        if enrolled is None:
            return Subject(None, _("The participant is in no pilot group of a member."))
        context = context_for(enrolled, sample_context()["links"]["unsubscribe"], item.following)
        try:
            return Subject(render_subject(item.step.subject, context))
        except jinja2.TemplateError as error:
            return Subject(None, _("The subject cannot be filled in: %(why)s", why=error))

    def _enrolled(self, person: Participant) -> Enrolled | None:
        """The participant with their group, member and campaign, as materialize reads them."""
        group = self.db_session.get(PilotGroup, person.pilot_group_id or 0)
        member = self._member(person.organisation_id)
        if group is None or member is None:
            return None
        return Enrolled(person, group, member[1], member[0], self.campaign)

    def _member(self, organisation_id: int) -> tuple[Organisation, Membership] | None:
        """The organisation and its membership in the campaign, read once."""
        if organisation_id not in self._members:
            row = self.db_session.execute(
                select(Organisation, Membership)
                .join(Membership, Membership.organisation_id == Organisation.id)
                .where(
                    Organisation.id == organisation_id,
                    Membership.campaign_id == self.campaign.id,
                )
            ).first()
            self._members[organisation_id] = (row[0], row[1]) if row else None
        return self._members[organisation_id]
