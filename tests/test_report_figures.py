"""The report's figures, computed in SQL, checked against a recount from the raw rows."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.enrolment.models import Participant, ParticipantStatus
from campaign.events.models import Event, Invitation
from campaign.outbox.models import Message, MessageKind, MessageState
from campaign.report.figures import TRAINING_KINDS, compute
from campaign.surveys import service
from campaign.surveys.models import Questionnaire, QuestionnaireKind, Response
from tests.conftest import START, Network
from tests.enrolment_helpers import group, make_event

AS_OF = datetime(2014, 12, 1, 12, 0, tzinfo=UTC)


def _build(app: Flask, session: Session, network: Network, seed: int = 7) -> None:
    """A small pilot: people in both members, mail in every state, meetings, answers."""
    rng = random.Random(seed)
    with app.app_context():
        questionnaires = {q.slug: q for q in service.questionnaires_of(session, network.campaign)}
        follow_up = questionnaires["follow-up"]
        for org, count in (("alpha", 12), ("beta", 4)):
            target = group(session, network, f"{org}-gruppen", org=org)
            meeting = make_event(
                session, network, None, organisation_id=getattr(network, org).id,
                kind=rng.choice(TRAINING_KINDS),
            )  # fmt: skip
            cancelled = make_event(session, network, None, is_cancelled=True)
            for n in range(count):
                person = Participant(
                    campaign_id=network.campaign.id,
                    organisation_id=target.organisation_id,
                    pilot_group_id=target.id,
                    email=f"p{n}@{org}.se",
                    status=rng.choice(list(ParticipantStatus)),
                    created_at=START + timedelta(days=n),
                )
                session.add(person)
                session.flush()
                for m in range(rng.randint(1, 4)):
                    state = rng.choice([s for s in MessageState if s is not MessageState.SENDING])
                    session.add(
                        Message(
                            source_key=f"t:{person.id}:{m}",
                            campaign_id=network.campaign.id,
                            organisation_id=person.organisation_id,
                            participant_id=person.id,
                            recipient=person.email,
                            kind=MessageKind.SEQUENCE_STEP,
                            subject="s",
                            text_body="t",
                            html_body="h",
                            message_id=f"<{person.id}.{m}@t>",
                            due_at=START,
                            state=state,
                            created_at=START,
                            sent_at=START + timedelta(days=rng.choice([1, 400]))
                            if state is MessageState.SENT
                            else None,
                        )  # fmt: skip
                    )
                for event in (meeting, cancelled):
                    session.add(
                        Invitation(
                            event_id=event.id,
                            participant_id=person.id,
                            has_attended=rng.random() < 0.6,
                        )  # fmt: skip
                    )
                if n % 5 != 4:  # most answer; some after the moment of the report
                    session.add(
                        Response(
                            questionnaire_id=follow_up.id,
                            participant_id=person.id,
                            organisation_id=person.organisation_id,
                            answers={
                                "trips_replaced": rng.randint(0, 30),
                                "km_avoided": rng.randint(0, 3000),
                                **({"hours_saved": rng.randint(0, 50)} if n % 3 else {}),
                            },
                            submitted_at=AS_OF + timedelta(days=1 if n % 4 == 3 else -1),
                            updated_at=AS_OF + timedelta(days=2),
                        )  # fmt: skip
                    )
        session.commit()


def _recount(session: Session, network: Network) -> dict:  # type: ignore[type-arg]
    """The same figures, counted in Python from every raw row."""
    people = [p for p in session.scalars(select(Participant)) if p.created_at <= AS_OF]
    org_of = {p.id: p.organisation_id for p in session.scalars(select(Participant))}
    mail: dict[int, Counter] = defaultdict(Counter)  # type: ignore[type-arg]
    for m in session.scalars(select(Message)):
        counted = m.state is not MessageState.SENT or m.sent_at <= AS_OF
        if m.participant_id and m.due_at <= AS_OF and counted:
            mail[m.organisation_id][m.state.value] += 1
    events = {e.id: e for e in session.scalars(select(Event))}
    trained: dict[int, set[int]] = defaultdict(set)
    for i in session.scalars(select(Invitation)):
        event = events[i.event_id]
        if (
            i.has_attended and not event.is_cancelled and event.ends_at <= AS_OF
            and event.kind in TRAINING_KINDS
        ):  # fmt: skip
            trained[org_of[i.participant_id]].add(i.participant_id)
    kinds = {q.id: q.kind for q in session.scalars(select(Questionnaire))}
    outcomes: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for r in session.scalars(select(Response)):
        if r.submitted_at <= AS_OF and kinds[r.questionnaire_id] is QuestionnaireKind.FOLLOW_UP:
            o = outcomes[r.organisation_id]
            o[0] += 1
            o[1] += r.answers.get("trips_replaced", 0)
            o[2] += r.answers.get("km_avoided", 0)
            o[3] += r.answers.get("hours_saved", 0)
    return {
        "participants": Counter(p.organisation_id for p in people),
        "mail": mail,
        "trained": {org: len(ids) for org, ids in trained.items()},
        "outcomes": outcomes,
    }


def test_figures_match_a_recount_from_the_raw_rows(
    app: Flask, session: Session, network: Network
) -> None:
    _build(app, session, network)
    figures = compute(session, network.campaign, AS_OF)
    expected = _recount(session, network)
    for member in figures.members:
        org = member.organisation.id
        assert member.participants == expected["participants"][org]
        assert member.mail == dict(expected["mail"][org])
        assert member.trained == expected["trained"].get(org, 0)
        o = expected["outcomes"][org]
        assert (member.outcomes.respondents, member.outcomes.trips) == (o[0], o[1])
        assert (member.outcomes.km, member.outcomes.hours) == (o[2], o[3])
    alpha, beta = figures.members
    assert alpha.outcomes.respondents >= 5 and not alpha.outcomes.suppressed
    assert beta.outcomes.suppressed  # four people at most: too few to show
    network_km = sum(o[2] for o in expected["outcomes"].values())
    assert figures.outcomes.km == network_km
    assert figures.co2_kg == network_km * 0.133
    assert figures.money == network_km * 2.5  # no value of time set


def test_the_same_moment_gives_the_same_figures_after_more_data(
    app: Flask, session: Session, network: Network
) -> None:
    _build(app, session, network)
    before = compute(session, network.campaign, AS_OF)
    with app.app_context():
        late = group(session, network, "Sena", org="alpha")
        session.add(
            Participant(
                campaign_id=network.campaign.id,
                organisation_id=network.alpha.id,
                pilot_group_id=late.id,
                email="late@alpha.se",
                status=ParticipantStatus.ACTIVE,
                created_at=AS_OF + timedelta(days=1),
            )  # fmt: skip
        )
        session.commit()
    again = compute(session, network.campaign, AS_OF)
    assert [m.participants for m in again.members] == [m.participants for m in before.members]
    assert [m.mail for m in again.members] == [m.mail for m in before.members]
    assert again.outcomes == before.outcomes
    later = compute(session, network.campaign, AS_OF + timedelta(days=2))
    assert later.participants == before.participants + 1


def test_factors_are_the_campaigns_own(app: Flask, session: Session, network: Network) -> None:
    _build(app, session, network)
    network.campaign.co2_kg_per_km = 0.2
    network.campaign.cost_per_km = 3.0
    network.campaign.cost_per_hour = 400.0
    session.commit()
    figures = compute(session, network.campaign, AS_OF)
    assert figures.co2_kg == figures.outcomes.km * 0.2
    assert figures.money == figures.outcomes.km * 3.0 + figures.outcomes.hours * 400.0
