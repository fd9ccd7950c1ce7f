"""Sending questionnaires and reminding: the `questionnaires` job.

For each active participant the job queues the invitation when its moment comes (the baseline
from the participant's start, the follow-up from the pilot group's start) and then the
reminders (only the latest one due, only while unanswered). Answering writes a receipt at once
(campaign/surveys/service.py), so no reminder goes out after it. Nothing is queued while the
campaign does not mail its participants (campaign/network/phases.py): before its start, a
questionnaire due then is sent at the start; after its end, none is sent, though the links sent
before still open the questionnaire until it closes. A questionnaire copied as a new version
(campaign/surveys/stored.py) waits until the lead administrator starts sending it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.enrolment.mail import addressee_of
from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup
from campaign.network.models import Campaign
from campaign.network.phases import mails_participants
from campaign.outbox.mail import mail_settings, queue_participant_mail
from campaign.outbox.models import Message, MessageKind, MessageState
from campaign.outbox.texts import greeting
from campaign.outbox.wording import campaign_letter
from campaign.surveys import stored
from campaign.surveys.definitions import Definition
from campaign.surveys.models import Questionnaire, QuestionnaireKind, Receipt
from campaign.surveys.service import closes_at, invitation_key, link_token, questionnaires_of
from campaign.timing import local_date, local_instant

People = list[tuple[Participant, PilotGroup]]


@dataclass(frozen=True)
class Mailing:
    """One questionnaire of one campaign, with the mails it has queued so far by key."""

    questionnaire: Questionnaire
    definition: Definition
    zone: ZoneInfo  # the campaign's
    sent: dict[str, tuple[datetime, MessageState]]

    def closes_at(self, sent: datetime) -> datetime:
        return closes_at(self.definition, self.questionnaire, sent, self.zone.key)


def queue_questionnaires(db_session: Session, now: datetime) -> int:
    """Queue the invitations and reminders that have come due; return how many."""
    campaigns = db_session.scalars(select(Campaign)).all()
    mailing = [campaign for campaign in campaigns if mails_participants(campaign, now)]
    return sum(_queue_campaign(db_session, campaign, now) for campaign in mailing)


def _queue_campaign(db_session: Session, campaign: Campaign, now: datetime) -> int:
    people = _active_people(db_session, campaign)
    count = 0
    for questionnaire in questionnaires_of(db_session, campaign, now):
        definition = stored.definition_of(db_session, questionnaire)
        # None: neither stored nor shipped any more; a copy is sent once the lead says so.
        if definition is not None and questionnaire.is_sending:
            sent = _sent(db_session, questionnaire)
            mailing = Mailing(questionnaire, definition, ZoneInfo(campaign.timezone), sent)
            count += _queue_mailing(db_session, mailing, people, now)
    return count


def _active_people(db_session: Session, campaign: Campaign) -> People:
    rows = db_session.execute(
        select(Participant, PilotGroup)
        .join(PilotGroup, PilotGroup.id == Participant.pilot_group_id)
        .where(
            Participant.campaign_id == campaign.id,
            Participant.status == ParticipantStatus.ACTIVE,
        )
    )
    return [(participant, group) for participant, group in rows]


def _sent(
    db_session: Session, questionnaire: Questionnaire
) -> dict[str, tuple[datetime, MessageState]]:
    """The questionnaire's invitations and reminders queued so far: when due, and their state."""
    rows = db_session.execute(
        select(Message.source_key, Message.due_at, Message.state).where(
            Message.source_key.like(f"q:{questionnaire.id}:p%")
        )
    )
    return {key: (due, state) for key, due, state in rows}


def _queue_mailing(db_session: Session, mailing: Mailing, people: People, now: datetime) -> int:
    answered = set(
        db_session.scalars(
            select(Receipt.participant_id).where(
                Receipt.questionnaire_id == mailing.questionnaire.id
            )
        )
    )
    return sum(
        _queue_for(db_session, mailing, participant, group, now)
        for participant, group in people
        if participant.id not in answered
    )


def _queue_for(
    db_session: Session,
    mailing: Mailing,
    participant: Participant,
    group: PilotGroup,
    now: datetime,
) -> int:
    """Queue the participant's invitation or latest reminder if it is due; return 1 if queued."""
    key = invitation_key(mailing.questionnaire, participant.id)
    if key not in mailing.sent:
        due = _invitation_due(mailing, participant, group)
        if due > now or now > mailing.closes_at(due):
            return 0  # not due, or it would be closed before anyone could answer
        return _send(db_session, mailing, participant, key, now)
    reminder = _reminder_key(mailing, key, now)
    if reminder is None or reminder in mailing.sent:
        return 0
    return _send(db_session, mailing, participant, reminder, now)


def _invitation_due(mailing: Mailing, participant: Participant, group: PilotGroup) -> datetime:
    """The baseline comes from the participant's own start, the follow-up from the group's."""
    if mailing.questionnaire.kind is QuestionnaireKind.BASELINE:
        anchor = participant.starts_on or group.starts_on
    else:
        anchor = group.starts_on
    definition = mailing.definition
    return local_instant(definition.after.apply(anchor), definition.at, mailing.zone)


def _reminder_key(mailing: Mailing, key: str, now: datetime) -> str | None:
    """The key of the latest reminder due by `now`; None if none is, or the invitation was
    cancelled or has closed."""
    invited_at, state = mailing.sent[key]
    if state is MessageState.CANCELLED or now >= mailing.closes_at(invited_at):
        return None
    invited_on = local_date(invited_at, mailing.zone.key)
    definition = mailing.definition
    due = [
        n
        for n, offset in enumerate(definition.reminders, start=1)
        if local_instant(offset.apply(invited_on), definition.at, mailing.zone) <= now
    ]
    return f"{key}:r{due[-1]}" if due else None


def _send(
    db_session: Session, mailing: Mailing, participant: Participant, key: str, now: datetime
) -> int:
    """Queue the invitation (key without ":r") or a reminder; return 1 if it is new."""
    reminder = ":r" in key
    addressee = addressee_of(db_session, participant)
    queued = queue_participant_mail(
        db_session,
        addressee,
        campaign_letter(
            db_session,
            addressee.campaign_id,
            "questionnaire-reminder" if reminder else "questionnaire",
            addressee.language,
        ),
        _context(mailing, participant, addressee.language),
        kind=MessageKind.REMINDER if reminder else MessageKind.QUESTIONNAIRE,
        source_key=key,
        due_at=now,
        now=now,
    )
    return int(queued is not None)


def _context(mailing: Mailing, participant: Participant, language: str) -> dict[str, str]:
    """Return the placeholders of a questionnaire's mail, with the participant's own link."""
    return {
        "greeting": greeting(participant.name, language),
        "title": mailing.definition.title[language],
        "intro": mailing.definition.intro[language],
        "link": mail_settings().link(f"/q/{link_token(mailing.questionnaire, participant)}"),
    }
