"""Constraints live in the database: they hold even when Python code is bypassed or wrong."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from campaign.accounts.models import Role, User
from campaign.enrolment.models import Participant, PilotGroup, PilotGroupKind
from campaign.events.models import Audience, Event, EventKind, Invitation
from campaign.network.models import Organisation, OrganisationKind
from campaign.outbox.models import Message, MessageKind, MessageState
from tests.conftest import START, Network

NOW = datetime(2014, 5, 2, 8, 0, tzinfo=UTC)


def _refused(session: Session, *rows: object) -> None:
    session.add_all(rows)
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def _participant(network: Network, email: str, org: Organisation | None = None) -> Participant:
    org = org or network.alpha
    return Participant(
        campaign_id=network.campaign.id,
        organisation_id=org.id,
        email=email,
        created_at=START,
        updated_at=START,
    )


def test_email_is_unique_per_campaign(session: Session, network: Network) -> None:
    session.add(_participant(network, "anna@alpha.se"))
    session.flush()
    _refused(session, _participant(network, "anna@alpha.se", network.beta))


def test_email_must_be_stored_lowercase(session: Session, network: Network) -> None:
    _refused(session, _participant(network, "Anna@Alpha.se"))


def test_participant_needs_a_member_organisation(session: Session, network: Network) -> None:
    outsider = Organisation(
        slug="gamma",
        name="Gamma",
        short_name="Gamma",
        kind=OrganisationKind.OTHER,
        created_at=START,
    )
    session.add(outsider)
    session.flush()
    _refused(session, _participant(network, "x@gamma.se", outsider))


def test_pilot_group_must_belong_to_the_participants_organisation(
    session: Session, network: Network
) -> None:
    group = PilotGroup(
        campaign_id=network.campaign.id,
        organisation_id=network.beta.id,
        name="Chefer",
        kind=PilotGroupKind.SELECTED_MANAGERS,
        starts_on=date(2014, 3, 1),
        created_at=START,
    )
    session.add(group)
    session.flush()
    participant = _participant(network, "x@alpha.se")
    participant.pilot_group_id = group.id
    _refused(session, participant)


def _message(source_key: str, message_id: str) -> Message:
    return Message(
        source_key=source_key,
        recipient="a@alpha.se",
        kind=MessageKind.SEQUENCE_STEP,
        subject="Välkommen",
        text_body="Hej",
        html_body="<p>Hej</p>",
        message_id=message_id,
        due_at=NOW,
        created_at=START,
    )


def test_outbox_source_key_is_unique(session: Session, network: Network) -> None:
    session.add(_message("p:1:seq:welcome/01", "<1@test>"))
    session.flush()
    _refused(session, _message("p:1:seq:welcome/01", "<2@test>"))


def test_message_being_sent_has_a_lease(session: Session, network: Network) -> None:
    message = _message("p:1:seq:welcome/02", "<3@test>")
    message.state = MessageState.SENDING
    _refused(session, message)


def test_member_rep_needs_an_organisation(session: Session, network: Network) -> None:
    _refused(session, User(email="x@y.se", name="X", role=Role.MEMBER_REP, created_at=START))


def test_unknown_enum_value_is_refused_by_the_database(session: Session, network: Network) -> None:
    with pytest.raises(IntegrityError):
        session.connection().exec_driver_sql(
            "INSERT INTO organisation (slug, name, short_name, kind, created_at) "
            "VALUES ('x', 'X', 'X', 'castle', '2014-01-01 00:00:00')"
        )
    session.rollback()


def test_event_ends_after_it_starts_and_invites_one_person(
    session: Session, network: Network
) -> None:
    event = Event(
        campaign_id=network.campaign.id,
        kind=EventKind.PRACTICE_MEETING,
        audience=Audience.CAMPAIGN,
        title="Prova-på",
        starts_at=NOW,
        ends_at=NOW,
        timezone="Europe/Stockholm",
        uid="e1@test",
        created_at=START,
        updated_at=START,
    )
    _refused(session, event)
    event = Event(
        campaign_id=network.campaign.id,
        kind=EventKind.PRACTICE_MEETING,
        audience=Audience.CAMPAIGN,
        title="Prova-på",
        starts_at=NOW,
        ends_at=NOW.replace(hour=9),
        timezone="Europe/Stockholm",
        uid="e2@test",
        created_at=START,
        updated_at=START,
    )
    session.add(event)
    session.flush()
    _refused(session, Invitation(event_id=event.id, created_at=START))


def test_naive_datetimes_are_refused(session: Session, network: Network) -> None:
    message = _message("p:1:x", "<9@test>")
    message.due_at = datetime(2014, 5, 2, 8, 0)
    session.add(message)
    with pytest.raises(StatementError, match="naive datetime"):
        session.flush()
    session.rollback()


def test_instants_come_back_aware_utc(session: Session, network: Network) -> None:
    message = _message("p:1:y", "<10@test>")
    message.due_at = datetime.fromisoformat("2014-10-26T02:30:00+01:00")
    session.add(message)
    session.commit()
    session.expire_all()
    loaded = session.get(Message, message.id)
    assert loaded is not None
    assert loaded.due_at == datetime(2014, 10, 26, 1, 30, tzinfo=UTC)
    assert loaded.due_at.tzinfo is UTC
