"""Pausing until a date in the web UI: a participant's status form and a pilot group's pause,
their errors, what the pages, the list and the download then show, in Swedish and English, and
that another member's representative reaches none of it."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.audit import AuditEvent
from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup
from campaign.outbox.unsubscribe import token_for
from tests.conftest import Network, csrf_token, sign_in
from tests.enrolment_helpers import group as make_group
from tests.outbox_helpers import participant
from tests.urls import staff

AUGUST_15 = "2014-08-15"  # a Friday; the clock stands at 3 March 2014, the campaign ends 2015-03-31


@pytest.fixture
def group(session: Session, network: Network) -> PilotGroup:
    made = make_group(session, network)  # starts 2014-03-03, the shipped sequence
    session.commit()
    return made


def _member(session: Session, network: Network, group: PilotGroup, email: str) -> Participant:
    person = participant(session, network, email)
    person.pilot_group_id, person.starts_on = group.id, None
    session.commit()
    return person


def _client(app: Flask, network: Network, email: str = "rep@alpha.se", language: str = "sv"):  # type: ignore[no-untyped-def]
    user = next(u for u in (network.rep_alpha, network.rep_beta) if u.email == email)
    if user.language != language:
        from campaign import db

        with db.open_session(app) as other:
            other.merge(user).language = language
            other.commit()
    client = app.test_client()
    sign_in(client, email)
    return client


def _status(client: FlaskClient, person: Participant, org: str = "alpha", **data: str):  # type: ignore[no-untyped-def]
    page = staff(f"/organisations/{org}/participants/{person.id}")
    return client.post(
        f"{page}/status",
        data={"csrf_token": csrf_token(client, staff("/organisations/alpha")), **data},
    )


def _group_pause(client: FlaskClient, group: PilotGroup, org: str = "alpha", **data: str):  # type: ignore[no-untyped-def]
    return client.post(
        staff(f"/organisations/{org}/groups/{group.id}/pause"),
        data={"csrf_token": csrf_token(client, staff("/organisations/alpha")), **data},
    )


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def _own_page(app: Flask, person: Participant) -> str:
    """The participant's own page, through the link in their mail."""
    with app.app_context():
        token = token_for(person)
    return _text(app.test_client().get(f"/u/{token}"))


def _reload(session: Session, person: Participant) -> Participant:
    session.expire_all()
    return session.get(Participant, person.id)


def test_a_participant_paused_until_a_date_shows_it_on_every_page(
    app: Flask, session: Session, network: Network, group: PilotGroup
) -> None:
    person = _member(session, network, group, "anna@alpha.se")
    client = _client(app, network)
    response = _status(client, person, action="pause", until=AUGUST_15)
    assert response.status_code == 302
    page = _text(client.get(response.headers["Location"]))
    assert "E-posten till anna@alpha.se är pausad till 15 augusti 2014." in page
    assert "Pausad till 15 augusti 2014" in page
    found = _reload(session, person)
    assert (found.status, found.paused_until) == (ParticipantStatus.PAUSED, date(2014, 8, 15))

    schedule = _text(client.get(staff(f"/organisations/alpha/participants/{person.id}/schedule")))
    assert "Pausad till 15 augusti 2014" in schedule
    assert "E-posten börjar gå ut igen på morgonen den 15 augusti 2014." in schedule
    # The welcome (due that morning) goes after the pause; steps 02-05 came due meanwhile.
    assert schedule.count("Skickas efter pausen") == 1
    assert schedule.count("Hoppas över (pausad)") == 4
    assert '<time datetime="2014-08-15T06:00:00+00:00">15 augusti 2014 kl. 08.00</time>' in schedule

    listing = _text(client.get(staff("/organisations/alpha/participants")))
    assert "Pausad till 15 augusti 2014" in listing
    progress = _text(client.get(staff("/organisations/alpha/progress")))
    assert "Pausad till 15 augusti 2014" in progress and "15 augusti 2014 kl. 08.00" in progress
    download = client.get(staff("/organisations/alpha/participants/export.csv"))
    rows = list(
        csv.reader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff")), delimiter=";")
    )
    assert rows[0][-1] == "Pausad till" and rows[1][-1] == AUGUST_15
    data = client.get(staff(f"/organisations/alpha/participants/{person.id}/data.json")).get_json()
    assert data["participant"]["paused_until"] == AUGUST_15

    own = _own_page(app, found)
    assert "Din e-post är pausad till 15 augusti 2014." in own


def test_the_pages_speak_english_too(
    app: Flask, session: Session, network: Network, group: PilotGroup
) -> None:
    person = _member(session, network, group, "anna@alpha.se")
    person.language = "en"
    session.commit()
    client = _client(app, network, language="en")
    response = _status(client, person, action="pause", until=AUGUST_15)
    page = _text(client.get(response.headers["Location"]))
    assert "Mail to anna@alpha.se is paused until August 15, 2014." in page
    assert "Paused until August 15, 2014" in page
    schedule = _text(client.get(staff(f"/organisations/alpha/participants/{person.id}/schedule")))
    assert "The e-mails start again in the morning of August 15, 2014." in schedule
    assert "Sent after the pause" in schedule and "Will be skipped (paused)" in schedule
    own = _own_page(app, person)
    assert "Your e-mail is paused until August 15, 2014." in own


@pytest.mark.parametrize(
    ("language", "until", "error"),
    [
        ("sv", "2014-03-03", "Ange en dag efter i dag."),  # today
        ("sv", "2014-02-28", "Ange en dag efter i dag."),
        ("sv", "2015-04-01", "Ange en dag senast 31 mars 2015, överenskommelsens sista dag."),
        ("sv", "den 15 augusti", "Inte ett giltigt datum"),
        ("sv", "3014-08-15", "Ange ett datum under åren 1900 till 2199."),
        ("en", "2014-03-03", "Give a day after today."),
        ("en", "2015-04-01", "Give a day no later than March 31, 2015, the campaign's last day."),
    ],
)
def test_the_pause_form_refuses_a_day_that_is_not_to_come_within_the_campaign(
    app: Flask,
    session: Session,
    network: Network,
    group: PilotGroup,
    language: str,
    until: str,
    error: str,
) -> None:
    person = _member(session, network, group, "anna@alpha.se")
    client = _client(app, network, language=language)
    response = _status(client, person, action="pause", until=until)
    assert response.status_code == 200
    page = _text(response).replace("&#39;", "'")
    assert error in page and 'aria-invalid="true"' in page
    assert ("Inget sparades." if language == "sv" else "Nothing was saved.") in page
    assert _reload(session, person).status is ParticipantStatus.ACTIVE


def test_a_pause_until_further_notice_can_be_given_a_day_and_resumed(
    app: Flask, session: Session, network: Network, group: PilotGroup
) -> None:
    person = _member(session, network, group, "anna@alpha.se")
    client = _client(app, network)
    assert _status(client, person, action="pause", until="").status_code == 302
    found = _reload(session, person)
    assert (found.status, found.paused_until) == (ParticipantStatus.PAUSED, None)
    schedule = _text(client.get(staff(f"/organisations/alpha/participants/{person.id}/schedule")))
    assert "E-posten är pausad tills vidare." in schedule
    _status(client, person, action="pause", until="2014-09-01")
    assert _reload(session, person).paused_until == date(2014, 9, 1)
    page = _text(client.get(staff(f"/organisations/alpha/participants/{person.id}")))
    assert 'name="until" type="date" value="2014-09-01"' in page  # the day, to change or keep
    response = _status(client, person, action="resume")
    assert "E-posten till anna@alpha.se går ut igen." in _text(
        client.get(response.headers["Location"])
    )
    found = _reload(session, person)
    assert (found.status, found.paused_until) == (ParticipantStatus.ACTIVE, None)
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-3:] == ["participant.paused", "participant.pause_moved", "participant.resumed"]


def test_a_group_is_paused_until_a_date_and_resumed_by_that_date(
    app: Flask, session: Session, network: Network, group: PilotGroup
) -> None:
    first, second = (_member(session, network, group, f"{n}@alpha.se") for n in ("ett", "tva"))
    own = _member(session, network, group, "egen@alpha.se")  # paused themself, no end
    gone = _member(session, network, group, "borta@alpha.se")
    own.status, gone.status = ParticipantStatus.PAUSED, ParticipantStatus.UNSUBSCRIBED
    session.commit()
    client = _client(app, network)
    response = _group_pause(client, group, action="pause", until=AUGUST_15)
    page = _text(client.get(response.headers["Location"]))
    assert "2 deltagare är pausade till 15 augusti 2014." in page
    assert "Pausade deltagare i gruppen" in page and "Tills vidare" in page
    assert "Återuppta nu de som är pausade till 15 augusti 2014" in page
    for person in (first, second):
        assert _reload(session, person).paused_until == date(2014, 8, 15)
    assert _reload(session, own).paused_until is None
    assert _reload(session, gone).status is ParticipantStatus.UNSUBSCRIBED
    audit = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "pilot_group.paused")
    ).one()
    assert audit.details["participants"] == 2 and audit.details["until"] == AUGUST_15

    response = _group_pause(client, group, action="resume", until=AUGUST_15)
    page = _text(client.get(response.headers["Location"]))
    assert "2 deltagare får e-posten igen från och med nu." in page
    assert {_reload(session, p).status for p in (first, second)} == {ParticipantStatus.ACTIVE}
    assert _reload(session, own).status is ParticipantStatus.PAUSED
    assert _group_pause(client, group, action="resume", until="nonsense").status_code == 400


def test_the_group_pause_form_says_what_is_wrong_in_both_languages(
    app: Flask, session: Session, network: Network, group: PilotGroup
) -> None:
    person = _member(session, network, group, "anna@alpha.se")
    swedish = _client(app, network)
    page = _text(_group_pause(swedish, group, action="pause", until=""))
    assert "Ange dagen då e-posten börjar gå ut igen." in page
    assert 'value="Alpha-gruppen"' in page  # the group's own form, as it is stored
    english = _client(app, network, language="en")
    page = _text(_group_pause(english, group, action="pause", until="2014-01-01"))
    assert "Give a day after today." in page
    response = _group_pause(english, group, action="pause", until=AUGUST_15)
    assert "1 participant is paused until August 15, 2014." in _text(
        english.get(response.headers["Location"])
    )
    assert _reload(session, person).status is ParticipantStatus.PAUSED


def test_betas_representative_cannot_pause_alphas_participant_or_group(
    app: Flask, session: Session, network: Network, group: PilotGroup
) -> None:
    person = _member(session, network, group, "anna@alpha.se")
    client = _client(app, network, "rep@beta.se")
    for org in ("alpha", "beta"):
        assert _status(client, person, org, action="pause", until=AUGUST_15).status_code == 404
        assert _group_pause(client, group, org, action="pause", until=AUGUST_15).status_code == 404
    found = _reload(session, person)
    assert (found.status, found.paused_until) == (ParticipantStatus.ACTIVE, None)
