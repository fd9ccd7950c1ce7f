"""Self-enrolment with double opt-in, end to end: the link, the form, the mail, the button."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.enrolment import joining
from campaign.enrolment.models import (
    Consent,
    ConsentMethod,
    JoinRequest,
    Participant,
    ParticipantStatus,
    PilotGroup,
)
from campaign.outbox.models import Message, MessageKind
from campaign.security import sign
from tests.conftest import Network, csrf_token, sign_in
from tests.enrolment_helpers import deliver, group, join_request, link_in
from tests.urls import staff


def _open_link(app: Flask, session: Session, network: Network) -> tuple[str, int]:
    """Open the group's link through the UI as Alpha's representative; return its path."""
    with app.app_context():
        target = group(session, network)
        session.commit()
    client = app.test_client()
    sign_in(client, "rep@alpha.se")
    page = staff(f"/organisations/alpha/groups/{target.id}")
    response = client.post(
        f"{page}/link", data={"csrf_token": csrf_token(client, page), "action": "open"}
    )
    assert response.status_code == 302
    shown = client.get(page).get_data(as_text=True)
    start = shown.index("http://localhost/join/")
    return shown[start : shown.index('"', start)].removeprefix("http://localhost"), target.id


def test_a_person_joins_only_after_confirming_by_mail(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    path, group_id = _open_link(app, session, network)
    visitor = app.test_client()
    form = visitor.get(path).get_data(as_text=True)
    assert "Alpha-gruppen" in form and "Alpha kommun" in form
    assert "Jag vill vara med i provgruppen Alpha-gruppen" in form  # the consent, in Swedish

    # Invalid: no consent, bad address. Clear messages, nothing queued.
    response = visitor.post(
        path,
        data={
            "csrf_token": csrf_token(visitor, path),
            "name": "Åsa",
            "email": "asa@",
            "language": "sv",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Inte en giltig e-postadress" in page and "om du godkänner" in page
    assert session.scalars(select(Message)).all() == []

    response = visitor.post(
        path,
        data={
            "csrf_token": csrf_token(visitor, path),
            "name": "Åsa Öberg",
            "email": "Asa.Oberg@Alpha.se",
            "title": "Miljöstrateg",
            "language": "en",
            "agreed": "y",
        },
        environ_base={"REMOTE_ADDR": "192.0.2.10"},
    )
    assert response.status_code == 200 and "asa.oberg@alpha.se" in response.get_data(as_text=True)
    assert session.scalars(select(Participant)).all() == []  # nothing stored yet

    deliver(app, session, transport)
    (mail,) = server.received
    assert mail.recipients == ["asa.oberg@alpha.se"]
    assert mail.parsed()["Subject"] == "Confirm that you want to join the pilot group"
    assert "Åsa" not in mail.parsed().get_body(preferencelist=("plain",)).get_content()
    confirm = link_in(mail, "/join/confirm/")

    # Opening the link (as a mail scanner would) enrols nobody.
    opened = visitor.get(confirm)
    assert opened.status_code == 200 and "Yes, I join" in opened.get_data(as_text=True)
    assert session.scalars(select(Participant)).all() == []

    person_client = app.test_client()
    response = person_client.post(
        confirm,
        data={"csrf_token": csrf_token(person_client, confirm), "confirm": "yes"},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert response.status_code == 200 and "Welcome to the pilot group" in response.get_data(
        as_text=True
    )
    session.expire_all()
    (person,) = session.scalars(select(Participant)).all()
    assert (person.email, person.name, person.title, person.language) == (
        "asa.oberg@alpha.se", "Åsa Öberg", "Miljöstrateg", "en",
    )  # fmt: skip
    assert person.status is ParticipantStatus.ACTIVE and person.pilot_group_id == group_id
    (consent,) = session.scalars(select(Consent)).all()
    assert consent.method is ConsentMethod.SELF_ENROLMENT
    assert "192.0.2.10" in consent.source and "198.51.100.7" in consent.source
    assert consent.text.startswith("Jag vill vara med i provgruppen Alpha-gruppen")  # as shown

    # Confirming twice changes nothing.
    again = person_client.post(
        confirm, data={"csrf_token": csrf_token(person_client, confirm), "confirm": "yes"}
    )
    assert "You are already enrolled" in again.get_data(as_text=True)
    assert len(session.scalars(select(Participant)).all()) == 1


def test_expired_forged_and_closed_links_are_refused(
    app: Flask, session: Session, network: Network
) -> None:
    path, group_id = _open_link(app, session, network)
    visitor = app.test_client()
    with app.app_context():
        wish = join_request(session, session.get(PilotGroup, group_id), "late@alpha.se")
        session.commit()
        confirm = f"/join/confirm/{sign(joining.CONFIRM, [wish.id, wish.secret])}"
    assert visitor.get(path[:-3] + "xyz").status_code == 400  # forged
    assert visitor.get(confirm).status_code == 200
    app.extensions["campaign.clock"].advance(timedelta(days=8))
    expired = visitor.get(confirm)
    assert expired.status_code == 400 and "har gått ut" in expired.get_data(as_text=True)
    assert visitor.get(path).status_code == 200  # the group's own link lasts longer

    # The representative closes the link: the form and pending confirmations stop working.
    rep = app.test_client()
    sign_in(rep, "rep@alpha.se")
    page = staff(f"/organisations/alpha/groups/{group_id}")
    rep.post(f"{page}/link", data={"csrf_token": csrf_token(rep, page), "action": "close"})
    closed = visitor.get(path)
    assert closed.status_code == 410 and "stängd" in closed.get_data(as_text=True)
    app.extensions["campaign.clock"].advance(timedelta(days=-8))
    late = app.test_client()
    response = late.post(
        confirm,
        data={"csrf_token": csrf_token(late, path.replace(path, "/login")), "confirm": "yes"},
    )
    assert response.status_code == 410
    assert session.scalars(select(Participant)).all() == []


def test_one_confirmation_mail_an_hour_per_address(
    app: Flask, session: Session, network: Network
) -> None:
    path, _group_id = _open_link(app, session, network)
    visitor = app.test_client()
    for _ in range(3):
        visitor.post(
            path,
            data={
                "csrf_token": csrf_token(visitor, path),
                "name": "Spam",
                "email": "victim@alpha.se",
                "language": "sv",
                "agreed": "y",
            },
        )
    messages = session.scalars(select(Message)).all()
    assert len(messages) == 1 and messages[0].kind is MessageKind.CONFIRMATION
    # One request waits, for the one mail; the later forms within the hour left nothing.
    (wish,) = session.scalars(select(JoinRequest)).all()
    assert wish.message_id == messages[0].id
