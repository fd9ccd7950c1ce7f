"""Meetings with real calendar invitations: every calendar part is parsed back with icalendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from flask import Flask
from icalendar import Calendar
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.drip.facts import holding
from campaign.drip.materialize import materialize
from campaign.enrolment.models import Participant, ParticipantStatus
from campaign.events import invitations
from campaign.events.models import Event, Invitation, Rsvp
from campaign.jobs import JOBS, run_job
from campaign.outbox.models import Message, MessageKind, MessageState
from tests.conftest import START, Network, csrf_token, sign_in
from tests.enrolment_helpers import deliver, group, link_in, make_event
from tests.outbox_helpers import participant
from tests.urls import staff

REMINDERS = next(job for job in JOBS if job.name == "reminders")


def _clock(app: Flask):  # type: ignore[no-untyped-def]
    return app.extensions["campaign.clock"]


def _people(app: Flask, session: Session, network: Network, count: int = 3):  # type: ignore[no-untyped-def]
    with app.app_context():
        target = group(session, network)
        people = []
        for n in range(count):
            person = participant(session, network, f"p{n}@alpha.se", name=f"Åsa Öberg {n}")
            person.pilot_group_id = target.id
            people.append(person)
        session.commit()
    return target, people


def _calendar_part(mail: EmailMessage) -> tuple[str, Calendar]:
    """Return the text/calendar part's method parameter and its parsed calendar."""
    assert mail.get_content_type() == "multipart/alternative"
    parts = list(mail.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html", "text/calendar"]
    part = parts[2]
    return part.get_param("method"), Calendar.from_ical(part.get_content())


def _vevent(calendar: Calendar):  # type: ignore[no-untyped-def]
    (item,) = calendar.walk("VEVENT")
    return item


def test_invitation_is_an_itip_request_outlook_and_google_accept(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    target, people = _people(app, session, network)
    client = app.test_client()
    sign_in(client, "rep@alpha.se")
    new = staff("/organisations/alpha/events/new")
    response = client.post(
        new,
        data={
            "csrf_token": csrf_token(client, new),
            "kind": "practice_meeting",
            "title": "Prova-på-möte: ditt första webbmöte",
            "description_md": "Ta med **headset**.",
            "day": "2014-03-10",
            "starts": "09:00",
            "ends": "10:00",
            "timezone": "Europe/Stockholm",
            "join_url": "https://meet.alpha.se/prova",
            "room": "Sal 3",
            "capacity": "",
            "audience": "pilot_group",
            "pilot_group": str(target.id),
            "reminders": "24h, 1h",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    event = session.scalar(select(Event))
    assert event.starts_at == datetime(2014, 3, 10, 8, 0, tzinfo=UTC)  # 09:00 CET
    page = response.headers["Location"]
    assert "Skicka inbjudan till 3 personer" in client.get(page).get_data(as_text=True)
    client.post(f"{page}/invite", data={"csrf_token": csrf_token(client, page)})
    client.post(f"{page}/invite", data={"csrf_token": csrf_token(client, page)})  # twice: once
    deliver(app, session, transport)
    assert sorted(r.recipients[0] for r in server.received) == [
        "p0@alpha.se",
        "p1@alpha.se",
        "p2@alpha.se",
    ]

    mail = server.received[0].parsed()
    assert mail["Subject"].startswith("Inbjudan: Prova-på-möte: ditt första webbmöte")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    method, calendar = _calendar_part(mail)
    assert method == "REQUEST" and calendar["METHOD"] == "REQUEST"
    assert calendar.walk("VTIMEZONE")[0]["TZID"] == "Europe/Stockholm"
    item = _vevent(calendar)
    assert str(item["UID"]) == event.uid and item["SEQUENCE"] == 0
    start = item.decoded("DTSTART")
    assert str(start.tzinfo) == "Europe/Stockholm" and start.hour == 9
    assert item["DTSTART"].params["TZID"] == "Europe/Stockholm"
    assert "https://meet.alpha.se/prova" in str(item["LOCATION"])
    assert str(item["URL"]) == "https://meet.alpha.se/prova"
    assert str(item["ORGANIZER"]) == "mailto:rep@alpha.se"
    attendee = item["ATTENDEE"]
    assert attendee.params["RSVP"] == "TRUE" and attendee.params["PARTSTAT"] == "NEEDS-ACTION"
    assert str(attendee).lower() in {f"mailto:p{n}@alpha.se" for n in range(3)}
    (alarm,) = item.walk("VALARM")
    assert alarm.decoded("TRIGGER") == timedelta(minutes=-15)
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "10 mars 2014 kl. 09.00–10.00 (Sverigetid)" in text
    assert link_in(server.received[0], "/rsvp/").startswith("/rsvp/")


def test_changes_keep_the_uid_raise_sequence_and_cancel_sends_cancel(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    target, people = _people(app, session, network)
    with app.app_context():
        event = make_event(session, network, target)
        invitations.invite(session, event, START)
        declined = session.scalar(
            select(Invitation).where(Invitation.participant_id == people[2].id)
        )
        invitations.respond(session, declined, Rsvp.DECLINED, START)
        session.commit()
    deliver(app, session, transport)
    assert len(server.received) == 3
    client = app.test_client()
    sign_in(client, "rep@alpha.se")
    edit = staff(f"/organisations/alpha/events/{event.id}/edit")
    response = client.post(
        edit,
        data={
            "csrf_token": csrf_token(client, edit),
            "kind": "practice_meeting",
            "title": event.title,
            "day": "2014-03-11",
            "starts": "13:00",
            "ends": "14:00",
            "timezone": "Europe/Stockholm",
            "join_url": "https://meet.alpha.se/prova",
            "room": "Sal 4",
            "audience": "pilot_group",
            "pilot_group": str(target.id),
            "reminders": "24h",
        },
    )
    assert response.status_code == 302
    deliver(app, session, transport)
    updates = server.received[3:]
    assert sorted(r.recipients[0] for r in updates) == ["p0@alpha.se", "p1@alpha.se"]  # not p2
    method, calendar = _calendar_part(updates[0].parsed())
    item = _vevent(calendar)
    assert method == "REQUEST" and str(item["UID"]) == event.uid and item["SEQUENCE"] == 1
    assert item.decoded("DTSTART").hour == 13 and "Sal 4" in str(item["LOCATION"])
    assert updates[0].parsed()["Subject"].startswith("Ändrat:")

    # A change of description only is saved without mailing anyone.
    with app.app_context():
        assert invitations.change(session, event, {"description_md": "Ny text"}, START) == 0
        session.commit()

    show = staff(f"/organisations/alpha/events/{event.id}")
    asked = client.get(f"{show}/cancel").get_data(as_text=True)
    assert "2 personer som inte har tackat nej" in asked
    session.expire_all()
    assert not session.get(Event, event.id).is_cancelled  # asking changes nothing
    client.post(f"{show}/cancel", data={"csrf_token": csrf_token(client, show)})
    deliver(app, session, transport)
    cancels = server.received[5:]
    assert len(cancels) == 2
    method, calendar = _calendar_part(cancels[0].parsed())
    item = _vevent(calendar)
    assert method == "CANCEL" and calendar["METHOD"] == "CANCEL"
    assert str(item["UID"]) == event.uid and item["SEQUENCE"] == 2
    assert str(item["STATUS"]) == "CANCELLED" and not item.walk("VALARM")


@pytest.mark.parametrize(
    ("day", "utc_hour"),
    [("2014-10-24", 7), ("2014-10-27", 8), ("2014-03-28", 8), ("2014-03-31", 7)],
)
def test_local_time_holds_across_daylight_saving_changes(
    app: Flask, session: Session, network: Network, day: str, utc_hour: int
) -> None:
    """09:00 in Stockholm is 07:00 UTC in summer and 08:00 in winter; the calendar says 09:00."""
    client = app.test_client()
    sign_in(client, "rep@alpha.se")
    new = staff("/organisations/alpha/events/new")
    client.post(
        new,
        data={
            "csrf_token": csrf_token(client, new), "kind": "training", "title": "Utbildning",
            "day": day, "starts": "09:00", "ends": "11:00", "timezone": "Europe/Stockholm",
            "audience": "organisation", "pilot_group": "0", "reminders": "",
        },
    )  # fmt: skip
    event = session.scalar(select(Event))
    assert event.starts_at.hour == utc_hour
    ics = client.get(staff(f"/organisations/alpha/events/{event.id}/event.ics"))
    assert ics.mimetype == "text/calendar"
    item = _vevent(Calendar.from_ical(ics.get_data()))
    assert item.decoded("DTSTART").hour == 9 and item.decoded("DTEND").hour == 11
    assert item.decoded("DTSTART").astimezone(UTC).hour == utc_hour


def _answer(app: Flask, session: Session, invitation: Invitation, answer: str):  # type: ignore[no-untyped-def]
    with app.app_context():
        token = invitations.rsvp_token(invitation)
    client = app.test_client()
    path = f"/rsvp/{token}"
    return client.post(path, data={"csrf_token": csrf_token(client, path), "answer": answer})


def test_rsvp_links_capacity_and_the_waiting_list(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    target, people = _people(app, session, network, 4)
    with app.app_context():
        event = make_event(session, network, target, capacity=2)
        invitations.invite(session, event, START)
        session.commit()
    invited = {i.participant_id: i for i in session.scalars(select(Invitation))}
    first, second, third, fourth = (invited[p.id] for p in people)

    # Opening the link (as a mail scanner does) answers nothing.
    with app.app_context():
        token = invitations.rsvp_token(first)
    opened = app.test_client().get(f"/rsvp/{token}?answer=accepted")
    assert opened.status_code == 200 and "Ja, jag kommer" in opened.get_data(as_text=True)
    session.expire_all()
    assert first.rsvp is Rsvp.PENDING

    assert "du kommer" in _answer(app, session, first, "accepted").get_data(as_text=True)
    _clock(app).advance(timedelta(minutes=1))
    _answer(app, session, second, "accepted")
    _clock(app).advance(timedelta(minutes=1))
    full = _answer(app, session, third, "accepted").get_data(as_text=True)
    assert "väntelistan" in full
    _clock(app).advance(timedelta(minutes=1))
    _answer(app, session, fourth, "accepted")
    session.expire_all()
    assert [i.rsvp for i in (first, second, third, fourth)] == [
        Rsvp.ACCEPTED, Rsvp.ACCEPTED, Rsvp.WAITLISTED, Rsvp.WAITLISTED,
    ]  # fmt: skip

    # The first with a place says no: the first on the waiting list gets it, and a mail.
    _answer(app, session, second, "declined")
    session.expire_all()
    assert [i.rsvp for i in (first, second, third, fourth)] == [
        Rsvp.ACCEPTED, Rsvp.DECLINED, Rsvp.ACCEPTED, Rsvp.WAITLISTED,
    ]  # fmt: skip
    server.received.clear()
    deliver(app, session, transport)
    (place,) = [r for r in server.received if "plats" in str(r.parsed()["Subject"])]
    assert place.recipients == ["p2@alpha.se"]
    method, calendar = _calendar_part(place.parsed())
    assert _vevent(calendar)["ATTENDEE"].params["PARTSTAT"] == "ACCEPTED"

    # Changing one's mind to "maybe" frees the place too; accepting again when full waits.
    _answer(app, session, first, "tentative")
    session.expire_all()
    assert fourth.rsvp is Rsvp.ACCEPTED
    _answer(app, session, first, "accepted")
    session.expire_all()
    assert first.rsvp is Rsvp.WAITLISTED

    # After the meeting, answers no longer change.
    _clock(app).set(event.ends_at + timedelta(minutes=1))
    over = _answer(app, session, second, "accepted").get_data(as_text=True)
    assert "är över" in over
    session.expire_all()
    assert second.rsvp is Rsvp.DECLINED


def test_rsvp_links_are_signed_and_expire(app: Flask, session: Session, network: Network) -> None:
    target, people = _people(app, session, network, 1)
    with app.app_context():
        event = make_event(session, network, target)
        invitations.invite(session, event, START)
        session.commit()
        token = invitations.rsvp_token(session.scalar(select(Invitation)))
    assert app.test_client().get(f"/rsvp/{token[:-2]}xx").status_code == 400
    assert app.test_client().get(f"/rsvp/{token}/event.ics").mimetype == "text/calendar"
    _clock(app).advance(timedelta(days=401))
    assert app.test_client().get(f"/rsvp/{token}").status_code == 400


def test_reminders_go_once_at_their_moment_to_those_who_have_not_declined(
    app: Flask, session: Session, network: Network
) -> None:
    target, people = _people(app, session, network, 4)
    starts = datetime(2014, 3, 10, 8, 0, tzinfo=UTC)
    with app.app_context():
        event = make_event(session, network, target, capacity=2, reminders="24h, 1h")
        invitations.invite(session, event, START)
        session.commit()
    invited = {i.participant_id: i for i in session.scalars(select(Invitation))}
    with app.app_context():
        for person, answer in zip(
            people, [Rsvp.ACCEPTED, Rsvp.TENTATIVE, Rsvp.DECLINED, Rsvp.PENDING], strict=True
        ):
            invitations.respond(session, invited[person.id], answer, START)
        session.commit()

    def reminders() -> list[str]:
        session.expire_all()
        return sorted(
            m.recipient
            for m in session.scalars(select(Message).where(Message.kind == MessageKind.REMINDER))
        )

    for moment, expected in [
        (starts - timedelta(hours=25), []),
        (starts - timedelta(hours=24), ["p0@alpha.se", "p1@alpha.se", "p3@alpha.se"]),
        (starts - timedelta(hours=23), ["p0@alpha.se", "p1@alpha.se", "p3@alpha.se"]),
        (
            starts - timedelta(hours=1),
            ["p0@alpha.se"] * 2 + ["p1@alpha.se"] * 2 + ["p3@alpha.se"] * 2,
        ),
    ]:
        _clock(app).set(moment)
        run_job(app, REMINDERS)
        assert reminders() == expected, moment
    _clock(app).set(starts + timedelta(minutes=5))
    run_job(app, REMINDERS)
    assert len(reminders()) == 6  # nothing once it has started


def test_attendance_marks_and_feeds_the_sequences(
    app: Flask, session: Session, network: Network
) -> None:
    target, people = _people(app, session, network, 3)
    with app.app_context():
        event = make_event(session, network, target)
        invitations.invite(session, event, START)
        session.commit()
    invited = {i.participant_id: i for i in session.scalars(select(Invitation))}
    _clock(app).set(event.ends_at)  # attendance is ticked once the meeting has started
    client = app.test_client()
    sign_in(client, "rep@alpha.se")
    page = staff(f"/organisations/alpha/events/{event.id}/attendance")
    assert "Åsa Öberg 1" in client.get(page).get_data(as_text=True)
    client.post(
        page,
        data={
            "csrf_token": csrf_token(client, page),
            "attended": [str(invited[people[0].id].id), str(invited[people[1].id].id)],
        },
    )
    session.expire_all()
    assert [invited[p.id].has_attended for p in people] == [True, True, False]
    held = holding(session, [p.id for p in people], ["attended_practice_meeting"])
    assert held["attended_practice_meeting"] == {people[0].id, people[1].id}


def test_calendar_feed_lists_own_and_campaign_events_only(
    app: Flask, session: Session, network: Network
) -> None:
    from campaign.events.models import Audience

    with app.app_context():
        own = make_event(session, network, title="Alphas möte")
        make_event(session, network, title="Hela kampanjen", audience=Audience.CAMPAIGN)
        make_event(session, network, title="Betas möte", organisation_id=network.beta.id)
        session.commit()
    client = app.test_client()
    sign_in(client, "rep@alpha.se")
    page = client.get(staff("/organisations/alpha/events")).get_data(as_text=True)
    start = page.index("http://localhost/calendar/")
    feed = page[start : page.index('"', start)].removeprefix("http://localhost")
    calendar = Calendar.from_ical(app.test_client().get(feed).get_data())
    titles = sorted(str(item["SUMMARY"]) for item in calendar.walk("VEVENT"))
    assert titles == ["Alphas möte", "Hela kampanjen"]
    assert {str(item["UID"]) for item in calendar.walk("VEVENT")} >= {own.uid}
    assert app.test_client().get("/calendar/forged.ics").status_code == 404


def test_erased_participants_answer_nothing(app: Flask, session: Session, network: Network) -> None:
    target, people = _people(app, session, network, 1)
    with app.app_context():
        event = make_event(session, network, target)
        invitations.invite(session, event, START)
        session.commit()
        token = invitations.rsvp_token(session.scalar(select(Invitation)))
    person = session.get(Participant, people[0].id)
    person.status = ParticipantStatus.ERASED
    session.commit()
    assert app.test_client().get(f"/rsvp/{token}").status_code == 410


@pytest.mark.parametrize("status", [ParticipantStatus.UNSUBSCRIBED])
def test_someone_no_mail_reaches_may_decline_but_not_take_a_place(
    app: Flask, session: Session, network: Network, status: ParticipantStatus
) -> None:
    """They would not hear of a new time or a cancellation (README, "Threat model")."""
    target, people = _people(app, session, network, 1)
    with app.app_context():
        event = make_event(session, network, target)
        invitations.invite(session, event, START)
        session.commit()
        invitation = session.scalar(select(Invitation))
        token = invitations.rsvp_token(invitation)
    session.get(Participant, people[0].id).status = status
    session.commit()
    client = app.test_client()
    page = client.get(f"/rsvp/{token}").get_data(as_text=True)
    assert "inte ta en plats" in page and 'value="accepted"' not in page
    for answer in ("accepted", "tentative"):
        refused = client.post(
            f"/rsvp/{token}", data={"csrf_token": csrf_token(client, f"/rsvp/{token}"),
                                    "answer": answer},
        )  # fmt: skip
        assert refused.status_code == 200
        session.expire_all()
        assert session.get(Invitation, invitation.id).rsvp is Rsvp.PENDING
    client.post(
        f"/rsvp/{token}",
        data={"csrf_token": csrf_token(client, f"/rsvp/{token}"), "answer": "declined"},
    )
    session.expire_all()
    assert session.get(Invitation, invitation.id).rsvp is Rsvp.DECLINED


def test_the_working_group_meets_and_only_the_lead_admin_plans_network_events(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    form = {
        "kind": "working_group", "title": "Arbetsgruppsmöte", "day": "2014-03-12",
        "starts": "13:00", "ends": "14:30", "timezone": "Europe/Stockholm",
        "join_url": "https://meet.alpha.se/ag", "audience": "working_group",
        "pilot_group": "0", "reminders": "1h",
    }  # fmt: skip
    rep = app.test_client()
    sign_in(rep, "rep@alpha.se")
    new = staff("/organisations/alpha/events/new")
    refused = rep.post(new, data={"csrf_token": csrf_token(rep, new), **form})
    assert refused.status_code == 200 and session.scalar(select(Event)) is None

    lead = app.test_client()
    sign_in(lead, "lead@alpha.se")
    created = lead.post(new, data={"csrf_token": csrf_token(lead, new), **form})
    assert created.status_code == 302
    page = created.headers["Location"]
    lead.post(f"{page}/invite", data={"csrf_token": csrf_token(lead, page)})
    deliver(app, session, transport)
    assert sorted(r.recipients[0] for r in server.received) == [
        "lead@alpha.se", "rep@alpha.se", "rep@beta.se",
    ]  # fmt: skip
    mail = server.received[0].parsed()
    assert "List-Unsubscribe" not in mail  # staff, not participants
    assert "arbetsgrupp" in mail.get_body(preferencelist=("plain",)).get_content()
    method, _calendar = _calendar_part(mail)
    assert method == "REQUEST"
    # Alpha's representative sees the meeting but may not change or cancel it.
    event = session.scalar(select(Event))
    assert rep.get(page).status_code == 200
    assert rep.get(f"{page}/edit").status_code == 403
    assert rep.post(f"{page}/cancel", data={"csrf_token": csrf_token(rep, page)}).status_code == 403
    # Beta sees it in its list, without a link to Alpha's pages.
    beta = app.test_client()
    sign_in(beta, "rep@beta.se")
    listing = beta.get(staff("/organisations/beta/events")).get_data(as_text=True)
    assert (
        "Arbetsgruppsmöte" in listing
        and staff(f"/organisations/alpha/events/{event.id}") not in listing
    )


def _form(target_id: int | None = None, **values: str) -> dict[str, str]:
    """The event form as the browser posts it: a practice meeting like make_event's."""
    return {
        "kind": "practice_meeting", "title": "Prova-på-möte i Lync", "description_md": "",
        "day": "2014-03-10", "starts": "09:00", "ends": "10:00", "timezone": "Europe/Stockholm",
        "join_url": "https://meet.alpha.se/prova", "room": "Sal 3", "capacity": "",
        "audience": "pilot_group" if target_id else "organisation",
        "pilot_group": str(target_id or 0), "reminders": "24h,1h", **values,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("starts", "ends", "missing", "field"),
    [("02:30", "03:00", "02:30", "starts"), ("02:00", "03:00", "02:00", "starts"),
     ("01:30", "02:30", "02:30", "ends")],
)  # fmt: skip
def test_a_time_the_spring_change_skips_is_refused_with_a_message(
    app: Flask, session: Session, network: Network, starts: str, ends: str, missing: str, field: str
) -> None:
    """On 2014-03-30 Stockholm's clocks jump from 02:00 to 03:00: such times are not saved."""
    client = app.test_client()
    sign_in(client, "rep@alpha.se")
    gap = {"day": "2014-03-30", "starts": starts, "ends": ends}
    new = staff("/organisations/alpha/events/new")
    refused = client.post(new, data={"csrf_token": csrf_token(client, new), **_form(**gap)})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 200
    message = f"{missing} finns inte den 2014-03-30 i Europe/Stockholm: klockan ställs fram då."
    assert message in page and f'id="{field}-error"' in page
    assert session.scalar(select(func.count()).select_from(Event)) == 0

    # The same on the edit page: the meeting keeps its time and nobody is mailed.
    with app.app_context():
        event = make_event(session, network)
        session.commit()
    edit = staff(f"/organisations/alpha/events/{event.id}/edit")
    refused = client.post(edit, data={"csrf_token": csrf_token(client, edit), **_form(**gap)})
    assert refused.status_code == 200 and message in refused.get_data(as_text=True)
    session.expire_all()
    assert session.get(Event, event.id).starts_at == datetime(2014, 3, 10, 8, 0, tzinfo=UTC)
    assert session.get(Event, event.id).sequence == 0 and session.scalar(select(Message)) is None

    # Either side of the gap is fine, and the new row's times come from the injected clock.
    ok = {"day": "2014-03-30", "starts": "01:00", "ends": "03:00"}
    saved = client.post(new, data={"csrf_token": csrf_token(client, new), **_form(**ok)})
    assert saved.status_code == 302
    created = session.scalar(select(Event).where(Event.id != event.id))
    assert created.ends_at - created.starts_at == timedelta(hours=1)  # 01:00 CET to 03:00 CEST
    assert created.created_at == created.updated_at == START


def _accept_in_turn(app: Flask, session: Session, chosen: list[Invitation]) -> None:
    with app.app_context():
        for invitation in chosen:
            _clock(app).advance(timedelta(minutes=1))
            invitations.respond(session, invitation, Rsvp.ACCEPTED, _clock(app).now())
        session.commit()


def test_raising_the_capacity_moves_the_waiting_list_up(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    target, people = _people(app, session, network, 3)
    with app.app_context():
        event = make_event(session, network, target, capacity=1)
        invitations.invite(session, event, START)
        session.commit()
    invited = {i.participant_id: i for i in session.scalars(select(Invitation))}
    first, second, third = (invited[p.id] for p in people)
    _accept_in_turn(app, session, [first, second, third])
    session.expire_all()
    assert [i.rsvp for i in (first, second, third)] == [
        Rsvp.ACCEPTED, Rsvp.WAITLISTED, Rsvp.WAITLISTED,
    ]  # fmt: skip
    deliver(app, session, transport)
    server.received.clear()

    client = app.test_client()
    sign_in(client, "rep@alpha.se")
    edit = staff(f"/organisations/alpha/events/{event.id}/edit")
    _clock(app).advance(timedelta(hours=1))
    form = _form(target.id, capacity="3")
    response = client.post(edit, data={"csrf_token": csrf_token(client, edit), **form})
    assert response.status_code == 302
    session.expire_all()
    assert [i.rsvp for i in (first, second, third)] == [Rsvp.ACCEPTED] * 3
    changed = session.get(Event, event.id)
    assert changed.sequence == 0 and changed.updated_at == _clock(app).now()
    deliver(app, session, transport)
    assert sorted(r.recipients[0] for r in server.received) == ["p1@alpha.se", "p2@alpha.se"]
    for received in server.received:
        mail = received.parsed()
        assert mail["Subject"].startswith("Du har fått en plats:")
        _method, calendar = _calendar_part(mail)
        assert _vevent(calendar)["ATTENDEE"].params["PARTSTAT"] == "ACCEPTED"


def _reminded(session: Session) -> list[tuple[str, str]]:
    """Return (state, recipient) of every reminder in the outbox."""
    session.expire_all()
    return sorted(
        (m.state.value, m.recipient)
        for m in session.scalars(select(Message).where(Message.kind == MessageKind.REMINDER))
    )


def test_a_moved_meeting_is_reminded_of_again_and_stale_reminders_are_stopped(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    target, people = _people(app, session, network, 2)
    starts = datetime(2014, 3, 10, 8, 0, tzinfo=UTC)
    week = timedelta(days=7)
    with app.app_context():
        event = make_event(session, network, target, reminders="24h")
        invitations.invite(session, event, START)
        session.commit()
    both = ["p0@alpha.se", "p1@alpha.se"]

    def tick(moment: datetime) -> None:
        _clock(app).set(moment)
        run_job(app, REMINDERS)

    def move(to: datetime, **more: object) -> None:
        with app.app_context():
            changes = {"starts_at": to, "ends_at": to + timedelta(hours=1), **more}
            invitations.change(session, session.get(Event, event.id), changes, _clock(app).now())
            session.commit()

    tick(starts - timedelta(hours=24))
    deliver(app, session, transport)
    assert _reminded(session) == [("sent", p) for p in both]

    # Moved a week later after its reminder went: the new time gets its own.
    move(starts + week)
    tick(starts - timedelta(hours=23))
    assert len(_reminded(session)) == 2
    tick(starts + week - timedelta(hours=24))
    assert _reminded(session) == [("queued", p) for p in both] + [("sent", p) for p in both]
    with app.app_context():
        mail = session.scalar(
            select(Message).where(
                Message.kind == MessageKind.REMINDER, Message.state == MessageState.QUEUED
            )
        )
        assert "17 mars 2014 kl. 09.00" in mail.subject

    # Moved again before that reminder went: it is stopped, and the next time gets its own.
    move(starts + 2 * week)
    assert _reminded(session) == [("cancelled", p) for p in both] + [("sent", p) for p in both]
    server.received.clear()
    deliver(app, session, transport)
    assert all(r.parsed()["Subject"].startswith("Ändrat:") for r in server.received)
    tick(starts + 2 * week - timedelta(hours=24))
    assert [s for s, _p in _reminded(session)].count("queued") == 2

    # A new room after the reminder's moment: the update mail is reminder enough.
    deliver(app, session, transport)
    _clock(app).advance(timedelta(hours=1))
    move(starts + 2 * week, room="Sal 9")
    tick(starts + 2 * week - timedelta(hours=22))
    assert len(_reminded(session)) == 6


def test_the_waiting_list_gets_no_reminders(app: Flask, session: Session, network: Network) -> None:
    target, people = _people(app, session, network, 3)
    starts = datetime(2014, 3, 10, 8, 0, tzinfo=UTC)
    with app.app_context():
        event = make_event(session, network, target, capacity=1, reminders="24h")
        invitations.invite(session, event, START)
        session.commit()
    invited = {i.participant_id: i for i in session.scalars(select(Invitation))}
    _accept_in_turn(app, session, [invited[people[0].id], invited[people[1].id]])
    session.expire_all()
    assert invited[people[1].id].rsvp is Rsvp.WAITLISTED
    _clock(app).set(starts - timedelta(hours=24))
    run_job(app, REMINDERS)
    assert [p for _s, p in _reminded(session)] == ["p0@alpha.se", "p2@alpha.se"]


def _offset_in(vtimezone, local: datetime) -> timedelta:  # type: ignore[no-untyped-def]
    """Return the UTC offset the mailed VTIMEZONE gives a local time (not the tz database's)."""
    onsets = []
    for part in vtimezone.walk():
        if part.name not in ("STANDARD", "DAYLIGHT"):
            continue
        rdates = part.get("RDATE", [])
        listed = [d.dt for r in (rdates if isinstance(rdates, list) else [rdates]) for d in r.dts]
        for onset in [part.decoded("DTSTART"), *listed]:
            onsets.append((onset.replace(tzinfo=None), part.decoded("TZOFFSETTO")))
    return max((o for o in onsets if o[0] <= local), key=lambda o: o[0])[1]


def test_the_mailed_invitation_holds_local_time_across_the_october_change(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    """Friday 24 October 09:00 is 07:00 UTC (summer time); Monday 27 October 09:00 is 08:00."""
    server, transport = sink
    target, people = _people(app, session, network, 1)
    expected = {}
    with app.app_context():
        for day, utc_hour in ((24, 7), (27, 8)):
            starts = datetime(2014, 10, day, utc_hour, tzinfo=UTC)
            event = make_event(
                session, network, target, starts_at=starts, ends_at=starts + timedelta(hours=1)
            )
            expected[event.uid] = starts
            invitations.invite(session, event, START)
        session.commit()
    deliver(app, session, transport)
    assert len(server.received) == 2
    for received in server.received:
        method, calendar = _calendar_part(received.parsed())
        item = _vevent(calendar)
        assert method == "REQUEST" and item["DTSTART"].params["TZID"] == "Europe/Stockholm"
        start = item.decoded("DTSTART")
        assert (start.hour, start.minute) == (9, 0)
        assert start.astimezone(UTC) == expected[str(item["UID"])]
        (vtimezone,) = calendar.walk("VTIMEZONE")
        assert vtimezone["TZID"] == "Europe/Stockholm"
        local = start.replace(tzinfo=None)
        assert local - _offset_in(vtimezone, local) == expected[str(item["UID"])].replace(
            tzinfo=None
        )


def test_someone_who_declined_is_offered_the_next_date_by_the_sequence(
    app: Flask, session: Session, network: Network
) -> None:
    target, people = _people(app, session, network, 2)
    declined, came = people
    with app.app_context():
        first = make_event(session, network, target)
        later = datetime(2014, 3, 17, 8, 0, tzinfo=UTC)
        second = make_event(
            session, network, target, starts_at=later, ends_at=later + timedelta(hours=1)
        )
        invitations.invite(session, first, START)
        invitations.invite(session, second, START)
        invited = {
            i.participant_id: i
            for i in session.scalars(select(Invitation).where(Invitation.event_id == first.id))
        }
        invitations.respond(session, invited[declined.id], Rsvp.DECLINED, START)
        invitations.mark_attendance(session, first, {invited[came.id].id}, None)
        session.commit()
        day_after = datetime(2014, 3, 11, 8, 0, tzinfo=UTC)  # 09:00 CET
        materialize(session, day_after)
        session.commit()
    rows = {
        m.participant_id: m
        for m in session.scalars(
            select(Message).where(Message.source_key.endswith(f"/08:e{first.id}"))
        )
    }
    offered = rows[declined.id]
    assert offered.state is MessageState.QUEUED
    assert offered.subject == "Nästa prova-på-möte är 17 mars 2014 kl. 09.00 – välkommen då"
    assert rows[came.id].state is MessageState.CANCELLED
    assert rows[came.id].last_answer == "skipped: attended_practice_meeting"


def test_a_cancelled_meeting_takes_no_attendance(
    app: Flask, session: Session, network: Network
) -> None:
    target, people = _people(app, session, network, 1)
    with app.app_context():
        event = make_event(session, network, target)
        invitations.invite(session, event, START)
        invitations.cancel(session, event, START)
        session.commit()
    invitation = session.scalar(select(Invitation))
    client = app.test_client()
    sign_in(client, "rep@alpha.se")
    page = staff(f"/organisations/alpha/events/{event.id}/attendance")
    shown = client.get(page).get_data(as_text=True)
    assert "Mötet är inställt, så ingen närvaro kan markeras." in shown
    assert 'name="attended"' not in shown
    posted = client.post(
        page, data={"csrf_token": csrf_token(client, page), "attended": [str(invitation.id)]}
    )
    assert posted.status_code == 409
    assert "Mötet är inställt" in posted.get_data(as_text=True)
    session.expire_all()
    assert not session.get(Invitation, invitation.id).has_attended
