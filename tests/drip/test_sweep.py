"""The hourly sweep reads a share of the participants in turn once there are many of them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaign.drip.materialize import materialize
from campaign.drip.sweep import shares, sweep
from campaign.enrolment.models import Participant
from campaign.outbox.models import Message
from tests.conftest import Network
from tests.enrolment_helpers import followers

WELCOME = datetime(2014, 6, 19, 6, 30, tzinfo=UTC)  # step 01 of someone starting 19 June 2014


def _started_a_week_earlier(app: Flask, session: Session) -> None:
    """Everyone gets their welcome; then a change made around the ORM (which the quick runs
    cannot see) moves everyone's start a week earlier, so step 03 is due now."""
    with app.app_context():
        assert materialize(session, WELCOME) > 0
        session.commit()
    session.execute(update(Participant).values(starts_on=date(2014, 6, 12)))
    session.commit()
    with app.app_context():
        assert materialize(session, WELCOME + timedelta(hours=1)) == 0  # not seen


def _with_step_03(session: Session) -> set[int]:
    session.expire_all()
    query = select(Message.participant_id).where(Message.source_key.like("%/03"))
    return set(session.scalars(query))


def test_a_few_participants_are_swept_all_at_once(
    app: Flask, session: Session, network: Network
) -> None:
    people = followers(session, network, 5, date(2014, 6, 19))
    _started_a_week_earlier(app, session)
    assert shares(session) == 1
    with app.app_context():
        assert sweep(session, WELCOME + timedelta(hours=1)) > 0
        session.commit()
    assert _with_step_03(session) == set(people)


def test_many_are_swept_a_share_an_hour_and_all_within_as_many_hours(
    app: Flask, session: Session, network: Network
) -> None:
    people = followers(session, network, 5, date(2014, 6, 19))
    _started_a_week_earlier(app, session)
    assert shares(session, size=2) == 3  # 5 active participants, at most 2 a sweep
    seen: set[int] = set()
    for hours in (1, 2, 3):
        now = WELCOME + timedelta(hours=hours)
        with app.app_context():
            sweep(session, now, size=2)
            session.commit()
        share = int(now.timestamp() // 3600) % 3
        newly = _with_step_03(session) - seen
        assert newly == {p for p in people if p % 3 == share}  # this hour's share, and only it
        seen |= newly
    assert seen == set(people)  # everyone within three hours
    with app.app_context():
        assert sweep(session, WELCOME + timedelta(hours=4), size=2) == 0  # nothing twice
