"""What the announcement form offers a user to choose from: the campaign's members, pilot
groups, meetings and questionnaires that the user may see (a representative: their own)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from wtforms.fields import SelectChoice

from campaign import labels
from campaign.announcements.forms import AnnouncementForm
from campaign.enrolment.models import ParticipantStatus, PilotGroup
from campaign.events.models import Audience, Event
from campaign.network.models import Campaign, Membership, Organisation
from campaign.surveys.models import Questionnaire
from campaign.timing import day_text

NONE = SelectChoice("", "–")  # the empty choice of a select: no criterion


def offer(db_session: Session, form: AnnouncementForm, campaign: Campaign, own: int | None) -> None:
    """Fill the form's choices for a user of the campaign: `own` is a representative's member,
    None for the lead administrator (every member)."""
    form.organisations.choices = [] if own is not None else _members(db_session, campaign)
    if own is not None:  # fixed to their own: whatever member was sent is not theirs to choose
        form.organisations.data = []
    form.groups.choices = _groups(db_session, campaign, own)
    form.statuses.choices = labels.choices(ParticipantStatus)
    meetings = [NONE, *_events(db_session, campaign, own)]
    form.attended.choices = form.absent.choices = meetings
    questionnaires = [NONE, *_questionnaires(db_session, campaign)]
    form.answered.choices = form.unanswered.choices = questionnaires


def _members(db_session: Session, campaign: Campaign) -> list[SelectChoice]:
    rows = db_session.execute(
        select(Organisation.id, Organisation.name)
        .join(Membership, Membership.organisation_id == Organisation.id)
        .where(Membership.campaign_id == campaign.id)
        .order_by(Organisation.name)
    )
    return [SelectChoice(id_, name) for id_, name in rows]


def _groups(db_session: Session, campaign: Campaign, own: int | None) -> list[SelectChoice]:
    statement = (
        select(PilotGroup.id, PilotGroup.name, Organisation.short_name)
        .join(Organisation, Organisation.id == PilotGroup.organisation_id)
        .where(PilotGroup.campaign_id == campaign.id)
        .order_by(Organisation.short_name, PilotGroup.name)
    )
    if own is not None:
        statement = statement.where(PilotGroup.organisation_id == own)
    return [
        SelectChoice(id_, f"{name} ({short})") for id_, name, short in db_session.execute(statement)
    ]


def _events(db_session: Session, campaign: Campaign, own: int | None) -> list[SelectChoice]:
    statement = select(Event).where(Event.campaign_id == campaign.id).order_by(Event.starts_at)
    if own is not None:  # their own, and those for the whole network
        network = Event.audience.in_((Audience.CAMPAIGN, Audience.WORKING_GROUP))
        statement = statement.where(or_(Event.organisation_id == own, network))
    zone = ZoneInfo(campaign.timezone)
    events = db_session.scalars(statement)
    return [
        SelectChoice(e.id, f"{e.title}, {day_text(e.starts_at.astimezone(zone).date())}")
        for e in events
    ]


def _questionnaires(db_session: Session, campaign: Campaign) -> list[SelectChoice]:
    found = db_session.scalars(
        select(Questionnaire)
        .where(Questionnaire.campaign_id == campaign.id)
        .order_by(Questionnaire.id)
    )
    return [SelectChoice(q.id, labels.questionnaire_title(q)) for q in found]
