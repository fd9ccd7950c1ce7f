"""Announcements through the form and the real outbox: counted, previewed, tested, sent once
to each person in their language over real SMTP, scheduled, cancelled, kept in the history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign import jobs
from campaign.announcements.models import Announcement, AnnouncementState
from campaign.audit import AuditEvent
from campaign.enrolment.holds import ParticipantHolds
from campaign.network.models import Campaign
from campaign.outbox.dispatch import Settings, dispatch
from campaign.outbox.models import Message, MessageKind, MessageState
from campaign.report.figures import compute
from campaign.timing import FixedClock, clock_of
from tests.announcement_helpers import form
from tests.announcements.conftest import People, signed_in
from tests.conftest import START, Network, csrf_token
from tests.outbox_helpers import SENDER
from tests.urls import staff

NEW = staff("/announcements/new")
JOB = next(job for job in jobs.JOBS if job.name == "announcements")
EVERYONE_REACHED = {"anna@alpha.se", "bo@alpha.se", "cia@alpha.se", "hugo@beta.se", "ida@beta.se"}


def _post(client: FlaskClient, button: str = "send", **values: Any) -> Any:
    data = {"csrf_token": csrf_token(client, NEW), button: "1", **form(**values)}
    return client.post(NEW, data=data)


def _mail(session: Session) -> list[Message]:
    session.expire_all()
    found = select(Message).where(Message.kind == MessageKind.ANNOUNCEMENT).order_by(Message.id)
    return list(session.scalars(found))


def _deliver(app: Flask, session: Session, transport: Any, now: datetime = START) -> int:
    with app.app_context():
        return dispatch(session, now, transport, Settings(sender=SENDER), ParticipantHolds()).sent


def _clock(app: Flask) -> FixedClock:
    clock = clock_of(app)
    assert isinstance(clock, FixedClock)
    return clock


def test_the_form_counts_the_segment_and_says_who_is_left_out(
    app: Flask, network: Network, people: People
) -> None:
    client = signed_in(app, network.lead.email)
    page = client.get(NEW).get_data(as_text=True)
    assert "Når 5 personer" in page
    assert "Pausad: 1" in page and "Avregistrerad: 1" in page and "Studsar: 1" in page
    assert "Adressen är spärrad: 1" in page and "Gun Ek – Adressen är spärrad" in page
    counted = _post(client, "count", organisations=[str(network.beta.id)])
    assert counted.status_code == 200
    page = counted.get_data(as_text=True)
    assert "Når 2 personer" in page and "Pausad: 1" not in page
    # The preview is of someone the segment reaches, in their language.
    assert "Nyheter för Beta högskola" in page or "News for Beta högskola" in page


def test_sent_now_each_gets_it_once_in_their_language_over_smtp(
    app: Flask, session: Session, network: Network, people: People, sink
) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    client = signed_in(app, network.lead.email)
    values = form()
    first = client.post(NEW, data={"csrf_token": csrf_token(client, NEW), "send": "1", **values})
    again = client.post(NEW, data={"csrf_token": csrf_token(client, NEW), "send": "1", **values})
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]  # the double click finds it
    assert session.scalar(select(func.count()).select_from(Announcement)) == 1
    assert {m.recipient for m in _mail(session)} == EVERYONE_REACHED
    assert jobs.run_job(app, JOB) and len(_mail(session)) == 5  # a re-run adds nothing
    assert _deliver(app, session, transport) == 5
    received = {r.recipients[0]: r.parsed() for r in server.received}
    assert set(received) == EVERYONE_REACHED and len(server.received) == 5
    assert received["anna@alpha.se"]["Subject"] == "Nyheter för Alpha kommun"
    assert received["bo@alpha.se"]["Subject"] == "News for Alpha kommun"
    assert received["ida@beta.se"]["Subject"] == "News for Beta högskola"
    plain = received["anna@alpha.se"].get_body(("plain",)).get_content()
    assert "Hej Anna!" in plain and "Vi ses på **webbmötet**." in plain
    assert received["anna@alpha.se"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_the_send_is_audited_and_listed_with_its_counts(
    app: Flask, session: Session, network: Network, people: People, sink
) -> None:  # type: ignore[no-untyped-def]
    _server, transport = sink
    client = signed_in(app, network.lead.email)
    _post(client, statuses=["active"])
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "announcement.scheduled")
    ).one()
    assert event.actor_id == network.lead.id and event.details["count"] == 4
    assert event.details["segment"]["statuses"] == ["active"]
    listed = client.get(staff("/announcements")).get_data(as_text=True)
    assert "Nyheter för {{ organisation.name }}" in listed and "Skickas" in listed
    _deliver(app, session, transport)
    listed = client.get(staff("/announcements")).get_data(as_text=True)
    assert "Skickat" in listed and '<td class="num">4</td>' in listed
    assert "Granska" not in listed


def test_a_representative_reaches_only_their_own_members_people(
    app: Flask, session: Session, network: Network, people: People
) -> None:
    client = signed_in(app, network.rep_beta.email)
    page = client.get(NEW).get_data(as_text=True)
    assert "Når 2 personer" in page and "Deltagarna i Beta högskola." in page
    assert "Alpha-gruppen" not in page and "anna@alpha.se" not in page
    refused = _post(client, groups=[str(people.alpha_group.id)])
    assert refused.status_code == 200 and not _mail(session)
    # A member sent in the form is not theirs to choose: the segment stays Beta's.
    assert _post(client, organisations=[str(network.alpha.id)]).status_code == 302
    assert {m.recipient for m in _mail(session)} == {"hugo@beta.se", "ida@beta.se"}
    announcement = session.scalars(select(Announcement)).one()
    assert announcement.organisation_id == network.beta.id
    # The lead administrator sees it; Alpha's representative does not.
    lead = signed_in(app, network.lead.email)
    assert lead.get(staff(f"/announcements/{announcement.id}")).status_code == 200
    alpha = signed_in(app, network.rep_alpha.email)
    assert alpha.get(staff(f"/announcements/{announcement.id}")).status_code == 404
    assert "Nyheter" not in alpha.get(staff("/announcements")).get_data(as_text=True)


def test_a_scheduled_announcement_goes_at_its_time(
    app: Flask, session: Session, network: Network, people: People
) -> None:
    client = signed_in(app, network.lead.email)
    response = _post(client, when="later", send_day="2014-03-05", send_time="10:00")
    assert response.status_code == 302
    announcement = session.scalars(select(Announcement)).one()
    at = datetime(2014, 3, 5, 9, 0, tzinfo=UTC)  # 10:00 in Stockholm
    assert announcement.send_at == at and announcement.state is AnnouncementState.SCHEDULED
    assert jobs.run_job(app, JOB, START + timedelta(days=1)) and not _mail(session)
    _clock(app).set(at)
    assert jobs.run_job(app, JOB)
    mail = _mail(session)
    assert len(mail) == 5 and {m.due_at for m in mail} == {at}
    session.refresh(announcement)
    assert announcement.state is AnnouncementState.SENT and announcement.queued == 5


def test_the_quiet_hours_move_it_to_the_morning(
    app: Flask, session: Session, network: Network, people: People
) -> None:
    client = signed_in(app, network.lead.email)
    _post(client, when="later", send_day="2014-03-05", send_time="20:30")
    morning = datetime(2014, 3, 6, 7, 0, tzinfo=UTC)  # 08:00 in Stockholm
    assert session.scalars(select(Announcement.send_at)).one() == morning
    _clock(app).set(datetime(2014, 3, 3, 19, 0, tzinfo=UTC))  # 20:00: "now" waits too
    response = _post(client)
    assert "är planerat" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert not _mail(session)


def test_bad_input_is_refused_beside_its_field_and_nothing_is_saved(
    app: Flask, session: Session, network: Network, people: People
) -> None:
    client = signed_in(app, network.lead.email)
    cases = {
        "Okänd platshållare": {"body_sv": "Hej {{ participant.shoe_size }}!"},
        "Rad 2:": {"body_sv": "Hej\n{% if %}"},
        "Skriv både ämne och text": {"body_en": ""},
        "Skriv ämne och text på svenska eller engelska": {
            "subject_sv": "", "body_sv": "", "subject_en": "", "body_en": "",
        },
        "Ange en tidpunkt": {"when": "later", "send_day": "2014-03-01", "send_time": "10:00"},
        "Ange datum och klockslag": {"when": "later"},
        "Överenskommelsen har slutat då": {
            "when": "later", "send_day": "2015-04-01", "send_time": "10:00",
        },
        "Ange en dag efter": {"started_after": "2014-05-01", "started_before": "2014-04-01"},
    }  # fmt: skip
    for expected, values in cases.items():
        response = _post(client, **values)
        page = response.get_data(as_text=True)
        assert response.status_code == 200 and expected in page, expected
        assert 'class="field-error"' in page and "Rätta följande:" in page
    assert session.scalar(select(func.count()).select_from(Announcement)) == 0
    # A key no form of ours was given is replaced, not stored.
    assert _post(client, form_key="x" * 500).status_code == 302
    assert len(session.scalars(select(Announcement.form_key)).one()) == 32


def test_preview_as_a_chosen_person_and_a_test_to_the_editor(
    app: Flask, session: Session, network: Network, people: People
) -> None:
    client = signed_in(app, network.lead.email)
    bo = people.by_name["bo"]
    page = _post(client, "count", preview_as=str(bo.id)).get_data(as_text=True)
    assert "News for Alpha kommun" in page and "Hello Bo!" in page
    assert "/u/TOKEN" in page  # the sample's link, not Bo's own
    tested = _post(client, "test", preview_as=str(bo.id))
    assert tested.status_code == 200
    test = session.scalars(select(Message).where(Message.kind == MessageKind.TEST)).one()
    assert test.recipient == "lead@alpha.se" and test.subject == "News for Alpha kommun"
    assert (
        not _mail(session) and session.scalar(select(func.count()).select_from(Announcement)) == 0
    )


def test_cancel_stops_what_has_not_gone(
    app: Flask, session: Session, network: Network, people: People, sink
) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    client = signed_in(app, network.lead.email)
    later = _post(client, when="later", send_day="2014-03-05", send_time="10:00")
    page = client.get(later.headers["Location"]).get_data(as_text=True)
    assert "Planerat" in page and "Stoppa utskicket" in page
    cancel = later.headers["Location"] + "/cancel"
    assert client.post(cancel, data={"csrf_token": csrf_token(client)}).status_code == 302
    assert jobs.run_job(app, JOB, datetime(2014, 3, 6, tzinfo=UTC)) and not _mail(session)
    # Queued at once, stopped before the outbox sent it.
    now = _post(client, statuses=["completed"])
    assert client.post(now.headers["Location"] + "/cancel", data={"csrf_token": csrf_token(client)})
    assert [m.state for m in _mail(session)] == [MessageState.CANCELLED]
    assert _deliver(app, session, transport) == 0 and not server.received
    # Once gone, it can no longer be cancelled.
    gone = _post(client, statuses=["active"], organisations=[str(network.beta.id)])
    assert _deliver(app, session, transport) == 1
    refused = client.post(
        gone.headers["Location"] + "/cancel", data={"csrf_token": csrf_token(client)}
    )
    assert "går inte längre att stoppa" in client.get(refused.headers["Location"]).get_data(
        as_text=True
    )
    states = session.scalars(select(Announcement.state).order_by(Announcement.id)).all()
    assert states == [
        AnnouncementState.CANCELLED,
        AnnouncementState.CANCELLED,
        AnnouncementState.SENT,
    ]


def test_it_is_in_each_persons_history_and_the_reports_mail_counts(
    app: Flask, session: Session, network: Network, people: People, sink
) -> None:  # type: ignore[no-untyped-def]
    _server, transport = sink
    client = signed_in(app, network.lead.email)
    _post(client)
    _deliver(app, session, transport)
    anna = people.by_name["anna"]
    history = client.get(staff(f"/organisations/alpha/participants/{anna.id}")).get_data(
        as_text=True
    )
    assert "Nyheter för Alpha kommun" in history
    message = next(m for m in _mail(session) if m.recipient == "anna@alpha.se")
    shown = client.get(staff(f"/outbox/{message.id}")).get_data(as_text=True)
    assert "Vi ses på" in shown and "Utskick" in shown  # staff read its content, like a step's
    with app.test_request_context():
        figures = compute(
            session, session.get(Campaign, network.campaign.id), START + timedelta(hours=1)
        )  # type: ignore[arg-type]  # the fixture's campaign exists
    sent = {m.organisation.slug: m.mail.get("sent", 0) for m in figures.members}
    assert sent == {"alpha": 3, "beta": 2}
