"""A pilot that has run, for the demo network (`campaign demo --pilot`), to make reports from.

Per member: a pilot group of invented pilot users, six sequence steps delivered to each, one
training with attendance, and follow-up answers. Names and addresses are invented (example.org
addresses, which RFC 2606 keeps for this); the same seed gives the same pilot.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup, PilotGroupKind
from campaign.events.models import Audience, Event, EventKind, Invitation, Rsvp
from campaign.network.models import Campaign, Organisation
from campaign.outbox.models import Message, MessageKind, MessageState
from campaign.surveys import service
from campaign.surveys.models import Questionnaire, Response

START = datetime(2014, 3, 3, 8, 0, tzinfo=UTC)
STEPS = range(1, 7)  # the sequence steps delivered to every pilot user, four weeks apart


def simulate_pilot(
    db_session: Session, campaign: Campaign, *, per_member: int = 40, seed: int = 2014
) -> int:
    """Fill the demo campaign with a pilot that has run: pilot users, delivered mail, one
    training per member with attendance, and follow-up answers. Returns the pilot users added.

    Names and addresses are invented (example.org addresses, which RFC 2606 keeps for this);
    the run is the same for the same seed, so reports made from it can be compared.
    """
    rng = random.Random(seed)
    follow_up = next(
        q for q in service.questionnaires_of(db_session, campaign, START) if q.slug == "follow-up"
    )
    added = 0
    for membership in sorted(campaign.memberships, key=lambda m: m.organisation.slug):
        org = membership.organisation
        added += _member_pilot(db_session, campaign, org, follow_up, rng, per_member)
    return added


def _member_pilot(
    db_session: Session,
    campaign: Campaign,
    org: Organisation,
    follow_up: Questionnaire,
    rng: random.Random,
    per_member: int,
) -> int:
    """Add one member's pilot; return how many pilot users it has."""
    group, training = _group_and_training(db_session, campaign, org, rng)
    count = rng.randint(per_member // 2, per_member)
    ids = _pilot_users(db_session, org, group, count)
    _delivered_steps(db_session, org, group, ids)
    _attendance(db_session, training, ids, rng)
    _answers(db_session, follow_up, org, ids, rng)
    return count


def _group_and_training(
    db_session: Session, campaign: Campaign, org: Organisation, rng: random.Random
) -> tuple[PilotGroup, Event]:
    """Add the member's pilot group and its training (two weeks after the start)."""
    group = PilotGroup(
        campaign_id=campaign.id,
        organisation_id=org.id,
        name="Provgruppen",
        kind=rng.choice(list(PilotGroupKind)),
        starts_on=START.date(),
        sequence_name="pilot-group",
        created_at=START,
    )
    training = Event(
        campaign_id=campaign.id, organisation_id=org.id, kind=EventKind.TRAINING,
        audience=Audience.ORGANISATION, title="Utbildning i webbmöten",
        starts_at=START + timedelta(days=14), ends_at=START + timedelta(days=14, hours=2),
        timezone=campaign.timezone, uid=f"demo-training-{org.slug}@example.org",
        sequence=0, created_at=START, updated_at=START,
    )  # fmt: skip
    db_session.add_all([group, training])
    db_session.flush()
    return group, training


def _pilot_users(
    db_session: Session, org: Organisation, group: PilotGroup, count: int
) -> list[int]:
    """Add `count` active pilot users to the group; return their ids."""
    people = [
        {
            "campaign_id": group.campaign_id,
            "organisation_id": group.organisation_id,
            "pilot_group_id": group.id,
            "email": f"pilot{n}@{org.slug}.example.org",
            "name": f"Pilot {n}",
            "title": "",
            "language": "sv",
            "status": ParticipantStatus.ACTIVE,
            "starts_on": START.date(),
            "created_at": START,
            "updated_at": START,
        }  # fmt: skip
        for n in range(count)
    ]
    db_session.execute(insert(Participant), people)
    return list(
        db_session.scalars(select(Participant.id).where(Participant.pilot_group_id == group.id))
    )


def _delivered_steps(
    db_session: Session, org: Organisation, group: PilotGroup, ids: list[int]
) -> None:
    """Record the sequence steps as sent to every pilot user, four weeks apart."""
    db_session.execute(
        insert(Message),
        [
            {
                "source_key": f"demo:{pid}:{step}",
                "campaign_id": group.campaign_id,
                "organisation_id": group.organisation_id,
                "participant_id": pid,
                "recipient": f"pilot{pid}@{org.slug}.example.org",
                "kind": MessageKind.SEQUENCE_STEP,
                "subject": f"Steg {step}",
                "text_body": "",
                "html_body": "",
                "headers": {},
                "message_id": f"<demo.{pid}.{step}@example.org>",
                "due_at": START + timedelta(weeks=4 * step),
                "state": MessageState.SENT,
                "sent_at": START + timedelta(weeks=4 * step),
                "attempts": 1,
                "created_at": START + timedelta(weeks=4 * step),
            }  # fmt: skip
            for pid in ids
            for step in STEPS
        ],
    )


def _attendance(db_session: Session, training: Event, ids: list[int], rng: random.Random) -> None:
    """Invite every pilot user to the training; about six in ten came."""
    db_session.execute(
        insert(Invitation),
        [
            {
                "event_id": training.id,
                "participant_id": pid,
                "rsvp": Rsvp.ACCEPTED,
                "has_attended": rng.random() < 0.6,
                "created_at": START,
            }  # fmt: skip
            for pid in ids
        ],
    )


def _answers(
    db_session: Session,
    follow_up: Questionnaire,
    org: Organisation,
    ids: list[int],
    rng: random.Random,
) -> None:
    """Answer the follow-up for about seven in ten pilot users, with invented outcomes."""
    answered_at = START + timedelta(weeks=27)
    db_session.execute(
        insert(Response),
        [
            {
                "questionnaire_id": follow_up.id,
                "participant_id": pid,
                "organisation_id": org.id,
                "submitted_at": answered_at,
                "updated_at": answered_at,
                "answers": {
                    "trips_replaced": rng.randint(0, 12),
                    "km_avoided": rng.randint(0, 1200),
                    "hours_saved": rng.randint(0, 30),
                    "satisfaction": rng.randint(2, 5),
                },
            }  # fmt: skip
            for pid in ids
            if rng.random() < 0.7
        ],
    )
