"""The reminders job at the size of a campaign-wide meeting: batches committed as they go, a
run cut off by its time carried on by the next, and the runs after everyone has the reminder
left with nothing to lay out (the job runs every minute until the start)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign import db
from campaign.enrolment.models import Participant
from campaign.events import invitations, reminders
from campaign.events.letters import Letters
from campaign.events.models import Invitation, Rsvp
from campaign.jobs import JOBS, run_job
from campaign.outbox.models import Message, MessageKind
from tests.conftest import START, Network
from tests.enrolment_helpers import group, make_event
from tests.outbox_helpers import participant

REMINDERS = next(job for job in JOBS if job.name == "reminders")
STARTS = datetime(2014, 3, 10, 8, 0, tzinfo=UTC)  # make_event's meeting
DAY_BEFORE = STARTS - timedelta(hours=24)


def _invited(app: Flask, session: Session, network: Network, count: int) -> dict[str, int]:
    """A meeting of a pilot group of `count` people, each invited: invitation id by address."""
    with app.app_context():
        target = group(session, network)
        for n in range(count):
            person = participant(session, network, f"p{n}@alpha.se", name=f"Åsa Öberg {n}")
            person.pilot_group_id = target.id
        event = make_event(session, network, target, reminders="24h")
        invitations.invite(session, event, START)
        session.commit()
    rows = session.execute(
        select(Participant.email, Invitation.id).join(
            Participant, Participant.id == Invitation.participant_id
        )
    )
    return {email: invitation_id for email, invitation_id in rows}


def _one_declining(
    app: Flask, session: Session, network: Network, count: int, declining: str
) -> dict[str, int]:
    """`_invited`, and the invitee at `declining` has said no."""
    invited = _invited(app, session, network, count)
    with app.app_context():
        no = session.get(Invitation, invited[declining])
        assert no is not None
        invitations.respond(session, no, Rsvp.DECLINED, START)
        session.commit()
    return invited


def _reminded(app: Flask) -> Counter[str]:
    """Each address's reminders, as another process sees the outbox (committed rows only)."""
    with db.open_session(app) as other:
        kind = Message.kind == MessageKind.REMINDER
        return Counter(other.scalars(select(Message.recipient).where(kind)))


def _tick(app: Flask, moment: datetime) -> None:
    app.extensions["campaign.clock"].set(moment)
    assert run_job(app, REMINDERS)


def test_a_run_cut_off_by_its_time_is_carried_on_and_reaches_each_invitee_once(
    app: Flask, session: Session, network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    invited = _one_declining(app, session, network, 7, "p3@alpha.se")
    monkeypatch.setattr(reminders, "BATCH", 2)
    monkeypatch.setattr(reminders, "RUN_SECONDS", 0.0)  # each run stops after its first batch
    seen = []
    for minute in range(5):
        _tick(app, DAY_BEFORE + timedelta(minutes=minute))
        seen.append(sum(_reminded(app).values()))
    assert seen == [2, 4, 6, 6, 6]
    assert _reminded(app) == Counter(a for a in invited if a != "p3@alpha.se")


def test_runs_after_everyone_has_the_reminder_lay_nothing_out_but_reach_a_late_yes(
    app: Flask, session: Session, network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    invited = _one_declining(app, session, network, 3, "p2@alpha.se")
    _tick(app, DAY_BEFORE)
    assert _reminded(app) == Counter(["p0@alpha.se", "p1@alpha.se"])

    laid_out: list[int] = []
    message = Letters.message

    def counted(letters: Letters, invitee, kind, **more):  # type: ignore[no-untyped-def]
        laid_out.append(invitee.invitation_id)
        return message(letters, invitee, kind, **more)

    monkeypatch.setattr(Letters, "message", counted)
    _tick(app, DAY_BEFORE + timedelta(minutes=1))
    assert laid_out == [] and sum(_reminded(app).values()) == 2

    # Saying yes after the reminder's moment: the next run reminds them too, and only them.
    session.expire_all()
    with app.app_context():
        late = session.get(Invitation, invited["p2@alpha.se"])
        assert late is not None
        invitations.respond(session, late, Rsvp.ACCEPTED, DAY_BEFORE + timedelta(minutes=2))
        session.commit()
    _tick(app, DAY_BEFORE + timedelta(minutes=3))
    assert laid_out == [invited["p2@alpha.se"]]
    assert _reminded(app) == Counter(["p0@alpha.se", "p1@alpha.se", "p2@alpha.se"])
