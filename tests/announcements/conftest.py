"""A campaign with people to announce to: Alpha's and Beta's, in every state that matters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup
from campaign.events.models import Event, Invitation
from campaign.outbox.models import SuppressionReason
from campaign.outbox.queue import suppress
from campaign.surveys import service
from campaign.surveys.models import Questionnaire, Receipt
from tests.conftest import START, Network, sign_in
from tests.enrolment_helpers import group, make_event


@dataclass
class People:
    """Who is who: by name, the participants; and the rows the criteria name."""

    by_name: dict[str, Participant]
    alpha_group: PilotGroup
    late_group: PilotGroup
    beta_group: PilotGroup
    meeting: Event
    baseline: Questionnaire

    def ids(self, *names: str) -> set[int]:
        return {self.by_name[name].id for name in names}


# name, member, group, status, language, started on
ROWS = (
    ("anna", "alpha", "alpha", ParticipantStatus.ACTIVE, "sv", date(2014, 3, 3)),
    ("bo", "alpha", "alpha", ParticipantStatus.ACTIVE, "en", date(2014, 3, 3)),
    ("cia", "alpha", "late", ParticipantStatus.ACTIVE, "sv", date(2014, 5, 1)),
    ("dan", "alpha", "alpha", ParticipantStatus.PAUSED, "sv", date(2014, 3, 3)),
    ("eva", "alpha", "alpha", ParticipantStatus.UNSUBSCRIBED, "sv", date(2014, 3, 3)),
    ("fia", "alpha", "alpha", ParticipantStatus.BOUNCED, "sv", date(2014, 3, 3)),
    ("gun", "alpha", "late", ParticipantStatus.ACTIVE, "sv", None),  # the group's day
    ("hugo", "beta", "beta", ParticipantStatus.ACTIVE, "sv", date(2014, 3, 3)),
    ("ida", "beta", "beta", ParticipantStatus.COMPLETED, "en", date(2014, 3, 3)),
)


@pytest.fixture
def people(app: Flask, session: Session, network: Network) -> People:
    groups = {
        "alpha": group(session, network, "Alpha-gruppen"),
        "late": group(session, network, "Sena gruppen"),
        "beta": group(session, network, "Beta-gruppen", org="beta"),
    }
    groups["late"].starts_on = date(2014, 6, 2)
    by_name = {row[0]: _person(session, network, groups, *row) for row in ROWS}
    meeting = make_event(session, network)
    for name, came in (("anna", True), ("bo", False), ("dan", True)):
        session.add(
            Invitation(
                event_id=meeting.id,
                participant_id=by_name[name].id,
                has_attended=came,
                created_at=START,
            )
        )
    baseline = service.questionnaires_of(session, network.campaign, START)[0]
    session.add(
        Receipt(
            questionnaire_id=baseline.id, participant_id=by_name["cia"].id, answered_on=START.date()
        )
    )
    suppress(session, "gun@alpha.se", SuppressionReason.MANUAL, "asked by phone", START)
    session.commit()
    return People(by_name, groups["alpha"], groups["late"], groups["beta"], meeting, baseline)


def _person(
    session: Session,
    network: Network,
    groups: dict[str, PilotGroup],
    name: str,
    member: str,
    group_name: str,
    status: ParticipantStatus,
    language: str,
    starts_on: date | None,
) -> Participant:
    person = Participant(
        campaign_id=network.campaign.id,
        organisation_id=getattr(network, member).id,
        pilot_group_id=groups[group_name].id,
        email=f"{name}@{member}.se",
        name=f"{name.capitalize()} Ek",
        language=language,
        status=status,
        starts_on=starts_on,
        created_at=START,
        updated_at=START,
    )
    session.add(person)
    session.flush()
    return person


def signed_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    sign_in(client, email)
    return client
