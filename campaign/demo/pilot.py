"""A pilot that has run, for the demo network over 2013-2015 (`campaign demo --historic`), to
make reports from.

Per member: a pilot group of invented pilot users, six sequence steps delivered to each, one
training with attendance, and follow-up answers, written at once with the moments they would
have had. The people come from `people`, as the simulation's do; the same seed gives the same
pilot.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from campaign.demo import people
from campaign.enrolment.models import PilotGroup
from campaign.events.models import Event, Invitation, Rsvp
from campaign.network.models import Campaign, Organisation
from campaign.outbox.models import Message, MessageKind, MessageState
from campaign.surveys import service
from campaign.surveys.models import Questionnaire, Response
from campaign.surveys.stored import definition_of

START = datetime(2014, 3, 3, 8, 0, tzinfo=UTC)
STEPS = range(1, 7)  # the sequence steps delivered to every pilot user, four weeks apart
ANSWERED_AT = START + timedelta(weeks=27)
ANSWERED = ("number", "likert")  # the follow-up's choices and free texts are left unanswered
# The pilot's invented outcomes stay a little below the simulation's (people.TOPS).
TOPS = {"trips": 12, "km": 1200, "hours": 30}


def simulate_pilot(
    db_session: Session, campaign: Campaign, *, per_member: int = 40, seed: int = 2014
) -> int:
    """Fill the demo campaign with a pilot that has run: pilot users, delivered mail, one
    training per member with attendance, and follow-up answers. Returns the pilot users added.

    The run is the same for the same seed, so reports made from it can be compared.
    """
    rng = random.Random(seed)
    follow_up = _follow_up(db_session, campaign)
    members = sorted(campaign.memberships, key=lambda m: m.organisation.slug)
    return sum(
        _member_pilot(db_session, campaign, m.organisation, follow_up, rng, per_member)
        for m in members
    )


def _follow_up(db_session: Session, campaign: Campaign) -> Questionnaire:
    """Return the campaign's follow-up questionnaire."""
    found = service.questionnaires_of(db_session, campaign, START)
    return next(q for q in found if q.slug == "follow-up")


def _member_pilot(
    db_session: Session,
    campaign: Campaign,
    org: Organisation,
    follow_up: Questionnaire,
    rng: random.Random,
    per_member: int,
) -> int:
    """Add one member's pilot; return how many pilot users it has."""
    group = people.add_pilot_group(db_session, campaign, org, rng, START.date(), START)
    training = _training(db_session, campaign, org)
    count = rng.randint(per_member // 2, per_member)
    ids = people.add_pilot_users(db_session, group, org.slug, count, START)
    steps = [_step(group, org, pid, step) for pid in ids for step in STEPS]
    db_session.execute(insert(Message), steps)
    _attendance(db_session, training, ids, rng)
    _answers(db_session, follow_up, org, ids, rng)
    return count


def _training(db_session: Session, campaign: Campaign, org: Organisation) -> Event:
    """Add the member's training, two weeks after the start, with the usual reminders."""
    uid = f"demo-training-{org.slug}@example.org"
    begins = START + timedelta(days=14)
    return people.add_training(
        db_session, campaign, org, begins, uid=uid, reminders="24h,1h", at=START
    )


def _step(group: PilotGroup, org: Organisation, pid: int, step: int) -> dict[str, Any]:
    """Return sequence step `step` as sent to pilot user `pid`, four weeks after the one before."""
    sent = START + timedelta(weeks=4 * step)
    return {
        "source_key": f"demo:{pid}:{step}", "campaign_id": group.campaign_id,
        "organisation_id": org.id, "participant_id": pid,
        "recipient": f"pilot{pid}@{org.slug}.example.org", "kind": MessageKind.SEQUENCE_STEP,
        "subject": f"Steg {step}", "text_body": "", "html_body": "", "headers": {},
        "message_id": f"<demo.{pid}.{step}@example.org>", "due_at": sent,
        "state": MessageState.SENT, "sent_at": sent, "attempts": 1, "created_at": sent,
    }  # fmt: skip


def _attendance(db_session: Session, training: Event, ids: list[int], rng: random.Random) -> None:
    """Invite every pilot user to the training; about six in ten came."""
    rows = [
        {
            "event_id": training.id,
            "participant_id": pid,
            "rsvp": Rsvp.ACCEPTED,
            "has_attended": rng.random() < 0.6,
            "created_at": START,
        }  # fmt: skip
        for pid in ids
    ]
    db_session.execute(insert(Invitation), rows)


def _answers(
    db_session: Session,
    follow_up: Questionnaire,
    org: Organisation,
    ids: list[int],
    rng: random.Random,
) -> None:
    """Answer the follow-up's numbers and scales for about seven in ten pilot users."""
    definition = definition_of(db_session, follow_up)
    asked = [q for q in definition.questions if q.type in ANSWERED] if definition else []
    rows = [
        _response(follow_up, org, pid, people.plausible_answers(asked, rng, TOPS))
        for pid in ids
        if rng.random() < 0.7
    ]
    db_session.execute(insert(Response), rows)


def _response(
    follow_up: Questionnaire, org: Organisation, pid: int, answers: dict[str, Any]
) -> dict[str, Any]:
    return {
        "questionnaire_id": follow_up.id, "participant_id": pid, "organisation_id": org.id,
        "submitted_at": ANSWERED_AT, "updated_at": ANSWERED_AT, "answers": answers,
    }  # fmt: skip
