"""Pausing until a date: the clock moved across the day the pause ends (a Saturday; Christmas
in winter time), a service that was down that day, the one step caught up with, held mail,
and pauses that unsubscribing or erasure end for good."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.audit import AuditEvent
from campaign.drip.catch_up import SKIPPED_STEP
from campaign.drip.materialize import materialize
from campaign.drip.pauses import DROPPED_EVENT_MAIL, resume_due
from campaign.enrolment import lifecycle
from campaign.enrolment.holds import ParticipantHolds
from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup, PilotGroupKind
from campaign.events.models import Audience, Event, EventKind, Invitation
from campaign.jobs import JOBS, run_job
from campaign.outbox.compose import Footer, render
from campaign.outbox.dispatch import Settings, dispatch
from campaign.outbox.models import Message, MessageKind, MessageState
from campaign.outbox.queue import enqueue, expire_old
from tests.conftest import START, Network
from tests.outbox_helpers import SENDER

SETTINGS = Settings(sender=SENDER, batch_size=50)
HOLDS = ParticipantHolds()
FOOTER = Footer("Du får det här för att du är med i provgruppen.", "https://kampanj.example.se/u/x")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.fixture
def group(session: Session, network: Network) -> PilotGroup:
    made = PilotGroup(
        campaign_id=network.campaign.id,
        organisation_id=network.alpha.id,
        name="Sommargruppen",
        kind=PilotGroupKind.VOLUNTEERS,
        starts_on=date(2014, 6, 19),  # steps 01-05 on 19, 24, 26 June, 3 and 17 July
        sequence_name="pilot-group",
        created_at=START,
    )
    session.add(made)
    session.commit()
    return made


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


def _tick(app: Flask, session: Session, now: datetime) -> int:
    """Resume the pauses that have ended, then queue what is due, as the jobs do in turn."""
    with app.app_context():
        resumed = resume_due(session, now)
        materialize(session, now)
        session.commit()
    return resumed


def _send(app: Flask, session: Session, now: datetime, transport) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return dispatch(session, now, transport, SETTINGS, HOLDS).sent


def _steps(session: Session, person: Participant) -> dict[str, Message]:
    session.expire_all()
    rows = session.scalars(
        select(Message).where(
            Message.participant_id == person.id, Message.kind == MessageKind.SEQUENCE_STEP
        )
    )
    return {m.source_key.rsplit("/", 1)[1]: m for m in rows}


def _pause(session: Session, person: Participant, now: datetime, until: date | None) -> None:
    assert lifecycle.pause(session, person, now, until=until)
    session.commit()


def _delivered(session: Session, person: Participant, at: datetime) -> None:
    """Mark the person's queued mail delivered (as a dispatcher with a server would)."""
    for message in _steps(session, person).values():
        if message.state is MessageState.QUEUED:
            message.state, message.sent_at = MessageState.SENT, at
    session.commit()


def _reload(session: Session, person: Participant) -> Participant:
    session.expire_all()
    return session.get(Participant, person.id)


def test_a_summer_pause_ends_on_a_saturday_morning_and_the_first_missed_step_goes_on_monday(
    app: Flask, session: Session, network: Network, group: PilotGroup, sink
) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    person = _person(session, network, group, "asa@alpha.se")
    for due in (utc(2014, 6, 19, 6, 30), utc(2014, 6, 24, 7)):
        _tick(app, session, due)
        assert _send(app, session, due, transport) == 1
    _pause(session, person, utc(2014, 6, 25, 10), until=date(2014, 8, 16))  # a Saturday
    for due in (utc(2014, 6, 26, 7), utc(2014, 7, 3, 7), utc(2014, 7, 17, 7)):
        assert _tick(app, session, due) == 0
    assert sorted(_steps(session, person)) == ["01", "02"]

    # 07:59 in Stockholm (summer time): still paused; 08:00, the sending window opens: back.
    assert _tick(app, session, utc(2014, 8, 16, 5, 59)) == 0
    assert _reload(session, person).status is ParticipantStatus.PAUSED
    assert _tick(app, session, utc(2014, 8, 16, 6)) == 1
    back = _reload(session, person)
    assert (back.status, back.paused_until) == (ParticipantStatus.ACTIVE, None)
    assert back.resumed_at == utc(2014, 8, 16, 6)
    steps = _steps(session, person)
    assert {steps[n].state for n in ("04", "05")} == {MessageState.CANCELLED}
    assert steps["04"].last_answer == SKIPPED_STEP
    assert "03" not in steps  # a Saturday: it waits for Monday morning
    assert back.next_step_at == utc(2014, 8, 18, 6)

    assert _tick(app, session, utc(2014, 8, 18, 5, 59)) == 0 and "03" not in _steps(session, person)
    _tick(app, session, utc(2014, 8, 18, 6))
    assert _steps(session, person)["03"].due_at == utc(2014, 8, 18, 6)
    assert _send(app, session, utc(2014, 8, 18, 6), transport) == 1
    mail = server.received[-1].parsed()
    assert mail["Subject"] == "Bra ljud gör hela skillnaden" and mail["To"] == "asa@alpha.se"

    # Once: later runs resume nobody and queue nothing more until step 06 in December.
    assert _tick(app, session, utc(2014, 8, 18, 9)) == 0
    assert _tick(app, session, utc(2014, 12, 10, 9)) == 0
    assert _send(app, session, utc(2014, 12, 10, 9), transport) == 0
    assert len(server.received) == 3
    _tick(app, session, utc(2014, 12, 11, 8))
    assert _steps(session, person)["06"].state is MessageState.QUEUED


def test_a_pause_until_christmas_eve_ends_at_eight_winter_time_and_waits_for_the_holidays(
    app: Flask, session: Session, network: Network, group: PilotGroup
) -> None:
    person = _person(session, network, group, "jul@alpha.se")
    _tick(app, session, utc(2014, 7, 17, 7))  # the welcome, and step 05 (the others too late)
    _delivered(session, person, utc(2014, 7, 17, 7, 1))
    _pause(session, person, utc(2014, 10, 1, 9), until=date(2014, 12, 24))
    _tick(app, session, utc(2014, 12, 11, 8))  # step 06 comes due during the pause
    assert "06" not in _steps(session, person)
    # After the October change 08:00 in Stockholm is 07:00 UTC (it was 06:00 in the summer).
    assert _tick(app, session, utc(2014, 12, 24, 6)) == 0
    assert _tick(app, session, utc(2014, 12, 24, 7)) == 1
    # Julafton, juldagen, annandag jul and a weekend: step 06 goes on Monday 29 December.
    assert _reload(session, person).next_step_at == utc(2014, 12, 29, 7)
    _tick(app, session, utc(2014, 12, 29, 7))
    steps = _steps(session, person)
    assert steps["06"].due_at == utc(2014, 12, 29, 7) and steps["06"].state is MessageState.QUEUED
    assert "07" not in steps  # counted from the campaign's end, 17 March 2015: unchanged


def test_a_service_down_on_the_day_resumes_the_pause_when_it_is_back(
    app: Flask, session: Session, network: Network, group: PilotGroup
) -> None:
    person = _person(session, network, group, "nere@alpha.se")
    _tick(app, session, utc(2014, 6, 24, 7))
    _delivered(session, person, utc(2014, 6, 24, 7, 1))
    _pause(session, person, utc(2014, 6, 25, 10), until=date(2014, 8, 16))
    back_at = utc(2014, 8, 20, 10)  # the first run after the outage, a Wednesday at noon
    with app.app_context():
        assert run_job(app, next(j for j in JOBS if j.name == "pauses"), back_at)
        assert run_job(app, next(j for j in JOBS if j.name == "materialize"), back_at)
    assert _reload(session, person).status is ParticipantStatus.ACTIVE
    steps = _steps(session, person)
    assert steps["03"].due_at == back_at and steps["03"].state is MessageState.QUEUED
    assert {steps[n].state for n in ("04", "05")} == {MessageState.CANCELLED}
    session.expire_all()
    audit = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    resumed = [a for a in audit if a.action == "participant.resumed"]
    assert resumed[-1].actor_label == "system"
    assert resumed[-1].details == {"why": "paused until 2014-08-16"}
    ended = [a for a in audit if a.action == "participants.pauses_ended"]
    assert len(ended) == 1 and ended[0].details["participants"] == 1
    assert ended[0].campaign_id == network.campaign.id
    with app.app_context():  # again: nothing left to resume, no second audit
        assert run_job(app, next(j for j in JOBS if j.name == "pauses"), back_at)
    session.expire_all()
    assert len(session.scalars(select(AuditEvent.id)).all()) == len(audit)


def test_a_step_held_over_the_pause_is_the_one_that_goes(
    app: Flask, session: Session, network: Network, group: PilotGroup, sink
) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    person = _person(session, network, group, "kvar@alpha.se")
    _tick(app, session, utc(2014, 6, 26, 7))  # 01, 02 (a day late) and 03 queued, none sent
    _pause(session, person, utc(2014, 6, 26, 7, 0, 10), until=date(2014, 8, 16))
    assert _send(app, session, utc(2014, 6, 26, 7, 1), transport) == 0  # held
    with app.app_context():  # the five days to deliver do not run out during the pause
        assert expire_old(session, utc(2014, 7, 20), HOLDS.held()) == 0
        session.commit()
    _tick(app, session, utc(2014, 8, 16, 6))
    steps = _steps(session, person)
    assert {steps[n].state for n in ("04", "05")} == {MessageState.CANCELLED}
    # Held mail goes at the first sending moment: Monday, not the Saturday it resumed on.
    assert {steps[n].due_at for n in ("01", "02", "03")} == {utc(2014, 8, 18, 6)}
    assert _send(app, session, utc(2014, 8, 16, 6), transport) == 0
    assert _send(app, session, utc(2014, 8, 18, 6), transport) == 3
    _tick(app, session, utc(2014, 8, 18, 6, 1))
    assert sorted(_steps(session, person)) == ["01", "02", "03", "04", "05"]  # nothing new
    assert len(server.received) == 3


def _event(session: Session, network: Network, title: str, starts_at: datetime) -> Event:
    event = Event(
        campaign_id=network.campaign.id,
        kind=EventKind.TRAINING,
        audience=Audience.CAMPAIGN,
        title=title,
        timezone="Europe/Stockholm",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        uid=f"{title}@test",
        reminders="",
        created_at=START,
        updated_at=START,
    )
    session.add(event)
    session.flush()
    return event


def _held_event_mail(session: Session, person: Participant, event: Event, due: datetime) -> int:
    invitation = Invitation(event_id=event.id, participant_id=person.id, created_at=START)
    session.add(invitation)
    session.flush()
    message_id = enqueue(
        session,
        now=due,
        source_key=f"ev:{event.id}:s0:i{invitation.id}:invitation",
        recipient=person.email,
        kind=MessageKind.INVITATION,
        rendered=render(f"Inbjudan: {event.title}", "Välkommen!", {}, language="sv", footer=FOOTER),
        due_at=due,
        sender=SENDER,
        campaign_id=person.campaign_id,
        participant_id=person.id,
    )
    assert message_id is not None
    return message_id


def test_held_mail_waits_and_what_is_about_a_past_event_is_dropped_on_resumption(
    app: Flask, session: Session, network: Network, group: PilotGroup, sink
) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    person = _person(session, network, group, "kurs@alpha.se")
    _pause(session, person, utc(2014, 6, 1), until=date(2014, 8, 18))
    past = _event(session, network, "Juniutbildning", utc(2014, 6, 30, 8))
    coming = _event(session, network, "Septemberutbildning", utc(2014, 9, 10, 8))
    gone = _held_event_mail(session, person, past, utc(2014, 6, 2, 8))
    kept = _held_event_mail(session, person, coming, utc(2014, 6, 2, 8))
    session.commit()
    with app.app_context():
        assert _send(app, session, utc(2014, 6, 2, 8), transport) == 0
        assert expire_old(session, utc(2014, 8, 1), HOLDS.held()) == 0
        session.commit()
    _tick(app, session, utc(2014, 8, 18, 6))
    session.expire_all()
    dropped, waiting = session.get(Message, gone), session.get(Message, kept)
    assert (dropped.state, dropped.last_answer) == (MessageState.CANCELLED, DROPPED_EVENT_MAIL)
    assert (waiting.state, waiting.due_at) == (MessageState.QUEUED, utc(2014, 8, 18, 6))
    # Paused before their start: the welcome is the one step that goes, beside the invitation.
    assert _send(app, session, utc(2014, 8, 18, 6), transport) == 2
    subjects = sorted(r.parsed()["Subject"] for r in server.received)
    assert subjects == [
        "Inbjudan: Septemberutbildning",
        "Välkommen till provgruppen för webbmöten, Åsa!",
    ]


def test_unsubscribing_or_erasure_ends_a_pause_for_good(
    app: Flask, session: Session, network: Network, group: PilotGroup
) -> None:
    gone = _person(session, network, group, "slut@alpha.se")
    erased = _person(session, network, group, "glom@alpha.se")
    for person in (gone, erased):
        _pause(session, person, utc(2014, 7, 1), until=date(2014, 8, 18))
    with app.app_context():
        lifecycle.unsubscribe(session, gone, utc(2014, 7, 2), how="test")
        lifecycle.erase(session, erased, None, utc(2014, 7, 2))
        session.commit()
    assert _tick(app, session, utc(2014, 8, 19, 8)) == 0
    for person, status in (
        (gone, ParticipantStatus.UNSUBSCRIBED),
        (erased, ParticipantStatus.ERASED),
    ):
        found = _reload(session, person)
        assert (found.status, found.paused_until) == (status, None)
        assert set(_steps(session, found)) == set()
