"""What the invented people of `campaign simulate` do on a simulated day, through the same
domain functions a person's click reaches: answer invitations, come to trainings (as the
trainer records it), and fill in the questionnaires they were sent, with `people`'s answers."""

from __future__ import annotations

import random
from datetime import datetime

from sqlalchemy import ScalarResult, select
from sqlalchemy.orm import Session

from campaign.demo import people
from campaign.enrolment.models import Participant
from campaign.events import invitations
from campaign.events.models import Event, Invitation, Rsvp
from campaign.outbox.models import Message, MessageKind, MessageState
from campaign.surveys import service
from campaign.surveys.models import Questionnaire, Receipt

RSVPS = (Rsvp.ACCEPTED, Rsvp.DECLINED, Rsvp.TENTATIVE)
RSVP_WEIGHTS = (6, 2, 2)
COMING = (Rsvp.ACCEPTED, Rsvp.TENTATIVE)


def people_act(session: Session, campaign_id: int, now: datetime, rng: random.Random) -> None:
    """What invented people do on one day: answer invitations, come, fill in questionnaires."""
    _answer_invitations(session, campaign_id, now, rng)
    _attend_ended_events(session, campaign_id, now, rng)
    _fill_in_questionnaires(session, campaign_id, now, rng)


def _answer_invitations(
    session: Session, campaign_id: int, now: datetime, rng: random.Random
) -> None:
    """About four in ten not yet answered for an event to come answer today, mostly yes."""
    pending = session.execute(
        select(Invitation, Event)
        .join(Event, Event.id == Invitation.event_id)
        .where(Event.campaign_id == campaign_id, Invitation.rsvp == Rsvp.PENDING)
    )
    for invitation, event in pending:
        if event.starts_at > now and rng.random() < 0.4:
            answer = rng.choices(RSVPS, RSVP_WEIGHTS)[0]
            invitations.respond(session, invitation, answer, now)


def _attend_ended_events(
    session: Session, campaign_id: int, now: datetime, rng: random.Random
) -> None:
    """Record who came to each event that has ended, once: eight in ten who said yes or maybe."""
    ended = select(Event).where(Event.campaign_id == campaign_id, Event.ends_at <= now)
    for event in session.scalars(ended):
        invited = session.scalars(select(Invitation).where(Invitation.event_id == event.id)).all()
        if invited and not any(i.has_attended for i in invited):
            came = {i.id for i in invited if i.rsvp in COMING and rng.random() < 0.8}
            invitations.mark_attendance(session, event, came, None)


def _fill_in_questionnaires(
    session: Session, campaign_id: int, now: datetime, rng: random.Random
) -> None:
    """About one in eight sent a questionnaire they have not answered fill it in today."""
    sent = _sent_questionnaires(session, campaign_id)
    answered = set(session.execute(select(Receipt.questionnaire_id, Receipt.participant_id)).all())
    for key in sent:
        _q, questionnaire_id, person = key.split(":")
        pair = (int(questionnaire_id), int(person.removeprefix("p")))
        if pair not in answered and rng.random() <= 0.12:
            _fill_in(session, pair, now, rng)


def _sent_questionnaires(session: Session, campaign_id: int) -> ScalarResult[str]:
    """Return the keys (`service.invitation_key`) of the questionnaire mails sent so far."""
    return session.scalars(
        select(Message.source_key).where(
            Message.campaign_id == campaign_id,
            Message.kind == MessageKind.QUESTIONNAIRE,
            Message.state == MessageState.SENT,
        )
    )


def _fill_in(session: Session, pair: tuple[int, int], now: datetime, rng: random.Random) -> None:
    """Open the questionnaire link of (questionnaire id, participant id) and answer, if open."""
    questionnaire = session.get(Questionnaire, pair[0])
    participant = session.get(Participant, pair[1])
    if questionnaire is None or participant is None:
        return
    opened = service.open_link(session, service.link_token(questionnaire, participant), now)
    if opened is None or (opened.closes_at and now >= opened.closes_at):
        return
    service.save(session, opened, people.plausible_answers(opened.definition.questions, rng), now)
