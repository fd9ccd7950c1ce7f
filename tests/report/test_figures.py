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
from campaign.network.models import Membership, Organisation, OrganisationKind
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
        questionnaires = {
            q.slug: q for q in service.questionnaires_of(session, network.campaign, START)
        }
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
                    updated_at=START + timedelta(days=n),
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
                            created_at=START,
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
    reached = set()
    for m in session.scalars(select(Message)):
        counted = m.state is not MessageState.SENT or m.sent_at <= AS_OF
        if m.participant_id and m.due_at <= AS_OF and counted:
            mail[m.organisation_id][m.state.value] += 1
        if m.state is MessageState.SENT and m.sent_at <= AS_OF:
            reached.add(m.participant_id)
    took_part = [
        p
        for p in people
        if p.status.value in ("active", "paused", "completed")
        or (p.status.value == "unsubscribed" and p.id in reached)
    ]
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
    given: dict[tuple[int, int], list[Response]] = defaultdict(list)
    for r in sorted(session.scalars(select(Response)), key=lambda r: (r.submitted_at, r.id)):
        if r.submitted_at <= AS_OF and kinds[r.questionnaire_id] is QuestionnaireKind.FOLLOW_UP:
            given[(r.questionnaire_id, r.organisation_id)].append(r)
    # Answers count in whole groups of five per member, in the order given; each question's
    # answers the same way among those (campaign/surveys/disclosure.py).
    outcomes: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for (_questionnaire, org), responses in given.items():
        counted = responses[: len(responses) - len(responses) % 5]
        o = outcomes[org]
        o[0] += len(counted)
        for index, key in enumerate(("trips_replaced", "km_avoided", "hours_saved"), start=1):
            values = [r.answers[key] for r in counted if key in r.answers]
            o[index] += sum(values[: len(values) - len(values) % 5])
    return {
        "participants": Counter(p.organisation_id for p in took_part),
        "by_status": {
            org: Counter(p.status.value for p in people if p.organisation_id == org)
            for org in org_of.values()
        },
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
        assert member.by_status == dict(expected["by_status"][org])  # every status, all people
        assert member.mail == dict(expected["mail"][org])
        assert member.trained == expected["trained"].get(org, 0)
        o = expected["outcomes"][org]
        assert (member.outcomes.respondents, member.outcomes.trips) == (o[0], o[1])
        assert (member.outcomes.km, member.outcomes.hours) == (o[2], o[3])
    alpha, beta = figures.members
    assert beta.outcomes.too_few  # four people at most: none of their answers count
    # Alpha's count, whole groups of five; Beta's are in no figure, so the network's are
    # Alpha's and nothing needs hiding to protect Beta's.
    assert alpha.outcomes.respondents == 5 and not alpha.outcomes.suppressed
    assert alpha.co2_kg is not None and alpha.money is not None
    network_km = sum(o[2] for o in expected["outcomes"].values())
    assert figures.outcomes.km == network_km == alpha.outcomes.km
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
                updated_at=AS_OF + timedelta(days=1),
            )  # fmt: skip
        )
        session.commit()
    again = compute(session, network.campaign, AS_OF)
    assert [m.participants for m in again.members] == [m.participants for m in before.members]
    assert [m.mail for m in again.members] == [m.mail for m in before.members]
    assert again.outcomes == before.outcomes
    later = compute(session, network.campaign, AS_OF + timedelta(days=2))
    assert later.participants == before.participants + 1
    # The printed moment is to the second, in the campaign's zone; a fraction changes nothing.
    assert before.moment == "2014-12-01T13:00:00+01:00"
    fraction = compute(session, network.campaign, AS_OF + timedelta(microseconds=900_000))
    assert fraction.moment == before.moment and fraction.outcomes == before.outcomes


def test_factors_are_the_campaigns_own(app: Flask, session: Session, network: Network) -> None:
    _build(app, session, network)
    network.campaign.co2_kg_per_km = 0.2
    network.campaign.cost_per_km = 3.0
    network.campaign.cost_per_hour = 400.0
    session.commit()
    figures = compute(session, network.campaign, AS_OF)
    assert figures.co2_kg == figures.outcomes.km * 0.2
    assert figures.money == figures.outcomes.km * 3.0 + figures.outcomes.hours * 400.0


def _member(session: Session, network: Network, slug: str) -> Organisation:
    org = Organisation(
        slug=slug,
        name=slug.title(),
        short_name=slug.title(),
        kind=OrganisationKind.OTHER,
        created_at=START,
    )
    session.add(
        Membership(campaign=network.campaign, organisation=org, created_at=START, updated_at=START)
    )
    session.flush()
    return org


def _answers(session: Session, network: Network, org: Organisation, n: int, km: int) -> None:
    """N participants of a member who each answered the follow-up: km, 2 trips, 3 hours."""
    follow_up = next(
        q
        for q in service.questionnaires_of(session, network.campaign, START)
        if q.slug == "follow-up"
    )
    for k in range(n):
        person = Participant(
            campaign_id=network.campaign.id,
            organisation_id=org.id,
            email=f"a{k}@{org.slug}.se",
            status=ParticipantStatus.ACTIVE,
            created_at=START,
            updated_at=START,
        )
        session.add(person)
        session.flush()
        session.add(
            Response(
                questionnaire_id=follow_up.id,
                participant_id=person.id,
                organisation_id=org.id,
                answers={"trips_replaced": 2, "km_avoided": km, "hours_saved": 3},
                submitted_at=START,
                updated_at=START,
            )
        )
    session.commit()


def test_each_member_has_co2_and_money_and_no_hidden_figure_is_derivable(
    app: Flask, session: Session, network: Network
) -> None:
    with app.app_context():
        gamma = _member(session, network, "gamma")
        network.campaign.cost_per_hour = 300.0
        _answers(session, network, network.alpha, 9, km=100)  # five count, four wait
        _answers(session, network, network.beta, 3, km=10)  # too few: none count
        _answers(session, network, gamma, 6, km=50)  # five count: shown
        _member(session, network, "delta")  # no answers at all
    figures = compute(session, network.campaign, AS_OF)
    by = {m.organisation.slug: m for m in figures.members}
    alpha, beta, gamma_figures = by["alpha"], by["beta"], by["gamma"]
    assert alpha.outcomes.respondents == 5
    assert alpha.co2_kg == 500 * 0.133 and alpha.money == 500 * 2.5 + 15 * 300.0
    assert beta.outcomes.too_few and beta.co2_kg is None
    assert gamma_figures.co2_kg == 250 * 0.133
    assert by["delta"].outcomes.suppressed  # hidden with nothing to hide: does not count
    shown = [m for m in figures.members if not m.outcomes.suppressed]
    assert shown == [alpha, gamma_figures]
    # The total minus the shown members is nothing: no hidden answer is in any total.
    assert figures.outcomes.km == sum(m.outcomes.km for m in shown) == 750
    assert figures.outcomes.respondents == 10

    # Two more small members change nothing: their answers wait for their groups of five.
    with app.app_context():
        epsilon = _member(session, network, "epsilon")
        _answers(session, network, epsilon, 2, km=70)
    again = compute(session, network.campaign, AS_OF)
    assert again.outcomes == figures.outcomes
    by_again = {m.organisation.slug: m for m in again.members}
    assert by_again["epsilon"].outcomes.suppressed and not by_again["gamma"].outcomes.suppressed


def _mail(session: Session, person: Participant, sent_at: datetime) -> None:
    session.add(
        Message(
            source_key=f"t:{person.id}:{sent_at.isoformat()}",
            campaign_id=person.campaign_id,
            organisation_id=person.organisation_id,
            participant_id=person.id,
            recipient=person.email,
            kind=MessageKind.SEQUENCE_STEP,
            subject="s",
            text_body="t",
            html_body="h",
            message_id=f"<{person.id}.{sent_at.timestamp()}@t>",
            due_at=START,
            state=MessageState.SENT,
            created_at=START,
            sent_at=sent_at,
        )  # fmt: skip
    )


def test_participants_are_those_who_took_part(
    app: Flask, session: Session, network: Network
) -> None:
    # Each status thrice: never mailed, mailed before the moment, mailed only after it.
    with app.app_context():
        for status in ParticipantStatus:
            for n, sent_at in enumerate((None, START, AS_OF + timedelta(days=1))):
                person = Participant(
                    campaign_id=network.campaign.id,
                    organisation_id=network.alpha.id,
                    email=f"{status.value}-{n}@alpha.se",
                    status=status,
                    created_at=START,
                    updated_at=START,
                )
                session.add(person)
                session.flush()
                if sent_at:
                    _mail(session, person, sent_at)
        session.commit()
    alpha = compute(session, network.campaign, AS_OF).members[0]
    # Active, paused and completed all three; unsubscribed only once a mail reached them (not
    # those whose mail went out after the moment); the invited and the erased never.
    assert alpha.participants == 3 * 3 + 1
    assert alpha.by_status == {status.value: 3 for status in ParticipantStatus}


def test_mail_is_counted_in_the_months_of_the_campaigns_zone(
    app: Flask, session: Session, network: Network
) -> None:
    with app.app_context():
        person = Participant(
            campaign_id=network.campaign.id,
            organisation_id=network.alpha.id,
            email="p@alpha.se",
            status=ParticipantStatus.ACTIVE,
            created_at=START,
            updated_at=START,
        )
        session.add(person)
        session.flush()
        for sent in (
            datetime(2015, 1, 31, 22, 30, tzinfo=UTC),  # 23:30 in Stockholm: January
            datetime(2015, 1, 31, 23, 30, tzinfo=UTC),  # 00:30 on 1 February in Stockholm
            datetime(2014, 6, 30, 22, 30, tzinfo=UTC),  # summer time: 00:30 on 1 July
        ):
            _mail(session, person, sent)
        session.commit()
    figures = compute(session, network.campaign, datetime(2015, 3, 1, tzinfo=UTC))
    assert figures.mail_by_month == [("2014-07", 1), ("2015-01", 1), ("2015-02", 1)]
