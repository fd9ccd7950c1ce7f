"""Steps anchored to a milestone: due at their offset from the member's date, else the
campaign's (a week before, or on the day, across the October change of summer time); not
planned without a date, and the schedule says why; setting a date makes the drip look again."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.drip import stored
from campaign.drip.files import Sequence, parse_sequence
from campaign.drip.materialize import materialize
from campaign.drip.schedule import plan
from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup, PilotGroupKind
from campaign.milestones.dates import dates_for, set_milestone
from campaign.milestones.models import Milestone
from campaign.network.models import Campaign, Organisation
from campaign.outbox.models import Message, MessageState
from tests.conftest import START, Network, sign_in
from tests.urls import staff

# Summer time ends on Sunday 26 October 2014 in Stockholm.
TEAMS = date(2014, 10, 27)  # the campaign's date: Monday after the change
ALPHA_TEAMS = date(2014, 11, 10)  # Alpha's own
STEPS = {
    "01-welcome.md": ("+0d", "start"),
    "02-a-week-before.md": ("-1w", "milestone:teams"),
    "03-on-the-day.md": ("+0d", "milestone:teams"),
    "04-rollout.md": ("+1d", "milestone:rollout"),
}


def sequence() -> Sequence:
    files = {
        f"{language}/{name}": (
            f'---\noffset: "{offset}"\nanchor: {anchor}\nat: "08:30"\nsubject: Steg\n---\nHej!\n'
        )
        for name, (offset, anchor) in STEPS.items()
        for language in ("sv", "en")
    }
    found, problems = parse_sequence("custom", files)
    assert problems == []
    return found


def milestone(session: Session, network: Network, name: str, day: date, whose=None) -> None:  # type: ignore[no-untyped-def]
    session.add(
        Milestone(
            campaign_id=network.campaign.id, organisation_id=whose, name=name, day=day,
            updated_at=START,
        )
    )  # fmt: skip


def enrol(session: Session, network: Network, organisation: Organisation) -> Participant:
    group = PilotGroup(
        campaign_id=network.campaign.id, organisation_id=organisation.id, name="Grupp",
        kind=PilotGroupKind.VOLUNTEERS, starts_on=date(2014, 6, 2), sequence_name="custom",
        created_at=START,
    )  # fmt: skip
    session.add(group)
    session.flush()
    person = Participant(
        campaign_id=network.campaign.id, organisation_id=organisation.id,
        pilot_group_id=group.id, email=f"asa@{organisation.slug}.se", name="Åsa Öberg",
        status=ParticipantStatus.ACTIVE, created_at=START, updated_at=START,
    )  # fmt: skip
    session.add(person)
    session.flush()
    return person


@pytest.fixture
def people(session: Session, network: Network) -> tuple[Participant, Participant]:
    """Alpha's and Beta's participant; "teams" for the campaign and Alpha's own, "rollout" for
    Beta only."""
    milestone(session, network, "teams", TEAMS)
    milestone(session, network, "teams", ALPHA_TEAMS, network.alpha.id)
    milestone(session, network, "rollout", date(2014, 9, 1), network.beta.id)
    found = enrol(session, network, network.alpha), enrol(session, network, network.beta)
    session.commit()
    return found


def planned(session: Session, person: Participant) -> dict[str, tuple[datetime | None, str]]:
    """The person's plan of the custom sequence: each step's due moment and state."""
    group = session.get(PilotGroup, person.pilot_group_id)
    campaign = session.get(Campaign, person.campaign_id)
    assert group is not None and campaign is not None
    dates = dates_for(session, [(person.campaign_id, person.organisation_id)])
    found = plan(
        person, group, campaign, {}, START, {"custom": sequence()}, [],
        dates[(person.campaign_id, person.organisation_id)],
    )  # fmt: skip
    return {item.step.number: (item.due, item.state) for item in found}


def test_a_members_date_overrides_the_campaigns_across_the_change_of_summer_time(
    app: Flask, session: Session, network: Network, people: tuple[Participant, Participant]
) -> None:
    alpha, beta = people
    # Beta follows the campaign's date: a week before in summer time, on the day in winter time.
    beta_plan = planned(session, beta)
    assert beta_plan["02"][0] == datetime(2014, 10, 20, 6, 30, tzinfo=UTC)  # 08:30 CEST
    assert beta_plan["03"][0] == datetime(2014, 10, 27, 7, 30, tzinfo=UTC)  # 08:30 CET
    assert beta_plan["04"][0] == datetime(2014, 9, 2, 6, 30, tzinfo=UTC)  # Beta's rollout, +1d
    alpha_plan = planned(session, alpha)
    assert alpha_plan["02"] == (datetime(2014, 11, 3, 7, 30, tzinfo=UTC), "future")
    assert alpha_plan["03"] == (datetime(2014, 11, 10, 7, 30, tzinfo=UTC), "future")
    assert alpha_plan["04"] == (None, "no_date")  # no rollout date for Alpha


def _rows(session: Session, person: Participant) -> dict[str, Message]:
    session.expire_all()
    found = session.scalars(select(Message).where(Message.participant_id == person.id))
    return {m.source_key.rsplit("/", 1)[1]: m for m in found}


def _run(app: Flask, session: Session, now: datetime) -> None:
    with app.app_context():
        materialize(session, now, {"custom": sequence()})
        session.commit()


def test_materialize_sends_at_each_members_date_and_never_without_one(
    app: Flask, session: Session, network: Network, people: tuple[Participant, Participant]
) -> None:
    alpha, beta = people
    _run(app, session, datetime(2014, 10, 20, 6, 31, tzinfo=UTC))
    assert "02" in _rows(session, beta) and "02" not in _rows(session, alpha)
    assert _rows(session, beta)["02"].due_at == datetime(2014, 10, 20, 6, 30, tzinfo=UTC)
    assert _rows(session, beta)["04"].state is MessageState.CANCELLED  # Sep: long overdue
    _run(app, session, datetime(2014, 11, 3, 7, 31, tzinfo=UTC))
    assert _rows(session, alpha)["02"].state is MessageState.QUEUED
    assert _rows(session, alpha)["02"].due_at == datetime(2014, 11, 3, 7, 30, tzinfo=UTC)
    _run(app, session, datetime(2015, 3, 1, 9, 0, tzinfo=UTC))
    assert set(_rows(session, alpha)) == {"01", "02", "03"}  # never 04: Alpha has no rollout


def test_setting_a_members_date_has_the_drip_look_again(
    app: Flask, session: Session, network: Network, people: tuple[Participant, Participant]
) -> None:
    alpha, beta = people
    _run(app, session, datetime(2014, 10, 1, 8, 0, tzinfo=UTC))
    session.expire_all()
    assert alpha.next_step_at is not None and beta.next_step_at is not None
    with app.app_context():
        values = {"name": "rollout", "day": date(2014, 10, 6)}
        set_milestone(session, network.campaign.id, network.alpha.id, values, None, START)
        session.commit()
    session.expire_all()
    assert alpha.next_step_at is None and beta.next_step_at is not None
    _run(app, session, datetime(2014, 10, 7, 6, 31, tzinfo=UTC))
    assert _rows(session, alpha)["04"].due_at == datetime(2014, 10, 7, 6, 30, tzinfo=UTC)


def test_the_schedule_says_why_a_step_is_not_planned(
    app: Flask, session: Session, network: Network, people: tuple[Participant, Participant]
) -> None:
    alpha, _beta = people
    files = dict(stored.current(session, network.campaign.id, "pilot-group").files)
    files["sv/09-rollout.md"] = files["en/09-rollout.md"] = (
        '---\noffset: "-1w"\nanchor: milestone:rollout\nat: "08:30"\nsubject: Snart\n---\nHej!\n'
    )
    with app.app_context():
        stored.save(
            session, network.campaign.id, "pilot-group", files, author_id=None, note="edit",
            now=START,
        )  # fmt: skip
        group = session.get(PilotGroup, alpha.pilot_group_id)
        group.sequence_name = "pilot-group"
        session.commit()
    client = app.test_client()
    sign_in(client, "rep@alpha.se")
    page = client.get(staff(f"/organisations/alpha/participants/{alpha.id}/schedule"))
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Inte planerat" in text
    assert "Det räknas från milstolpen rollout, som inte har något datum för Alpha kommun." in text
