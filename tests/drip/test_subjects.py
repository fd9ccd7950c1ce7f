"""A participant's coming steps show their subjects, filled in for them as their mail will be."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from campaign.drip.files import load_sequences
from campaign.drip.schedule import Planned
from campaign.drip.subjects import Subjects
from campaign.events.models import Invitation
from campaign.network.models import Campaign
from tests.conftest import START, Network, sign_in
from tests.enrolment_helpers import group, make_event
from tests.outbox_helpers import participant
from tests.urls import staff


def _person(session: Session, network: Network):  # type: ignore[no-untyped-def]
    """Anna Berg of Alpha, starting a week after now, so that every step is still to come."""
    target = group(session, network)
    person = participant(session, network, "anna@alpha.se", "Anna Berg")
    person.pilot_group_id, person.starts_on = target.id, date(2014, 3, 10)
    session.commit()
    return person, target


def _schedule(client: FlaskClient, person_id: int) -> str:
    sign_in(client, "rep@alpha.se")
    path = staff(f"/organisations/alpha/participants/{person_id}/schedule")
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_coming_steps_show_their_subjects_rendered_for_the_participant(
    client: FlaskClient, session: Session, network: Network
) -> None:
    person, _target = _person(session, network)
    page = _schedule(client, person.id)
    assert "Välkommen till provgruppen för webbmöten, Anna!" in page
    assert "Ditt första webbmöte – prova med någon du känner" in page
    assert "valkommen" not in page and "{{" not in page
    progress = client.get(staff("/organisations/alpha/progress")).get_data(as_text=True)
    assert "Välkommen till provgruppen för webbmöten, Anna!" in progress


def test_a_step_that_offers_the_next_meeting_names_it_or_says_it_waits(
    client: FlaskClient, session: Session, network: Network
) -> None:
    person, target = _person(session, network)
    first = make_event(session, network, target, starts_at=datetime(2014, 3, 11, 8, tzinfo=UTC),
                       ends_at=datetime(2014, 3, 11, 9, tzinfo=UTC))  # fmt: skip
    session.add(Invitation(event_id=first.id, participant_id=person.id, created_at=START))
    session.commit()
    page = _schedule(client, person.id)
    assert "{{" not in page and "next_event" not in page
    assert "Skickas bara när ett senare möte är planerat att erbjuda." in page
    later = make_event(session, network, target, starts_at=datetime(2014, 3, 18, 8, tzinfo=UTC),
                       ends_at=datetime(2014, 3, 18, 9, tzinfo=UTC))  # fmt: skip
    session.add(Invitation(event_id=later.id, participant_id=person.id, created_at=START))
    session.commit()
    page = client.get(staff(f"/organisations/alpha/participants/{person.id}/schedule"))
    assert "Nästa prova-på-möte är 18 mars 2014 kl. 09.00" in page.get_data(as_text=True)


def test_a_step_that_does_not_render_shows_a_note(
    app: Flask, session: Session, network: Network
) -> None:
    person, _target = _person(session, network)
    step = load_sequences()[0]["pilot-group"].steps["sv"][0]
    broken = dataclasses.replace(step, subject="Hej {{ participant.nickname.first }}")
    planned = Planned(broken, START, "future", None)
    with app.test_request_context():
        found = Subjects(session, session.get(Campaign, network.campaign.id)).of(person, planned)
    assert found.text is None and found.note and "nickname" in found.note


def test_the_preview_of_a_step_that_does_not_render_says_why(
    client: FlaskClient, network: Network, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = '---\noffset: +0d\nat: "09:00"\nsubject: Hej\n---\nRing {{ member.kontakt }}.\n'
    for language in ("sv", "en"):
        (tmp_path / "trasig" / language).mkdir(parents=True)
        (tmp_path / "trasig" / language / "01-hej.md").write_text(broken, encoding="utf-8")
    monkeypatch.setattr("campaign.drip.stored.SEQUENCES_DIR", tmp_path)
    sign_in(client, "lead@alpha.se")
    for path in ("/sequences/trasig/sv/01", "/sequences/trasig/sv/01/html"):
        response = client.get(staff(path))
        assert response.status_code == 200, path
        page = response.get_data(as_text=True)
        assert "Steget kan inte visas:" in page and "kontakt" in page, path
