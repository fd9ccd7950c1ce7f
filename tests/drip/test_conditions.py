"""The richer conditions of a step: answered:<questionnaire>, answer:<q>.<question>=<option>,
attended:<kind>, and the first three names, each holding or not, through materialize with the
injected clock: the step is sent or recorded as skipped, saying which condition."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.drip.files import Sequence, parse_sequence
from campaign.drip.materialize import materialize
from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup, PilotGroupKind
from campaign.events.models import Audience, Event, EventKind, Invitation
from campaign.outbox.models import Message, MessageState
from campaign.surveys.models import Questionnaire, QuestionnaireKind, Receipt, Response
from tests.conftest import START, Network

MONDAY = date(2014, 6, 2)
NOON = datetime(2014, 6, 2, 12, tzinfo=UTC)
TUESDAY_MORNING = datetime(2014, 6, 3, 7, 0, tzinfo=UTC)  # the +1d steps were due at 06:30 UTC
STEPS = {
    "01-welcome": "",
    "02-answered": "only_if: [answered:follow-up]",
    "03-not-answered": "unless: [answered:follow-up]",
    "04-weekly": 'only_if: ["answer:baseline.experience=weekly"]',
    "05-trained": "only_if: [attended:training]",
    "06-practised": "unless: [attended_practice_meeting]",
    "07-webinar": "only_if: [attended:webinar]",
}


def step_file(offset: str, condition: str) -> str:
    return f'---\noffset: {offset}\nat: "08:30"\nsubject: Steg\n{condition}\n---\nHej!\n'


def sequence() -> Sequence:
    files = {
        f"{language}/{name}.md": step_file("+0d" if name.startswith("01") else "+1d", condition)
        for name, condition in STEPS.items()
        for language in ("sv", "en")
    }
    found, problems = parse_sequence("custom", files)
    assert problems == []
    return found


@pytest.fixture
def group(session: Session, network: Network) -> PilotGroup:
    group = PilotGroup(
        campaign_id=network.campaign.id, organisation_id=network.alpha.id, name="Chefer",
        kind=PilotGroupKind.SELECTED_MANAGERS, starts_on=MONDAY, sequence_name="custom",
        created_at=START,
    )  # fmt: skip
    session.add(group)
    session.commit()
    return group


def person(session: Session, network: Network, group: PilotGroup, email: str) -> Participant:
    found = Participant(
        campaign_id=network.campaign.id, organisation_id=network.alpha.id,
        pilot_group_id=group.id, email=email, name="Åsa Öberg",
        status=ParticipantStatus.ACTIVE, created_at=START, updated_at=START,
    )  # fmt: skip
    session.add(found)
    session.flush()
    return found


def questionnaire(session: Session, network: Network, slug: str, **extra: object) -> Questionnaire:
    kind = QuestionnaireKind.BASELINE if slug == "baseline" else QuestionnaireKind.FOLLOW_UP
    found = Questionnaire(
        campaign_id=network.campaign.id, slug=slug, kind=kind, definition=slug,
        created_at=START, **extra,
    )  # fmt: skip
    session.add(found)
    session.flush()
    return found


def answered(session: Session, asked: Questionnaire, who: Participant, **answers: str) -> None:
    session.add(Receipt(questionnaire_id=asked.id, participant_id=who.id, answered_on=MONDAY))
    if not asked.is_anonymous:
        session.add(
            Response(
                questionnaire_id=asked.id, participant_id=who.id,
                organisation_id=who.organisation_id, answers=answers,
                submitted_at=START, updated_at=START,
            )
        )  # fmt: skip


def attended(session: Session, network: Network, who: Participant, kind: EventKind) -> None:
    event = Event(
        campaign_id=network.campaign.id, kind=kind, audience=Audience.CAMPAIGN,
        title=kind.value, timezone="Europe/Stockholm",
        starts_at=NOON, ends_at=NOON.replace(hour=13),
        uid=f"{kind.value}-{who.id}@test", created_at=START, updated_at=START,
    )  # fmt: skip
    session.add(event)
    session.flush()
    session.add(
        Invitation(event_id=event.id, participant_id=who.id, has_attended=True, created_at=START)
    )


def rows(session: Session, who: Participant) -> dict[str, Message]:
    session.expire_all()
    found = session.scalars(select(Message).where(Message.participant_id == who.id))
    return {m.source_key.rsplit("/", 1)[1]: m for m in found}


def outcome(message: Message) -> str:
    """ "sent" for a queued mail, else the reason it was skipped."""
    return "sent" if message.state is MessageState.QUEUED else str(message.last_answer)


def run(app: Flask, session: Session) -> None:
    with app.app_context():
        materialize(session, TUESDAY_MORNING, {"custom": sequence()})
        session.commit()


def test_each_condition_holds_for_one_and_not_for_the_other(
    app: Flask, session: Session, network: Network, group: PilotGroup
) -> None:
    keen, quiet = (person(session, network, group, e) for e in ("a@alpha.se", "b@alpha.se"))
    baseline = questionnaire(session, network, "baseline")
    follow_up = questionnaire(session, network, "follow-up")
    answered(session, baseline, keen, experience="weekly")
    answered(session, baseline, quiet, experience="never")
    answered(session, follow_up, keen)
    attended(session, network, keen, EventKind.TRAINING)
    attended(session, network, keen, EventKind.PRACTICE_MEETING)
    session.commit()
    run(app, session)
    assert {n: outcome(m) for n, m in rows(session, keen).items()} == {
        "01": "sent",
        "02": "sent",
        "03": "skipped: answered:follow-up",
        "04": "sent",
        "05": "sent",
        "06": "skipped: attended_practice_meeting",
        "07": "skipped: not attended:webinar",
    }
    assert {n: outcome(m) for n, m in rows(session, quiet).items()} == {
        "01": "sent",
        "02": "skipped: not answered:follow-up",
        "03": "sent",
        "04": "skipped: not answer:baseline.experience=weekly",
        "05": "skipped: not attended:training",
        "06": "sent",
        "07": "skipped: not attended:webinar",
    }


def test_an_anonymous_questionnaire_tells_who_answered_but_no_answer(
    app: Flask, session: Session, network: Network, group: PilotGroup
) -> None:
    """Its receipt says that they answered; no answer of theirs is kept, so answer: never
    holds (and the checker refuses such a condition: test_conditions_check.py)."""
    keen = person(session, network, group, "a@alpha.se")
    answered(session, questionnaire(session, network, "baseline", is_anonymous=True), keen)
    answered(session, questionnaire(session, network, "follow-up", is_anonymous=True), keen)
    session.commit()
    run(app, session)
    found = rows(session, keen)
    assert outcome(found["02"]) == "sent"
    assert outcome(found["04"]) == "skipped: not answer:baseline.experience=weekly"


def test_a_questionnaire_of_another_campaign_with_the_same_slug_does_not_count(
    app: Flask, session: Session, network: Network, group: PilotGroup, second_campaign
) -> None:  # type: ignore[no-untyped-def]
    keen = person(session, network, group, "a@alpha.se")
    elsewhere = Questionnaire(
        campaign_id=second_campaign.campaign.id, slug="follow-up",
        kind=QuestionnaireKind.FOLLOW_UP, definition="follow-up", created_at=START,
    )  # fmt: skip
    session.add(elsewhere)
    session.flush()
    session.add(Receipt(questionnaire_id=elsewhere.id, participant_id=keen.id, answered_on=MONDAY))
    session.commit()
    run(app, session)
    assert outcome(rows(session, keen)["02"]) == "skipped: not answered:follow-up"
