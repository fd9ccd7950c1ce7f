"""A meeting's pages as an organiser and an invitee meet them: no calendar internals, a
cancelled meeting is "Inställt", attendance only once the meeting has started (and a no
turned into a yes only by its own choice), and another date promised only when one is planned."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.events import invitations
from campaign.events.models import Audience, Event, EventKind, Invitation, Rsvp
from tests.conftest import START, Network, csrf_token, sign_in
from tests.enrolment_helpers import group, make_event
from tests.outbox_helpers import participant
from tests.urls import staff


def _meeting(app: Flask, session: Session, network: Network, count: int = 2):  # type: ignore[no-untyped-def]
    """A practice meeting of a pilot group of `count` people, all invited."""
    with app.app_context():
        target = group(session, network)
        for n in range(count):
            person = participant(session, network, f"p{n}@alpha.se", name=f"Person {n}")
            person.pilot_group_id = target.id
        session.flush()
        event = make_event(session, network, target)
        invitations.invite(session, event, START)
        session.commit()
    rows = session.scalars(select(Invitation).order_by(Invitation.participant_id)).all()
    return target, event, list(rows)


def _rep(app: Flask):  # type: ignore[no-untyped-def]
    client = app.test_client()
    sign_in(client, "rep@alpha.se")
    return client


def _set_clock(app: Flask, now) -> None:  # type: ignore[no-untyped-def]
    app.extensions["campaign.clock"].set(now)


def test_the_meeting_page_shows_no_calendar_version_but_the_file_keeps_it(
    app: Flask, session: Session, network: Network
) -> None:
    _target, event, _rows = _meeting(app, session, network)
    client = _rep(app)
    page = client.get(staff(f"/organisations/alpha/events/{event.id}")).get_data(as_text=True)
    assert "Version" not in page
    assert "Planerat" in page
    ics = client.get(staff(f"/organisations/alpha/events/{event.id}/event.ics"))
    assert b"SEQUENCE:0" in ics.get_data()


def test_a_cancelled_meeting_is_installt_not_stoppat(
    app: Flask, session: Session, network: Network
) -> None:
    _target, event, _rows = _meeting(app, session, network)
    with app.app_context():
        invitations.cancel(session, session.get(Event, event.id), START)
        session.commit()
    client = _rep(app)
    for path in (f"/organisations/alpha/events/{event.id}", "/organisations/alpha/events"):
        page = client.get(staff(path)).get_data(as_text=True)
        assert "Inställt" in page and "Stoppat" not in page, path


def test_attendance_waits_for_the_start(app: Flask, session: Session, network: Network) -> None:
    _target, event, rows = _meeting(app, session, network)
    client = _rep(app)
    show = staff(f"/organisations/alpha/events/{event.id}")
    assert "Markera närvaro" not in client.get(show).get_data(as_text=True)
    page = staff(f"/organisations/alpha/events/{event.id}/attendance")
    shown = client.get(page).get_data(as_text=True)
    assert "Mötet har inte börjat än, så ingen närvaro kan markeras." in shown
    assert 'name="attended"' not in shown
    token = csrf_token(client, page)
    posted = client.post(page, data={"csrf_token": token, "attended": [str(rows[0].id)]})
    assert posted.status_code == 409
    assert "Mötet har inte börjat än" in posted.get_data(as_text=True)
    session.expire_all()
    assert not session.get(Invitation, rows[0].id).has_attended
    _set_clock(app, event.starts_at + timedelta(minutes=1))  # under way: now it can be ticked
    assert "Markera närvaro" in client.get(show).get_data(as_text=True)
    assert 'name="attended"' in client.get(page).get_data(as_text=True)
    posted = client.post(page, data={"csrf_token": token, "attended": [str(rows[0].id)]})
    assert posted.status_code == 302
    session.expire_all()
    assert session.get(Invitation, rows[0].id).has_attended


def test_one_who_declined_counts_only_by_the_choice_came_after_all(
    app: Flask, session: Session, network: Network
) -> None:
    _target, event, rows = _meeting(app, session, network)
    declined, coming = rows
    with app.app_context():
        invitations.respond(session, session.get(Invitation, declined.id), Rsvp.DECLINED, START)
        session.commit()
    _set_clock(app, event.ends_at)
    client = _rep(app)
    page = staff(f"/organisations/alpha/events/{event.id}/attendance")
    shown = client.get(page).get_data(as_text=True)
    assert "Har tackat nej" in shown and "Person 0 kom ändå" in shown
    assert f'name="attended" value="{declined.id}"' not in shown
    token = csrf_token(client, page)
    # A forged or stale form ticking the declined one as an ordinary attendee counts nothing.
    both = [str(declined.id), str(coming.id)]
    client.post(page, data={"csrf_token": token, "attended": both})
    session.expire_all()
    assert not session.get(Invitation, declined.id).has_attended
    assert session.get(Invitation, coming.id).has_attended
    # The explicit choice does count them, and their answer stays a no.
    client.post(page, data={"csrf_token": token, "came_anyway": [str(declined.id)]})
    session.expire_all()
    came = session.get(Invitation, declined.id)
    assert came.has_attended and came.rsvp is Rsvp.DECLINED
    assert not session.get(Invitation, coming.id).has_attended


def _decline(app: Flask, invitation: Invitation) -> str:
    with app.app_context():
        token = invitations.rsvp_token(invitation)
    client = app.test_client()
    path = f"/rsvp/{token}"
    answer = {"csrf_token": csrf_token(client, path), "answer": "declined"}
    return client.post(path, data=answer).get_data(as_text=True)


def test_the_decline_page_promises_no_date_that_is_not_planned(
    app: Flask, session: Session, network: Network
) -> None:
    _target, _event, rows = _meeting(app, session, network, 1)
    with app.app_context():  # a later meeting of another kind, and a cancelled one, are no offer
        later = START + timedelta(days=14)
        make_event(
            session,
            network,
            kind=EventKind.TRAINING,
            starts_at=later,
            ends_at=later + timedelta(hours=1),
        )
        make_event(
            session, network, is_cancelled=True, starts_at=later, ends_at=later + timedelta(hours=1)
        )
        session.commit()
    page = _decline(app, rows[0])
    assert "Tack: du kommer inte." in page
    assert "annat tillfälle" not in page


def test_the_decline_page_links_to_the_next_date_when_one_is_planned(
    app: Flask, session: Session, network: Network
) -> None:
    target, _event, rows = _meeting(app, session, network, 1)
    later = START + timedelta(days=14)
    with app.app_context():
        second = make_event(
            session, network, target, title="Andra prova-på-mötet", starts_at=later,
            ends_at=later + timedelta(hours=1),
        )  # fmt: skip
        session.commit()
    page = _decline(app, rows[0])
    assert "Ett annat tillfälle är planerat: Andra prova-på-mötet, " in page
    assert "Inbjudan till det kommer med e-post." in page  # not invited yet: no link
    with app.app_context():
        invitations.invite(session, session.get(Event, second.id), START)
        session.commit()
        invited = session.scalar(select(Invitation).where(Invitation.event_id == second.id))
        link = f'href="/rsvp/{invitations.rsvp_token(invited)}"'
    assert link in _decline(app, rows[0])


def test_the_next_date_is_one_the_person_can_join(
    app: Flask, session: Session, network: Network
) -> None:
    _target, _event, rows = _meeting(app, session, network, 1)
    later = START + timedelta(days=14)
    with app.app_context():  # Beta's meeting, and another pilot group's, are not theirs to join
        other = group(session, network, name="Andra gruppen")
        times = {"starts_at": later, "ends_at": later + timedelta(hours=1)}
        make_event(session, network, organisation_id=network.beta.id, **times)
        make_event(session, network, other, **times)
        session.commit()
    assert "annat tillfälle" not in _decline(app, rows[0])
    with app.app_context():  # one for the whole campaign is
        make_event(session, network, audience=Audience.CAMPAIGN, title="För alla", **times)
        session.commit()
    assert "Ett annat tillfälle är planerat: För alla" in _decline(app, rows[0])
