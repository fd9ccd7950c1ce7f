"""The running demo (`campaign demo`): the network's campaign started some weeks before the
clock's now, with an invented pilot in progress that every staff page can show, and a first
tick after loading that sends a handful of mails, not the weeks gone by."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup
from campaign.events.models import Event, EventKind, Invitation, Rsvp
from campaign.network.models import Membership
from campaign.network.phases import Phase, phase_of
from campaign.outbox.inbound import InboundKind, InboundMessage, InboundOutcome
from campaign.outbox.models import Message, MessageKind, MessageState
from campaign.surveys.models import Questionnaire, Response
from tests.conftest import START, Runner, sign_in
from tests.demo.test_demo import _load, demo_campaign, staff
from tests.swedish_text import offences, visible

NEXT_WEEK = (datetime(2014, 3, 10, tzinfo=UTC), datetime(2014, 3, 17, tzinfo=UTC))


def _count(session: Session, *where: ColumnElement[bool], of: type[Any]) -> int:
    return session.scalar(select(func.count()).select_from(of).where(*where)) or 0


def test_the_pilot_is_in_progress(runner: Runner, session: Session, client: FlaskClient) -> None:
    email, password = _load(runner)["lead_admin"]
    _campaign(session)
    _people(session)
    _meetings(session)
    came_back = _came_back(session)
    by_slug = {q.slug: q.id for q in session.scalars(select(Questionnaire))}
    assert _count(session, Response.questionnaire_id == by_slug["baseline"], of=Response) > 50
    assert _count(session, Response.questionnaire_id == by_slug["follow-up"], of=Response) == 0
    sign_in(client, email, password)
    person = session.scalars(select(Participant).order_by(Participant.id)).first()
    assert person is not None
    pages = ["/dashboard", "/network", "/outbox", "/questionnaires", "/report", "/sequences"]
    pages += ["/inbox", "/inbox?show=all"] + [f"/inbox/{row_id}" for row_id in came_back]
    pages += [f"/organisations/ale/{page}" for page in ("dashboard", "events", "participants")]
    pages += [f"/organisations/ale/{page}" for page in ("progress", "groups", "questionnaires")]
    pages += ["/sequences/pilot-group/history", "/sequences/pilot-group/versions/2", "/milestones"]
    pages += ["/organisations/ale/wording", "/organisations/ale/wording/pilot-group/01"]
    pages += ["/announcements", "/mail-texts"]
    history = client.get(staff("/sequences/pilot-group/history")).get_data(as_text=True)
    assert "Ändrade steg 03" in history and "Lena Lindgren" in history
    ale = client.get(staff("/organisations/ale/wording/pilot-group/01")).get_data(as_text=True)
    assert "IT-servicedesken" in ale  # Ale's own paragraph in its welcome
    for path in (*pages, f"/organisations/{person.organisation.slug}/participants/{person.id}"):
        page = client.get(staff(path))
        assert page.status_code == 200, path
        assert offences(visible(page.text)) == [], path  # in Swedish, the demo's texts too


def _campaign(session: Session) -> None:
    """The campaign started on a Monday six weeks ago and ends two years after; its members'
    contact persons have invented addresses."""
    campaign = demo_campaign(session)
    assert phase_of(campaign, START) is Phase.RUNNING
    assert (campaign.starts_on, campaign.ends_on) == (date(2014, 1, 20), date(2016, 1, 20))
    assert "2013" not in campaign.name and "2015" not in campaign.name
    named = select(Membership.contact_email).where(Membership.contact_name != "")
    contacts = session.scalars(named)
    assert all(address.endswith(".example.org") for address in contacts)


def _people(session: Session) -> None:
    """Pilot users in every member's group, invented, at different steps, a few gone quiet."""
    assert _count(session, of=PilotGroup) == 20  # one per member
    people = session.scalars(select(Participant)).all()
    assert len(people) > 100
    assert all(p.email.endswith(".example.org") and p.consents for p in people)  # invented
    statuses = Counter(p.status for p in people)
    assert statuses[ParticipantStatus.PAUSED] >= 1 and statuses[ParticipantStatus.UNSUBSCRIBED] >= 1
    assert len({p.starts_on for p in people}) >= 5  # some long ago, some this week, some today
    steps = Counter(_sent_steps(session).values())
    assert len(steps) >= 4  # at different steps of the sequence
    late = select(Message).where(Message.last_answer.like("skipped%"))
    assert session.scalars(late).all() == []  # nothing "more than two days late"


def _came_back(session: Session) -> list[int]:
    """Mail came back through the real inbound path: an address bounced (its person is bounced),
    an auto-reply changed nothing, a calendar yes took a place, a person's words wait to be read."""
    rows = session.scalars(select(InboundMessage).order_by(InboundMessage.id)).all()
    assert [(row.kind, row.outcome) for row in rows] == [
        (InboundKind.HARD_BOUNCE, InboundOutcome.APPLIED),
        (InboundKind.AUTO_REPLY, InboundOutcome.RECORDED),
        (InboundKind.OTHER, InboundOutcome.KEPT),
        (InboundKind.CALENDAR_REPLY, InboundOutcome.APPLIED),
    ]
    assert (
        all(row.participant_id for row in rows)
        and [r.needs_attention for r in rows].count(True) == 1
    )
    bounced = session.get(Participant, rows[0].participant_id)
    assert bounced is not None and bounced.status is ParticipantStatus.BOUNCED
    return [row.id for row in rows]


def _sent_steps(session: Session) -> dict[int, int]:
    """How many sequence steps each participant has been sent."""
    rows = session.execute(
        select(Message.participant_id, func.count())
        .where(Message.kind == MessageKind.SEQUENCE_STEP, Message.state == MessageState.SENT)
        .group_by(Message.participant_id)
    )
    return {pid: count for pid, count in rows if pid is not None}


def _meetings(session: Session) -> None:
    """A practice meeting next week, some having answered; a training that was, attended."""
    practice = session.scalars(select(Event).where(Event.kind == EventKind.PRACTICE_MEETING)).all()
    assert practice and all(NEXT_WEEK[0] <= e.starts_at < NEXT_WEEK[1] for e in practice)
    answers = Counter(i.rsvp for e in practice for i in e.invitations)
    assert answers[Rsvp.ACCEPTED] and answers[Rsvp.PENDING]
    trainings = session.scalars(select(Event).where(Event.kind == EventKind.TRAINING)).all()
    assert trainings and all(e.ends_at < START for e in trainings)
    assert _count(session, Invitation.has_attended.is_(True), of=Invitation) > 0
    invited = select(Message).where(Message.kind == MessageKind.INVITATION)
    states = Counter(m.state for m in session.scalars(invited))
    assert set(states) <= {MessageState.SENT, MessageState.FAILED} and states[MessageState.SENT]
    assert states[MessageState.FAILED] <= 1  # the one a bounce came back for, if it was this


def test_the_first_tick_after_loading_sends_a_handful(runner: Runner, app: Flask) -> None:
    _load(runner)
    assert runner.invoke("tick").exit_code == 0  # at the clock's now, the moment of loading
    sent = list((Path(app.config["CAMPAIGN_MAILDIR"]) / "new").iterdir())
    assert 1 <= len(sent) <= 10, len(sent)  # today's newcomers' welcome and baseline
    assert all(b".example.org" in mail.read_bytes() for mail in sent)


def test_the_bare_network(runner: Runner, session: Session) -> None:
    result = runner.invoke("demo", "--empty")
    assert result.exit_code == 0, result.output
    assert phase_of(demo_campaign(session), START) is Phase.RUNNING
    assert _count(session, of=Membership) == 20
    assert _count(session, of=Participant) == 0 and _count(session, of=Message) == 0
