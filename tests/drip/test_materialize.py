"""Materializing sequence steps: exact due times across midsommar, DST and a pause; once each."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from campaign import db
from campaign.drip.materialize import materialize
from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup, PilotGroupKind
from campaign.events.models import Audience, Event, EventKind, Invitation
from campaign.network.models import Membership
from campaign.outbox.models import Message, MessageState
from campaign.timing import moment_text
from tests.conftest import START, Network, SecondCampaign, sign_in
from tests.urls import staff

# The shipped pilot-group sequence for someone starting Thursday 19 June 2014, the day before
# midsommarafton, in Europe/Stockholm: (step, due instant in UTC).
EXPECTED = [
    ("01", datetime(2014, 6, 19, 6, 30, tzinfo=UTC)),  # +0d 08:30 CEST
    ("02", datetime(2014, 6, 24, 7, 0, tzinfo=UTC)),  # +2 business days: over midsommar
    ("03", datetime(2014, 6, 26, 7, 0, tzinfo=UTC)),  # +1w
    ("04", datetime(2014, 7, 3, 7, 0, tzinfo=UTC)),  # +2w
    ("05", datetime(2014, 7, 17, 7, 0, tzinfo=UTC)),  # +4w
    ("06", datetime(2014, 12, 11, 8, 0, tzinfo=UTC)),  # +25w, 09:00 CET after the October change
]


@pytest.fixture
def group(session: Session, network: Network) -> PilotGroup:
    membership = session.scalars(
        select(Membership).where(Membership.organisation_id == network.alpha.id)
    ).one()
    membership.contact_name, membership.contact_email = "Petter Bergman", "petter@alpha.se"
    membership.guide_url = "https://intranat.alpha.se/lync"
    group = PilotGroup(
        campaign_id=network.campaign.id,
        organisation_id=network.alpha.id,
        name="Chefer",
        kind=PilotGroupKind.SELECTED_MANAGERS,
        starts_on=date(2014, 6, 19),
        sequence_name="pilot-group",
        created_at=START,
    )
    session.add(group)
    session.commit()
    return group


def _person(session: Session, network: Network, group: PilotGroup, email: str) -> Participant:
    person = Participant(
        campaign_id=network.campaign.id,
        organisation_id=network.alpha.id,
        pilot_group_id=group.id,
        email=email,
        name="Åsa Öberg",
        status=ParticipantStatus.ACTIVE,
        created_at=START,
        updated_at=START,
    )
    session.add(person)
    session.commit()
    return person


def _run(app: Flask, session: Session, now: datetime) -> int:
    with app.app_context():
        added = materialize(session, now)
        session.commit()
    return added


def _rows(session: Session, person: Participant) -> dict[str, Message]:
    session.expire_all()
    rows = session.scalars(select(Message).where(Message.participant_id == person.id))
    return {m.source_key.rsplit("/", 1)[1]: m for m in rows}


def test_walk_through_the_sequence_with_a_pause(
    app: Flask, session: Session, network: Network, group: PilotGroup
) -> None:
    person = _person(session, network, group, "asa@alpha.se")
    for number, due in EXPECTED:
        if number == "04":
            person.status = ParticipantStatus.PAUSED  # paused on 30 June, back on 10 July
            session.commit()
            assert _run(app, session, due) == 0 and number not in _rows(session, person)
            person.status = ParticipantStatus.ACTIVE
            session.commit()
            resumed = datetime(2014, 7, 10, 8, 0, tzinfo=UTC)
            assert _run(app, session, resumed) == 1
            late = _rows(session, person)["04"]
            assert late.state is MessageState.CANCELLED and "late" in late.last_answer
            continue
        assert _run(app, session, due - timedelta(minutes=1)) == 0, number
        assert number not in _rows(session, person)
        assert _run(app, session, due) == 1, number
        message = _rows(session, person)[number]
        assert message.due_at == due and message.state is MessageState.QUEUED, number
    rows = _rows(session, person)
    assert sorted(rows) == ["01", "02", "03", "04", "05", "06"]
    welcome = rows["01"]
    assert welcome.subject == "Välkommen till provgruppen för webbmöten, Åsa!"
    assert "Petter Bergman" in welcome.text_body  # the member's own support contact
    assert "(petter@alpha.se)" in welcome.text_body
    assert "Vår guide till Lync finns här: https://intranat.alpha.se/lync" in welcome.text_body
    assert "Lync" in welcome.text_body and "Alpha kommun" in welcome.text_body
    assert welcome.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert _run(app, session, datetime(2015, 1, 1, tzinfo=UTC)) == 0  # nothing twice


def test_a_late_start_gets_the_welcome_but_no_burst(
    app: Flask, session: Session, network: Network, group: PilotGroup
) -> None:
    person = _person(session, network, group, "late@alpha.se")
    assert _run(app, session, datetime(2014, 7, 18, 8, 0, tzinfo=UTC)) == 5
    rows = _rows(session, person)
    assert rows["01"].state is MessageState.QUEUED  # the welcome is always sent
    assert {rows[n].state for n in ("02", "03", "04")} == {MessageState.CANCELLED}
    assert rows["05"].state is MessageState.QUEUED  # a day late: still sent


def test_a_condition_skips_a_step(
    app: Flask, session: Session, network: Network, group: PilotGroup
) -> None:
    person = _person(session, network, group, "keen@alpha.se")
    meeting = Event(
        campaign_id=network.campaign.id,
        kind=EventKind.PRACTICE_MEETING,
        audience=Audience.CAMPAIGN,
        title="Prova-på-möte",
        timezone="Europe/Stockholm",
        starts_at=datetime(2014, 6, 19, 12, tzinfo=UTC),
        ends_at=datetime(2014, 6, 19, 13, tzinfo=UTC),
        uid="practice-1@test",
        created_at=START,
        updated_at=START,
    )
    session.add(meeting)
    session.flush()
    session.add(
        Invitation(
            event_id=meeting.id, participant_id=person.id, has_attended=True, created_at=START
        )
    )
    session.commit()
    _run(app, session, EXPECTED[1][1])
    step = _rows(session, person)["02"]
    assert step.state is MessageState.CANCELLED
    assert step.last_answer == "skipped: attended_practice_meeting"


def test_two_processes_at_once_queue_each_step_once(
    app: Flask, session: Session, network: Network, group: PilotGroup
) -> None:
    for n in range(20):
        _person(session, network, group, f"p{n}@alpha.se")
    now = EXPECTED[2][1]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with app.app_context(), db.open_session(app) as own:
                barrier.wait()
                materialize(own, now)
                own.commit()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    total = session.scalar(select(func.count()).select_from(Message))
    keys = session.scalar(select(func.count(func.distinct(Message.source_key))))
    assert total == keys == 20 * 3


def test_progress_and_dry_run_schedule(
    app: Flask, session: Session, network: Network, group: PilotGroup
) -> None:
    person = _person(session, network, group, "asa@alpha.se")
    _run(app, session, EXPECTED[1][1])  # steps 01 and 02 queued
    app.extensions["campaign.clock"].set(EXPECTED[1][1] + timedelta(hours=1))
    client = app.test_client()
    sign_in(client, "rep@alpha.se")
    page = client.get(staff("/organisations/alpha/progress")).get_data(as_text=True)
    assert (
        "asa@alpha.se" in page and "02 · Ditt första webbmöte – prova med någon du känner" in page
    )
    assert "26 juni 2014 kl. 09.00" in page  # the next step, in local time
    schedule = client.get(staff(f"/organisations/alpha/participants/{person.id}/schedule"))
    text = schedule.get_data(as_text=True)
    for _number, due in EXPECTED:  # every step with its local due time (a dry run)
        with app.app_context():
            local = moment_text(due, ZoneInfo("Europe/Stockholm"), "sv")
        assert local in text  # 3 juli 2014 kl. 09.00
    assert text.count("I kö") >= 2 and "Kommer" in text
    other = app.test_client()
    sign_in(other, "rep@beta.se")
    assert (
        other.get(staff(f"/organisations/beta/participants/{person.id}/schedule")).status_code
        == 404
    )
    assert other.get(staff("/organisations/alpha/progress")).status_code == 404


def test_a_step_anchored_to_the_campaigns_end(
    app: Flask, session: Session, network: Network, group: PilotGroup
) -> None:
    person = _person(session, network, group, "asa@alpha.se")
    _run(app, session, datetime(2015, 1, 1, tzinfo=UTC))  # everything up to step 06
    assert "07" not in _rows(session, person)
    due = datetime(2015, 3, 17, 8, 0, tzinfo=UTC)  # 31 March 2015 minus two weeks, 09:00 CET
    assert _run(app, session, due - timedelta(minutes=1)) == 0
    assert _run(app, session, due) == 1
    step = _rows(session, person)["07"]
    assert step.due_at == due and step.subject == "Två veckor kvar – dela ett tips med en kollega"


def test_preview_a_step_as_a_participant_gets_it(
    app: Flask, session: Session, network: Network, group: PilotGroup
) -> None:
    _person(session, network, group, "asa@alpha.se")
    client = app.test_client()
    sign_in(client, "lead@alpha.se")
    page = client.get(staff("/sequences/pilot-group/sv/02?participant=ASA@alpha.se "))
    text = page.get_data(as_text=True)
    assert "som Åsa Öberg får det" in text and "Petter Bergman hjälper dig gärna" in text
    html = client.get(staff("/sequences/pilot-group/sv/02/html?participant=asa@alpha.se"))
    assert "petter@alpha.se" in html.get_data(as_text=True)
    missing = client.get(staff("/sequences/pilot-group/sv/02?participant=nobody@alpha.se"))
    assert "Ingen aktiv deltagare" in missing.get_data(as_text=True)


def _meeting(session: Session, network: Network, uid: str, start: datetime) -> Event:
    meeting = Event(
        campaign_id=network.campaign.id,
        kind=EventKind.PRACTICE_MEETING,
        audience=Audience.CAMPAIGN,
        title="Prova-på-möte i Lync",
        timezone="Europe/Stockholm",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        uid=uid,
        join_url="https://meet.alpha.se/provapa",
        created_at=START,
        updated_at=START,
    )
    session.add(meeting)
    session.flush()
    return meeting


def test_the_day_after_a_practice_meeting_those_absent_get_the_next_date(
    app: Flask, session: Session, network: Network, group: PilotGroup
) -> None:
    absent = _person(session, network, group, "absent@alpha.se")
    present = _person(session, network, group, "present@alpha.se")
    first = _meeting(session, network, "m1@test", datetime(2014, 6, 25, 11, 0, tzinfo=UTC))
    second = _meeting(session, network, "m2@test", datetime(2014, 7, 2, 8, 0, tzinfo=UTC))
    for meeting in (first, second):
        session.add(Invitation(event_id=meeting.id, participant_id=absent.id, created_at=START))
        session.add(
            Invitation(
                event_id=meeting.id,
                participant_id=present.id,
                has_attended=meeting is first,
                created_at=START,
            )
        )
    session.commit()
    due = datetime(2014, 6, 26, 7, 0, tzinfo=UTC)  # the day after, 09:00 CEST
    _run(app, session, due)
    missed = _rows(session, absent)[f"08:e{first.id}"]
    assert missed.state is MessageState.QUEUED and missed.due_at == due
    assert missed.subject == "Nästa prova-på-möte är 2 juli 2014 kl. 10.00 – välkommen då"
    assert "https://meet.alpha.se/provapa" in missed.text_body
    came = _rows(session, present)[f"08:e{first.id}"]
    assert came.state is MessageState.CANCELLED
    assert came.last_answer == "skipped: attended_practice_meeting"
    after_last = datetime(2014, 7, 3, 7, 0, tzinfo=UTC)  # the day after the last meeting
    _run(app, session, after_last)
    assert f"08:e{second.id}" not in _rows(session, absent)  # a later date may yet be planned
    _run(app, session, after_last + timedelta(days=2, minutes=1))  # none was, in two days
    last = _rows(session, absent)[f"08:e{second.id}"]
    assert last.state is MessageState.CANCELLED
    assert last.last_answer == "skipped: no later date to offer"


def test_a_next_date_planned_the_day_after_still_reaches_those_absent(
    app: Flask, session: Session, network: Network, group: PilotGroup
) -> None:
    absent = _person(session, network, group, "absent@alpha.se")
    first = _meeting(session, network, "m1@test", datetime(2014, 6, 25, 11, 0, tzinfo=UTC))
    session.add(Invitation(event_id=first.id, participant_id=absent.id, created_at=START))
    session.commit()
    due = datetime(2014, 6, 26, 7, 0, tzinfo=UTC)  # the day after, 09:00 CEST: no next date
    _run(app, session, due)
    assert f"08:e{first.id}" not in _rows(session, absent)
    # That afternoon the organiser plans the next practice meeting and invites the group.
    second = _meeting(session, network, "m2@test", datetime(2014, 7, 2, 8, 0, tzinfo=UTC))
    session.add(Invitation(event_id=second.id, participant_id=absent.id, created_at=START))
    session.commit()
    _run(app, session, due + timedelta(hours=6))
    offered = _rows(session, absent)[f"08:e{first.id}"]
    assert offered.state is MessageState.QUEUED
    assert offered.subject == "Nästa prova-på-möte är 2 juli 2014 kl. 10.00 – välkommen då"


def test_a_step_that_falls_on_a_holiday_waits_for_the_next_working_day(
    app: Flask, session: Session, network: Network, group: PilotGroup
) -> None:
    person = _person(session, network, group, "friday@alpha.se")
    person.starts_on = date(2014, 6, 13)  # a Friday: +1w is midsommarafton
    session.commit()
    _run(app, session, datetime(2014, 6, 20, 12, 0, tzinfo=UTC))
    assert "03" not in _rows(session, person)
    monday = datetime(2014, 6, 23, 7, 0, tzinfo=UTC)  # Monday 09:00 CEST
    _run(app, session, monday)
    assert _rows(session, person)["03"].due_at == monday


def _next_step_at(session: Session, person: Participant) -> datetime | None:
    session.expire_all()
    return session.get(Participant, person.id).next_step_at


def test_each_run_reads_only_those_whose_next_step_has_come(
    app: Flask, session: Session, network: Network, group: PilotGroup
) -> None:
    person = _person(session, network, group, "asa@alpha.se")
    assert _next_step_at(session, person) is None  # new: looked at on the next run
    assert _run(app, session, EXPECTED[0][1]) == 1
    assert _next_step_at(session, person) == EXPECTED[1][1]  # step 02's moment, exactly
    # Until then a run leaves them alone; a row that says otherwise is not even read.
    session.execute(
        update(Participant).where(Participant.id == person.id).values(language="en")
    )  # a change made around the ORM, which the quick runs cannot see
    session.commit()
    assert _run(app, session, EXPECTED[1][1] - timedelta(seconds=1)) == 0
    assert _next_step_at(session, person) == EXPECTED[1][1]
    # The hourly sweep reads everyone, and so sees it.
    with app.app_context():
        assert materialize(session, EXPECTED[1][1] - timedelta(seconds=1), everyone=True) == 0
        session.commit()
    assert _run(app, session, EXPECTED[1][1]) == 1
    assert _next_step_at(session, person) == EXPECTED[2][1]
    assert _rows(session, person)["02"].subject.startswith("Your first web meeting")


def test_a_change_that_moves_a_step_earlier_is_seen_on_the_next_run(
    app: Flask, session: Session, network: Network, group: PilotGroup
) -> None:
    person = _person(session, network, group, "asa@alpha.se")
    _run(app, session, EXPECTED[0][1])
    assert _next_step_at(session, person) == EXPECTED[1][1]
    session.get(Participant, person.id).starts_on = date(2014, 6, 12)  # a week earlier
    session.commit()
    assert _next_step_at(session, person) is None
    # Step 02 of a start on 12 June was due on 16 June: now, on the 17th, it goes at once.
    assert _run(app, session, datetime(2014, 6, 17, 7, 0, tzinfo=UTC)) == 1
    assert set(_rows(session, person)) == {"01", "02"}

    # A pilot group's new start date reaches its people the same way.
    other = _person(session, network, group, "bo@alpha.se")
    _run(app, session, datetime(2014, 6, 19, 7, 0, tzinfo=UTC))
    assert _next_step_at(session, other) == EXPECTED[1][1]
    session.get(PilotGroup, group.id).starts_on = date(2014, 6, 16)
    session.commit()
    assert _next_step_at(session, other) is None
    assert _next_step_at(session, person) is None  # in the group too: looked at again


def test_a_new_invitation_is_seen_on_the_next_run(
    app: Flask, session: Session, network: Network, group: PilotGroup
) -> None:
    person = _person(session, network, group, "asa@alpha.se")
    _run(app, session, EXPECTED[0][1])
    assert _next_step_at(session, person) == EXPECTED[1][1]
    event = Event(
        campaign_id=network.campaign.id,
        kind=EventKind.PRACTICE_MEETING,
        audience=Audience.CAMPAIGN,
        title="Prova-på-möte",
        timezone="Europe/Stockholm",
        starts_at=datetime(2014, 6, 20, 7, 0, tzinfo=UTC),
        ends_at=datetime(2014, 6, 20, 8, 0, tzinfo=UTC),
        uid="uid-1@test",
        created_at=START,
        updated_at=START,
    )
    session.add(event)
    session.flush()
    session.add(Invitation(event_id=event.id, participant_id=person.id, created_at=START))
    session.commit()
    assert _next_step_at(session, person) is None


def test_a_person_in_two_campaigns_gets_each_ones_sequence_in_its_zone_and_words(
    app: Flask,
    session: Session,
    network: Network,
    group: PilotGroup,  # before the second campaign: it sets Alpha's only membership's facts
    second_campaign: SecondCampaign,
) -> None:
    """The job works through every campaign: Alpha's pilot group of each, the same address in
    both, each welcome at 08:30 in its own campaign's zone, naming its own campaign and its
    own member's facts."""
    second_campaign.campaign.timezone = "Europe/Helsinki"
    theirs = PilotGroup(
        campaign_id=second_campaign.campaign.id, organisation_id=network.alpha.id, name="Chefer",
        kind=PilotGroupKind.SELECTED_MANAGERS, starts_on=date(2014, 6, 19),
        sequence_name="pilot-group", created_at=START,
    )  # fmt: skip
    session.add(theirs)
    session.commit()
    ours = _person(session, network, group, "asa@alpha.se")
    other = Participant(
        campaign_id=second_campaign.campaign.id, organisation_id=network.alpha.id,
        pilot_group_id=theirs.id, email="asa@alpha.se", name="Åsa Öberg",
        status=ParticipantStatus.ACTIVE, created_at=START, updated_at=START,
    )  # fmt: skip
    session.add(other)
    session.commit()
    _run(app, session, datetime(2014, 6, 19, 7, 0, tzinfo=UTC))
    here, there = _rows(session, ours)["01"], _rows(session, other)["01"]
    assert here.campaign_id == network.campaign.id and there.campaign_id == other.campaign_id
    assert here.due_at == datetime(2014, 6, 19, 6, 30, tzinfo=UTC)  # 08:30 in Stockholm
    assert there.due_at == datetime(2014, 6, 19, 5, 30, tzinfo=UTC)  # 08:30 in Helsinki
    assert "Testöverenskommelsen" in here.text_body and "Lync" in here.text_body
    assert "Andra överenskommelsen" in there.text_body and "Zoom" in there.text_body
    assert "Testöverenskommelsen" not in there.text_body and "Lync" not in there.text_body
