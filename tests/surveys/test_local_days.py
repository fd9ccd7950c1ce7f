"""Questionnaire days are the campaign's local days, not UTC's: the day an answer is given
(its receipt) and the day a questionnaire's closing is counted from."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.surveys import service
from campaign.surveys.definitions import definitions
from campaign.surveys.models import Questionnaire, Receipt
from campaign.timing import parse_offset
from tests.conftest import START, Network
from tests.enrolment_helpers import group
from tests.outbox_helpers import participant


def test_an_answer_after_local_midnight_is_received_on_the_local_day(
    app: Flask, session: Session, network: Network
) -> None:
    at = datetime(2014, 9, 1, 22, 30, tzinfo=UTC)  # 00:30 on 2 September in Stockholm
    with app.app_context():
        person = participant(session, network, "sen@alpha.se")
        person.pilot_group_id = group(session, network).id
        (follow_up,) = [
            q for q in service.questionnaires_of(session, network.campaign, START)
            if q.slug == "follow-up"
        ]  # fmt: skip
        opened = service.open_link(session, service.link_token(follow_up, person), at)
        assert opened is not None
        service.save(session, opened, {}, at)
        session.commit()
    receipt = session.scalars(select(Receipt)).one()
    assert receipt.answered_on == date(2014, 9, 2)


def test_closing_is_counted_from_the_local_day_it_was_sent() -> None:
    definition = dataclasses.replace(
        definitions()["follow-up"], closes_after=parse_offset("+1 business day")
    )
    sent = datetime(2014, 9, 7, 23, 30, tzinfo=UTC)  # Monday 01:30 in Stockholm, Sunday in UTC
    closes = service.closes_at(definition, Questionnaire(), sent, "Europe/Stockholm")
    assert closes == sent + timedelta(days=1)  # Tuesday, one business day after Monday
