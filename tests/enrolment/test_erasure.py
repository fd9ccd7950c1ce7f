"""Erasure stays erased: old links re-create nothing, links carry no personal data, and an
unconfirmed self-enrolment leaves nothing behind (issue 14, item 5)."""

from __future__ import annotations

import io
import json
import zlib
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import base64_decode
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from campaign.enrolment import importing
from campaign.enrolment.models import Consent, Participant, ParticipantStatus, PilotGroup
from campaign.outbox.models import Message, MessageKind, Suppression
from campaign.schema import metadata
from campaign.security import sign
from campaign.surveys.models import Response
from tests.conftest import START, Network, csrf_token, sign_in
from tests.enrolment_helpers import deliver, group, link_in, make_event
from tests.urls import staff

EMAIL = "asa.oberg@alpha.se"
NAME = "Åsa Öberg"
FORM_IP = "192.0.2.10"


def _open_link(app: Flask, session: Session, network: Network) -> tuple[str, int]:
    """Open a pilot group's self-enrolment link as Alpha's representative; return its path."""
    with app.app_context():
        target = group(session, network)
        session.commit()
    rep = _rep(app)
    page = staff(f"/organisations/alpha/groups/{target.id}")
    rep.post(f"{page}/link", data={"csrf_token": csrf_token(rep, page), "action": "open"})
    shown = rep.get(page).get_data(as_text=True)
    start = shown.index("http://localhost/join/")
    return shown[start : shown.index('"', start)].removeprefix("http://localhost"), target.id


def _rep(app: Flask) -> FlaskClient:
    client = app.test_client()
    sign_in(client, "rep@alpha.se")
    return client


def _fill_in(app: Flask, path: str, email: str = EMAIL) -> None:
    visitor = app.test_client()
    response = visitor.post(
        path,
        data={
            "csrf_token": csrf_token(visitor, path),
            "name": NAME,
            "email": email,
            "title": "Miljöstrateg",
            "language": "sv",
            "agreed": "y",
        },
        environ_base={"REMOTE_ADDR": FORM_IP},
    )
    assert response.status_code == 200


def _confirm(app: Flask, link: str):  # type: ignore[no-untyped-def]
    person = app.test_client()
    return person.post(
        link,
        data={"csrf_token": csrf_token(person, "/login"), "confirm": "yes"},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )


def _self_enrol(app: Flask, session: Session, network: Network, sink) -> tuple[str, str, int]:  # type: ignore[no-untyped-def]
    """Fill in the form, get the mail, confirm; return (group link, confirmation link, id)."""
    server, transport = sink
    path, _group_id = _open_link(app, session, network)
    _fill_in(app, path)
    deliver(app, session, transport)
    link = link_in(server.received[-1], "/join/confirm/")
    assert "Välkommen till provgruppen" in _confirm(app, link).get_data(as_text=True)
    session.expire_all()
    (person,) = session.scalars(select(Participant)).all()
    assert (person.email, person.name) == (EMAIL, NAME)
    return path, link, person.id


def _erase(app: Flask, participant_id: int) -> None:
    rep = _rep(app)
    page = staff(f"/organisations/alpha/participants/{participant_id}/erase")
    done = rep.post(page, data={"csrf_token": csrf_token(rep, page), "understood": "y"})
    assert done.status_code == 302


def _everything(app: Flask) -> str:
    """Every row of every table, as text: what a copy of the database would give away."""
    from campaign import db

    with db.engine_of(app).connect() as connection:
        return "\n".join(
            repr(row)
            for table in metadata.sorted_tables
            for row in connection.execute(text(f'SELECT * FROM "{table.name}"'))
        )


def _readable(token: str) -> str:
    """What anybody reads in a signed token without the key: its payload, decoded."""
    compressed = token.startswith(".")
    payload = base64_decode(token.lstrip(".").split(".")[0])
    return (zlib.decompress(payload) if compressed else payload).decode()


def test_replaying_the_confirmation_link_after_erasure_re_creates_nobody(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    _path, link, person_id = _self_enrol(app, session, network, sink)

    # A second use, before any erasure, is the "already" page and enrols nobody twice.
    again = _confirm(app, link)
    assert again.status_code == 200 and "Du är redan inskriven" in again.get_data(as_text=True)

    erase_page = _rep(app).get(staff(f"/organisations/alpha/participants/{person_id}/erase"))
    _erase(app, person_id)
    for replay in (app.test_client().get(link), _confirm(app, link)):
        page = replay.get_data(as_text=True)
        assert replay.status_code == 410, page
        assert "Bekräftelselänken fungerar inte längre" in page
        assert "fyll i formuläret en gång till" in page
        assert EMAIL not in page and "Öberg" not in page
    session.expire_all()
    (erased,) = session.scalars(select(Participant)).all()
    assert erased.status is ParticipantStatus.ERASED and erased.email != EMAIL
    assert session.scalars(select(Consent)).all() == []
    # Nothing in the database names the person any more: not the request, not the mail.
    token = link.removeprefix("/join/confirm/")
    everything = _everything(app)
    for secret in (EMAIL, "asa.oberg", NAME, "Öberg", "Miljöstrateg", FORM_IP, token):
        assert secret not in everything, secret

    # The link itself names a request, nothing about the person.
    readable = _readable(token)
    for secret in (EMAIL, "asa.oberg", "alpha.se", "@", "Åsa", "\\u00c5sa", "Öberg", FORM_IP):
        assert secret not in readable, readable
    request_id, _random = json.loads(readable)
    assert isinstance(request_id, int)
    # The representative was told what erasure keeps and what it means for a comeback.
    assert "aldrig själva adressen" in erase_page.get_data(as_text=True)


def test_a_request_made_before_the_erasure_is_never_confirmed(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    """The person asked to join two groups and confirmed one; the other link, in their
    mailbox, must not bring them back after the erasure."""
    server, transport = sink
    path, link, person_id = _self_enrol(app, session, network, sink)
    with app.app_context():
        other = group(session, network, "Alpha-chefer")
        session.commit()
    rep = _rep(app)
    page = staff(f"/organisations/alpha/groups/{other.id}")
    rep.post(f"{page}/link", data={"csrf_token": csrf_token(rep, page), "action": "open"})
    shown = rep.get(page).get_data(as_text=True)
    start = shown.index("http://localhost/join/")
    _fill_in(app, shown[start : shown.index('"', start)].removeprefix("http://localhost"))
    deliver(app, session, transport)
    second = link_in(server.received[-1], "/join/confirm/")
    assert second != link

    _erase(app, person_id)
    response = _confirm(app, second)
    assert response.status_code == 410
    session.expire_all()
    assert [p.status for p in session.scalars(select(Participant))] == [ParticipantStatus.ERASED]


def test_the_tombstone_refuses_a_request_that_was_under_way_during_the_erasure(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    """A request written by a form sent while the erasure ran escapes its clean-up; the
    tombstone still refuses it, since it was made before the erasure."""
    from tests.enrolment_helpers import join_request

    _path, _link, person_id = _self_enrol(app, session, network, sink)
    clock = app.extensions["campaign.clock"]
    clock.advance(timedelta(minutes=10))
    _erase(app, person_id)
    with app.app_context():
        target = session.get(PilotGroup, session.get(Participant, person_id).pilot_group_id)
        wish = join_request(
            session, target, EMAIL, name=NAME, requested_at=clock.now() - timedelta(seconds=1)
        )
        session.commit()
        link = f"/join/confirm/{sign('join-confirm', [wish.id, wish.secret])}"
    assert "Bekräfta att du är med" in app.test_client().get(link).get_data(as_text=True)
    response = _confirm(app, link)
    assert response.status_code == 410
    assert "Bekräftelselänken fungerar inte längre" in response.get_data(as_text=True)
    session.expire_all()
    assert [p.status for p in session.scalars(select(Participant))] == [ParticipantStatus.ERASED]


def test_every_old_link_of_an_erased_participant_reveals_and_changes_nothing(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    from campaign.events.invitations import rsvp_token
    from campaign.events.models import Invitation
    from campaign.outbox.unsubscribe import token_for
    from campaign.surveys import service

    _path, _link, person_id = _self_enrol(app, session, network, sink)
    with app.app_context():
        person = session.get(Participant, person_id)
        event = make_event(session, network, session.get(PilotGroup, person.pilot_group_id))
        invitation = Invitation(event_id=event.id, participant_id=person.id, created_at=START)
        session.add(invitation)
        session.commit()
        (questionnaire, *_rest) = service.questionnaires_of(session, network.campaign, START)
        session.commit()
        links = {
            "unsubscribe": f"/u/{token_for(person)}",
            "rsvp": f"/rsvp/{rsvp_token(invitation)}",
            "ics": f"/rsvp/{rsvp_token(invitation)}/event.ics",
            "questionnaire": f"/q/{service.link_token(questionnaire, person)}",
        }
    assert all(app.test_client().get(url).status_code == 200 for url in links.values())

    _erase(app, person_id)
    visitor = app.test_client()
    token = csrf_token(visitor, "/login")
    answers = [
        visitor.get(links["unsubscribe"]),
        visitor.post(links["unsubscribe"], data={"List-Unsubscribe": "One-Click"}),
        visitor.post(links["unsubscribe"], data={"action": "unsubscribe"}),
        visitor.get(links["rsvp"]),
        visitor.post(links["rsvp"], data={"csrf_token": token, "answer": "accepted"}),
        visitor.get(links["ics"]),
        visitor.get(links["questionnaire"]),
        visitor.post(links["questionnaire"], data={"csrf_token": token}),
    ]
    for answer in answers:
        page = answer.get_data(as_text=True)
        assert answer.status_code == 410, page
        assert EMAIL not in page and "Öberg" not in page and "Åsa" not in page
    session.expire_all()
    erased = session.get(Participant, person_id)
    assert erased.status is ParticipantStatus.ERASED and erased.name == ""
    assert session.scalars(select(Suppression)).all() == []
    assert session.scalars(select(Response)).all() == []
    assert session.get(Invitation, invitation.id).responded_at is None


def test_after_erasure_only_the_person_themself_can_come_back(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    path, old_link, person_id = _self_enrol(app, session, network, sink)
    _erase(app, person_id)
    group_id = session.get(Participant, person_id).pilot_group_id
    refusal = "bara hen själv kan anmäla sig igen, med provgruppens anmälningslänk"

    # The representative's one-person form refuses the address, with the reason.
    rep = _rep(app)
    new = staff("/organisations/alpha/participants/new")
    response = rep.post(
        new,
        data={
            "csrf_token": csrf_token(rep, new),
            "pilot_group": str(group_id),
            "email": EMAIL.upper(),
            "name": NAME,
            "language": "sv",
            "agreed": "y",
        },
    )
    assert response.status_code == 200 and refusal in response.get_data(as_text=True)

    # So does an import, in its preview, and nothing is written.
    upload = staff("/organisations/alpha/imports/new")
    response = rep.post(
        upload,
        data={
            "csrf_token": csrf_token(rep, upload),
            "pilot_group": str(group_id),
            "file": (io.BytesIO(f"E-post;Namn\n{EMAIL};{NAME}\n".encode()), "gammal-lista.csv"),
        },
        content_type="multipart/form-data",
    )
    page = response.headers["Location"]
    importing.wait_for_readers()
    assert refusal in rep.get(page).get_data(as_text=True)
    rep.post(page + "/apply", data={"csrf_token": csrf_token(rep, page), "agreed": "y"})
    session.expire_all()
    assert len(session.scalars(select(Participant)).all()) == 1

    # The person fills in the form anew, after the erasure, and confirms from their mailbox.
    app.extensions["campaign.clock"].advance(timedelta(minutes=5))
    _fill_in(app, path)
    deliver(app, session, transport)
    fresh = link_in(server.received[-1], "/join/confirm/")
    assert "Välkommen till provgruppen" in _confirm(app, fresh).get_data(as_text=True)
    assert _confirm(app, old_link).status_code == 410  # the old link still does nothing
    session.expire_all()
    people = {p.id: (p.email, p.status) for p in session.scalars(select(Participant))}
    assert len(people) == 2 and people[person_id][1] is ParticipantStatus.ERASED
    assert (EMAIL, ParticipantStatus.ACTIVE) in people.values()


def test_an_import_previewed_before_the_erasure_does_not_write_the_person_back(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    _path, _link, person_id = _self_enrol(app, session, network, sink)
    group_id = session.get(Participant, person_id).pilot_group_id
    rep = _rep(app)
    upload = staff("/organisations/alpha/imports/new")
    response = rep.post(
        upload,
        data={
            "csrf_token": csrf_token(rep, upload),
            "pilot_group": str(group_id),
            "file": (io.BytesIO(f"E-post;Namn\n{EMAIL};Åsa Ny\n".encode()), "lista.csv"),
        },
        content_type="multipart/form-data",
    )
    page = response.headers["Location"]
    importing.wait_for_readers()
    assert "Åsa Ny" in rep.get(page).get_data(as_text=True)  # an update of the name

    _erase(app, person_id)
    rep.post(page + "/apply", data={"csrf_token": csrf_token(rep, page), "agreed": "y"})
    importing.wait_for_readers()
    session.expire_all()
    erased = session.get(Participant, person_id)
    assert (erased.status, erased.name) == (ParticipantStatus.ERASED, "")
    assert len(session.scalars(select(Participant)).all()) == 1
    assert "bara hen själv kan anmäla sig igen" in rep.get(page).get_data(as_text=True)


def test_an_import_previewed_before_the_person_joined_and_was_erased_adds_nobody(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    path, group_id = _open_link(app, session, network)
    rep = _rep(app)
    upload = staff("/organisations/alpha/imports/new")
    response = rep.post(
        upload,
        data={
            "csrf_token": csrf_token(rep, upload),
            "pilot_group": str(group_id),
            "file": (io.BytesIO(f"E-post;Namn\n{EMAIL};{NAME}\n".encode()), "lista.csv"),
        },
        content_type="multipart/form-data",
    )
    page = response.headers["Location"]
    importing.wait_for_readers()
    assert "Importera 1 nya" in rep.get(page).get_data(as_text=True)  # the address is new

    # Meanwhile the person joins by themself, and then asks to be erased.
    _fill_in(app, path)
    deliver(app, session, transport)
    _confirm(app, link_in(server.received[-1], "/join/confirm/"))
    session.expire_all()
    (person,) = session.scalars(select(Participant)).all()
    app.extensions["campaign.clock"].advance(timedelta(minutes=1))
    _erase(app, person.id)

    rep.post(page + "/apply", data={"csrf_token": csrf_token(rep, page), "agreed": "y"})
    importing.wait_for_readers()
    session.expire_all()
    assert [p.status for p in session.scalars(select(Participant))] == [ParticipantStatus.ERASED]
    assert "bara hen själv kan anmäla sig igen" in rep.get(page).get_data(as_text=True)


def test_an_unconfirmed_request_leaves_nothing_behind_after_seven_days(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    from campaign.jobs import JOBS, run_job

    server, transport = sink
    path, _group_id = _open_link(app, session, network)
    _fill_in(app, path)
    deliver(app, session, transport)
    link = link_in(server.received[-1], "/join/confirm/")
    assert EMAIL in _everything(app)  # waiting for the person's yes, for 7 days

    clock = app.extensions["campaign.clock"]
    clock.advance(timedelta(days=6, hours=23))
    (housekeeping,) = [job for job in JOBS if job.name == "housekeeping"]
    assert run_job(app, housekeeping, clock.now())
    assert EMAIL in _everything(app)  # not yet
    clock.advance(timedelta(hours=1, minutes=1))
    assert run_job(app, housekeeping, clock.now())
    everything = _everything(app)
    for secret in (EMAIL, "asa.oberg", NAME, "Öberg", FORM_IP, link.rsplit("/", 1)[1]):
        assert secret not in everything, secret
    session.expire_all()
    (mail,) = session.scalars(select(Message)).all()  # counted still, as a confirmation
    assert mail.kind is MessageKind.CONFIRMATION and mail.sent_at is not None

    expired = app.test_client().get(link)
    assert expired.status_code == 400 and "har gått ut" in expired.get_data(as_text=True)
    assert session.scalars(select(Participant)).all() == []


def test_a_confirmation_link_of_the_old_format_enrols_nobody(
    app: Flask, session: Session, network: Network
) -> None:
    """Links mailed before the upgrade carried the person's data; they now only expire."""
    path, group_id = _open_link(app, session, network)
    key = session.get(PilotGroup, group_id).enrolment_key
    with app.app_context():
        old = sign(
            "join-confirm",
            [group_id, key, EMAIL, NAME, "", "sv", FORM_IP, START.isoformat(), "sv"],
        )
    link = f"/join/confirm/{old}"
    for response in (app.test_client().get(link), _confirm(app, link)):
        page = response.get_data(as_text=True)
        assert response.status_code == 400 and "har gått ut" in page, page
        assert "fyll i formuläret en gång till" in page and EMAIL not in page
    assert session.scalars(select(Participant)).all() == []


def test_an_unsubscribed_person_who_is_erased_leaves_the_suppression_list_for_the_tombstone(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    """Unsubscribing put the address on the suppression list in clear; erasure must not leave
    it there, and the tombstone still keeps staff from enrolling it again."""
    from campaign.outbox.unsubscribe import token_for

    _path, _link, person_id = _self_enrol(app, session, network, sink)
    with app.app_context():
        person = session.get(Participant, person_id)
        token, group_id = token_for(person), person.pilot_group_id
    stop = app.test_client().post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"})
    assert stop.status_code == 200
    assert session.scalar(select(Suppression.email)) == EMAIL
    _erase(app, person_id)
    session.expire_all()
    assert session.scalars(select(Suppression)).all() == []
    assert EMAIL not in _everything(app)
    lead = app.test_client()
    sign_in(lead, "lead@alpha.se")
    assert EMAIL not in lead.get(staff("/outbox/suppressions")).get_data(as_text=True)

    rep = _rep(app)
    new = staff("/organisations/alpha/participants/new")
    refused = rep.post(
        new,
        data={
            "csrf_token": csrf_token(rep, new),
            "pilot_group": str(group_id),
            "email": EMAIL,
            "name": NAME,
            "language": "sv",
            "agreed": "y",
        },
    )
    assert "bara hen själv kan anmäla sig igen" in refused.get_data(as_text=True)
    assert [p.status for p in session.scalars(select(Participant))] == [ParticipantStatus.ERASED]
