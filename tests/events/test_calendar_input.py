"""Control characters in what reaches a calendar or a mail header: the forms refuse them, and
rows already stored with them (by an older version) never take a calendar or a send down."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from flask import Flask
from icalendar import Calendar
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.accounts.models import User
from campaign.enrolment.models import Participant
from campaign.events import feeds
from campaign.events.models import Audience, Event
from campaign.outbox.models import Message
from tests.conftest import Network, csrf_token, sign_in
from tests.enrolment_helpers import deliver, group, make_event
from tests.outbox_helpers import participant
from tests.urls import staff

# Anything a calendar line or a header may not hold: controls but the CRLF ending each line.
FORBIDDEN = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)|(?<!\r)\n")
NEW = staff("/organisations/alpha/events/new")
FORM = {
    "kind": "practice_meeting",
    "title": "Prova-på-möte",
    "description_md": "Ta med **headset**.\r\nOch kaffe.",
    "day": "2014-03-10",
    "starts": "09:00",
    "ends": "10:00",
    "timezone": "Europe/Stockholm",
    "join_url": "https://meet.alpha.se/prova",
    "room": "Sal 3",
    "capacity": "",
    "audience": "organisation",
    "pilot_group": "0",
    "reminders": "24h, 1h",
}
ONE_LINE = "Ta bort radbrytningar, tabbar och andra kontrolltecken: fältet tar en rad vanlig text."
NO_LINK = "En länk kan inte innehålla mellanslag, radbrytningar eller andra kontrolltecken."


def _rep(app: Flask):  # type: ignore[no-untyped-def]
    client = app.test_client()
    sign_in(client, "rep@alpha.se")
    return client


@pytest.mark.parametrize(
    ("field", "value", "sentence"),
    [
        ("join_url", "https://meet.alpha.se/prova\r\nX-EVIL:1", NO_LINK),
        ("join_url", "https://meet.alpha.se/prova\nATTENDEE:mailto:x@evil.test", NO_LINK),
        ("join_url", "https://meet.alpha.se/pro va", NO_LINK),
        ("title", "Prova-på-möte\x07", ONE_LINE),
        ("title", "Prova\r\nX-EVIL:1", ONE_LINE),
        ("room", "Sal\x1b[31m 3", ONE_LINE),
        ("room", "Sal 3\u2028BEGIN:VEVENT", ONE_LINE),
        (
            "description_md",
            "Ta med headset.\x1b[2J",
            "Ta bort kontrolltecknen ur texten; radbrytningar går bra.",
        ),
    ],
)
def test_the_event_form_refuses_control_characters_with_a_sentence(
    app: Flask, session: Session, network: Network, field: str, value: str, sentence: str
) -> None:
    client = _rep(app)
    response = client.post(NEW, data={"csrf_token": csrf_token(client, NEW), **FORM, field: value})
    assert response.status_code == 200
    assert sentence in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Event)) == 0


def test_a_description_keeps_its_line_breaks(
    app: Flask, session: Session, network: Network
) -> None:
    client = _rep(app)
    response = client.post(NEW, data={"csrf_token": csrf_token(client, NEW), **FORM})
    assert response.status_code == 302, response.get_data(as_text=True)
    event = session.scalar(select(Event))
    assert event is not None and "\n" in event.description_md
    ics = client.get(staff(f"/organisations/alpha/events/{event.id}/event.ics")).get_data()
    item = Calendar.from_ical(ics).walk("VEVENT")[0]
    assert str(item["DESCRIPTION"]) == "Ta med **headset**.\nOch kaffe."


def test_editing_refuses_a_broken_link_and_writes_nothing(
    app: Flask, session: Session, network: Network
) -> None:
    with app.app_context():
        event = make_event(session, network)
        session.commit()
    page = staff(f"/organisations/alpha/events/{event.id}/edit")
    client = _rep(app)
    response = client.post(
        page,
        data={
            "csrf_token": csrf_token(client, page),
            **FORM,
            "title": "Nytt namn",
            "join_url": "https://meet.alpha.se/prova\r\nX-EVIL:1",
        },
    )
    assert response.status_code == 200 and NO_LINK in response.get_data(as_text=True)
    session.expire_all()
    kept = session.get(Event, event.id)
    assert (kept.title, kept.join_url, kept.sequence) == ("Prova-på-möte i Lync", event.join_url, 0)
    assert session.scalar(select(func.count()).select_from(Message)) == 0


def test_names_that_reach_a_calendar_refuse_control_characters(
    app: Flask, session: Session, network: Network
) -> None:
    """The organiser's name (their account) and an attendee's name (a participant)."""
    client = _rep(app)
    profile = client.post(
        "/account",
        data={
            "csrf_token": csrf_token(client, "/account"),
            "profile-name": "Alva\r\nRep",
            "profile-language": "sv",
        },
    )
    assert profile.status_code == 200 and ONE_LINE in profile.get_data(as_text=True)
    with app.app_context():
        target = group(session, network)
        session.commit()
    new = staff("/organisations/alpha/participants/new")
    person = client.post(
        new,
        data={
            "csrf_token": csrf_token(client, new),
            "email": "ny@alpha.se",
            "name": "Åsa\x07 Öberg",
            "language": "sv",
            "pilot_group": str(target.id),
            "agreed": "y",
        },
    )
    assert person.status_code == 200 and ONE_LINE in person.get_data(as_text=True)
    session.expire_all()
    assert session.get(User, network.rep_alpha.id).name == "Alva Rep"
    assert session.scalar(select(func.count()).select_from(Participant)) == 0


def _stored_badly(app: Flask, session: Session, network: Network) -> tuple[Event, Event, Event]:
    """What an older version let through, written straight into the database: a link, title,
    room, description, organiser's and participant's names with control characters; one such
    event cancelled (it can no longer be edited); and a good event beside them."""
    with app.app_context():
        target = group(session, network)
        person = participant(session, network, "p0@alpha.se", name="Åsa\x07 Öberg\r\nX-EVIL:1")
        person.pilot_group_id = target.id
        organiser = session.get(User, network.rep_alpha.id)
        organiser.name = "Alva\x1b Rep\r\nORGANIZER:mailto:evil@evil.test"
        bad = make_event(
            session,
            network,
            target,
            title="Trasigt\x07 möte\r\nX-EVIL:1",
            join_url="https://meet.alpha.se/prova\r\nX-EVIL:1",
            room="Sal\x1b 3\u2028",
            description_md="Rad 1\r\nRad 2\x0c\x7f",
        )
        cancelled = make_event(
            session,
            network,
            title="Inställt\x0b möte",
            join_url="https://meet.alpha.se/inst\r\nallt",
            is_cancelled=True,
            sequence=1,
            starts_at=datetime(2014, 3, 11, 8, 0, tzinfo=UTC),
            ends_at=datetime(2014, 3, 11, 9, 0, tzinfo=UTC),
        )
        good = make_event(
            session,
            network,
            title="Bra möte",
            audience=Audience.CAMPAIGN,
            starts_at=datetime(2014, 3, 12, 8, 0, tzinfo=UTC),
            ends_at=datetime(2014, 3, 12, 9, 0, tzinfo=UTC),
        )
        session.commit()
    return bad, cancelled, good


def _clean(body: bytes) -> Calendar:
    """Parse a calendar back, checking first that no line holds a control character."""
    assert not FORBIDDEN.search(body), FORBIDDEN.search(body)
    calendar = Calendar.from_ical(body)
    for item in calendar.walk("VEVENT"):
        assert "X-EVIL" not in item and not item.errors, item
    return calendar


def test_the_feed_survives_events_stored_with_control_characters(
    app: Flask, session: Session, network: Network, caplog: pytest.LogCaptureFixture
) -> None:
    bad, cancelled, good = _stored_badly(app, session, network)
    with app.app_context():  # at the end of time: 00:30 in Stockholm is past year 9999
        lost = make_event(
            session,
            network,
            starts_at=datetime(9999, 12, 31, 23, 15, tzinfo=UTC),
            ends_at=datetime(9999, 12, 31, 23, 45, tzinfo=UTC),
        )
        session.commit()
    with app.app_context():  # (the events page itself cannot show a date past year 9999)
        address = f"/calendar/{feeds.token(network.alpha)}.ics"
    response = app.test_client().get(address)
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    items = {str(i["UID"]): i for i in _clean(response.get_data()).walk("VEVENT")}
    assert set(items) == {bad.uid, cancelled.uid, good.uid}  # all but the one left out
    assert f"calendar feed: event {lost.id} left out" in caplog.text
    assert str(items[good.uid]["SUMMARY"]) == "Bra möte"
    shown = items[bad.uid]
    assert str(shown["SUMMARY"]) == "Trasigt möte X-EVIL:1"
    assert str(shown["URL"]) == "https://meet.alpha.se/provaX-EVIL:1"  # as a browser reads it
    assert str(shown["LOCATION"]) == "https://meet.alpha.se/provaX-EVIL:1 – Sal 3"
    assert str(shown["DESCRIPTION"]) == "Rad 1\nRad 2"
    assert shown["ORGANIZER"].params["CN"] == "Alva Rep ORGANIZER:mailto:evil@evil.test"
    assert str(items[cancelled.uid]["STATUS"]) == "CANCELLED"


def test_the_download_and_the_invitations_survive_them_too(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    bad, _cancelled, _good = _stored_badly(app, session, network)
    client = _rep(app)
    page = staff(f"/organisations/alpha/events/{bad.id}")
    download = client.get(f"{page}/event.ics")
    assert download.status_code == 200
    (item,) = _clean(download.get_data()).walk("VEVENT")
    assert str(item["UID"]) == bad.uid

    sent = client.post(f"{page}/invite", data={"csrf_token": csrf_token(client, page)})
    assert sent.status_code == 302
    assert client.get(page).status_code == 200
    deliver(app, session, transport)
    (received,) = server.received
    mail = received.parsed()
    assert (
        mail["Subject"]
        == "Inbjudan: Trasigt möte X-EVIL:1 10 mars 2014 kl. 09.00–10.00 (Sverigetid)"
    )
    assert not FORBIDDEN.search(received.data.split(b"\r\n\r\n", 1)[0])
    part = next(p for p in mail.walk() if p.get_content_type() == "text/calendar")
    (invited,) = _clean(part.get_payload(decode=True)).walk("VEVENT")
    assert invited["ATTENDEE"].params["CN"] == "Åsa Öberg X-EVIL:1"


def test_an_unknown_time_zone_in_the_database_shows_the_event_in_utc(
    app: Flask, session: Session, network: Network
) -> None:
    with app.app_context():
        odd = make_event(session, network, timezone="Europe")
        session.commit()
    response = _rep(app).get(staff(f"/organisations/alpha/events/{odd.id}/event.ics"))
    assert response.status_code == 200
    (item,) = _clean(response.get_data()).walk("VEVENT")
    assert item.decoded("DTSTART") == datetime(2014, 3, 10, 8, 0, tzinfo=UTC)
