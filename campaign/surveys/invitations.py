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

import time
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup
from campaign.network.models import Campaign
from campaign.network.phases import mails_participants
from campaign.outbox.models import Message, MessageState
from campaign.outbox.queue import enqueue_many
from campaign.surveys import stored
from campaign.surveys.definitions import Definition
from campaign.surveys.letters import Letters, Reader
from campaign.surveys.models import Questionnaire, QuestionnaireKind, Receipt
from campaign.surveys.service import closes_at, invitation_key, questionnaires_of
from campaign.timing import local_date, local_instant

People = list[Reader]
Invited = tuple[datetime, MessageState]  # when an invitation was queued, and its state now
BATCH = 1000  # mails composed and inserted at a time
# How often the batches are committed (a fan-out to everyone shows its progress): each commit of
# an outbox as large as a fan-out's costs the database a write of its log.
COMMIT_SECONDS = 1.0
# How long one run goes on; the next run carries on where it stopped. Each run first reads
# everyone (who is due what), so a run is long enough for that to be a small part of it, and
# well within the job's lease (three times its minute).
RUN_SECONDS = 60.0


@dataclass(frozen=True)
class Mailing:
    """One questionnaire of one campaign, with the mails it has queued so far by key."""

    questionnaire: Questionnaire
    definition: Definition
    zone: ZoneInfo  # the campaign's
    sent: dict[str, tuple[datetime, MessageState]]
    # The moments worked out so far, by the day or moment they are counted from: thousands of
    # people share a start, and their invitations a moment sent.
    _due: dict[date, datetime] = field(default_factory=dict, compare=False)
    _reminders: dict[tuple[datetime, MessageState], int] = field(
        default_factory=dict, compare=False
    )

    def closes_at(self, sent: datetime) -> datetime:
        return closes_at(self.definition, self.questionnaire, sent, self.zone.key)

    def invitation_due(self, anchor: date) -> datetime:
        """Return when the invitation of a person whose start is `anchor` is due."""
        if anchor not in self._due:
            day = self.definition.after.apply(anchor)
            self._due[anchor] = local_instant(day, self.definition.at, self.zone)
        return self._due[anchor]

    def latest_reminder(self, invited: Invited, now: datetime) -> int:
        """Return the number of the latest reminder due by `now` of an invitation sent then (0:
        none; nor when it was cancelled or has closed)."""
        if invited not in self._reminders:
            self._reminders[invited] = _latest_reminder(self, invited, now)
        return self._reminders[invited]


def queue_questionnaires(db_session: Session, now: datetime) -> int:
    """Queue the invitations and reminders that have come due, committing the batches
    (for at most RUN_SECONDS: the next run carries on); return how many."""
    deadline = time.monotonic() + RUN_SECONDS
    campaigns = db_session.scalars(select(Campaign)).all()
    mailing = [campaign for campaign in campaigns if mails_participants(campaign, now)]
    return sum(_queue_campaign(db_session, campaign, now, deadline) for campaign in mailing)


def _queue_campaign(db_session: Session, campaign: Campaign, now: datetime, deadline: float) -> int:
    people = _active_people(db_session, campaign)
    count = 0
    for questionnaire in questionnaires_of(db_session, campaign, now):
        definition = stored.definition_of(db_session, questionnaire)
        # None: neither stored nor shipped any more; a copy is sent once the lead says so.
        if definition is not None and questionnaire.is_sending:
            sent = _sent(db_session, questionnaire)
            mailing = Mailing(questionnaire, definition, ZoneInfo(campaign.timezone), sent)
            count += _queue_mailing(db_session, mailing, people, now, deadline)
    return count


def _active_people(db_session: Session, campaign: Campaign) -> People:
    """Return the campaign's active participants as plain rows, with their group's start."""
    rows = db_session.execute(
        select(*(getattr(Participant, name) for name in Reader._fields[:-1]), PilotGroup.starts_on)
        .join(PilotGroup, PilotGroup.id == Participant.pilot_group_id)
        .where(
            Participant.campaign_id == campaign.id,
            Participant.status == ParticipantStatus.ACTIVE,
        )
        .order_by(Participant.id)
    )
    return [Reader._make(row) for row in rows]


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


def _queue_mailing(
    db_session: Session, mailing: Mailing, people: People, now: datetime, deadline: float
) -> int:
    """Queue the invitations and reminders due, a batch per transaction until `deadline`."""
    answered = set(
        db_session.scalars(
            select(Receipt.participant_id).where(
                Receipt.questionnaire_id == mailing.questionnaire.id
            )
        )
    )
    due = [(p, key) for p in people if p.id not in answered and (key := _due_key(mailing, p, now))]
    letters = Letters(db_session, mailing.questionnaire, mailing.definition)
    committed = time.monotonic()
    for start in range(0, len(due), BATCH):
        if time.monotonic() > deadline:
            return start
        batch = due[start : start + BATCH]
        enqueue_many(db_session, [letters.message(p, key, now) for p, key in batch], now)
        if time.monotonic() - committed >= COMMIT_SECONDS:
            db_session.commit()
            committed = time.monotonic()
    db_session.commit()
    return len(due)


def _due_key(mailing: Mailing, reader: Reader, now: datetime) -> str | None:
    """Return the key of the participant's invitation or latest reminder if it is due now."""
    key = invitation_key(mailing.questionnaire, reader.id)
    if key not in mailing.sent:
        due = _invitation_due(mailing, reader)
        if due > now or now > mailing.closes_at(due):
            return None  # not due, or it would be closed before anyone could answer
        return key
    reminder = _reminder_key(mailing, key, now)
    return None if reminder is None or reminder in mailing.sent else reminder


def _invitation_due(mailing: Mailing, reader: Reader) -> datetime:
    """The baseline comes from the participant's own start, the follow-up from the group's."""
    if mailing.questionnaire.kind is QuestionnaireKind.BASELINE:
        return mailing.invitation_due(reader.starts_on or reader.group_starts_on)
    return mailing.invitation_due(reader.group_starts_on)


def _reminder_key(mailing: Mailing, key: str, now: datetime) -> str | None:
    """The key of the latest reminder due by `now`; None if none is, or the invitation was
    cancelled or has closed."""
    number = mailing.latest_reminder(mailing.sent[key], now)
    return f"{key}:r{number}" if number else None


def _latest_reminder(mailing: Mailing, invited: Invited, now: datetime) -> int:
    """Work out Mailing.latest_reminder."""
    invited_at, state = invited
    if state is MessageState.CANCELLED or now >= mailing.closes_at(invited_at):
        return 0
    invited_on = local_date(invited_at, mailing.zone.key)
    definition = mailing.definition
    due = [
        n
        for n, offset in enumerate(definition.reminders, start=1)
        if local_instant(offset.apply(invited_on), definition.at, mailing.zone) <= now
    ]
    return due[-1] if due else 0
