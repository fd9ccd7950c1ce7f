"""Representatives are invited by mail and choose their own password; resets work the same way."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.accounts.models import Role, User
from campaign.audit import AuditEvent
from campaign.outbox.models import Message, MessageKind
from tests.conftest import PASSWORD, Network, ask_for_new_password, csrf_token, sign_in
from tests.enrolment_helpers import deliver, link_in
from tests.urls import staff

NEW_PASSWORD = "a long new password, 2014"


def _invite(app: Flask, email: str = "Berit.Ny@Beta.se") -> None:
    lead = app.test_client()
    sign_in(lead, "lead@alpha.se")
    page = staff("/organisations/beta/representatives/new")
    response = lead.post(
        page,
        data={
            "csrf_token": csrf_token(lead, page),
            "name": "Berit Ny",
            "email": email,
            "language": "en",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def test_invited_representative_chooses_a_password_with_a_one_time_link(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    _invite(app)
    user = session.scalar(select(User).where(User.email == "berit.ny@beta.se"))
    assert user.role is Role.MEMBER_REP and user.organisation_id == network.beta.id
    assert user.password_hash is None  # nobody typed a password for her

    deliver(app, session, transport)
    (mail,) = server.received
    assert mail.recipients == ["berit.ny@beta.se"]
    assert mail.parsed()["Subject"] == "You are invited as a representative of Beta högskola"
    link = link_in(mail, "/invitation/")

    person = app.test_client()
    form = person.get(link).get_data(as_text=True)
    assert "Welcome, Berit Ny" in form
    short = person.post(
        link,
        data={
            "csrf_token": csrf_token(person, link),
            "new_password": "short",
            "confirm_password": "short",
        },
    )
    assert short.status_code == 200 and "At least 12 characters" in short.get_data(as_text=True)
    done = person.post(
        link,
        data={
            "csrf_token": csrf_token(person, link),
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert done.status_code == 302
    assert person.get("/").headers["Location"] == staff("/organisations/beta")  # signed in

    # The link worked once.
    again = app.test_client().get(link)
    assert again.status_code == 400 and "redan använts" in again.get_data(as_text=True)
    fresh = app.test_client()
    sign_in(fresh, "berit.ny@beta.se", NEW_PASSWORD)
    actions = set(session.scalars(select(AuditEvent.action)))
    assert {"representative.invited", "account.password_set_by_invitation"} <= actions


def test_invitations_expire_and_can_be_sent_again(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    _invite(app)
    deliver(app, session, transport)
    old = link_in(server.received[0], "/invitation/")
    app.extensions["campaign.clock"].advance(timedelta(days=15))
    expired = app.test_client().get(old)
    assert expired.status_code == 400 and "gått ut" in expired.get_data(as_text=True)

    lead = app.test_client()
    sign_in(lead, "lead@alpha.se")
    user = session.scalar(select(User).where(User.email == "berit.ny@beta.se"))
    response = lead.post(
        staff(f"/organisations/beta/representatives/{user.id}/resend"),
        data={"csrf_token": csrf_token(lead, staff("/organisations/beta"))},
    )
    assert response.status_code == 302
    deliver(app, session, transport)
    assert len(server.received) == 2
    assert app.test_client().get(link_in(server.received[1], "/invitation/")).status_code == 200


def test_only_the_lead_admin_invites_and_addresses_stay_unique(
    app: Flask, session: Session, network: Network
) -> None:
    rep = app.test_client()
    sign_in(rep, "rep@beta.se")
    page = staff("/organisations/beta/representatives/new")
    assert rep.get(page).status_code == 403
    response = rep.post(
        page,
        data={"csrf_token": csrf_token(rep), "name": "X", "email": "x@beta.se", "language": "sv"},
    )
    assert response.status_code == 403
    lead = app.test_client()
    sign_in(lead, "lead@alpha.se")
    taken = lead.post(
        page,
        data={
            "csrf_token": csrf_token(lead, page),
            "name": "Dup",
            "email": "REP@alpha.se",
            "language": "sv",
        },
    )
    assert "already has an account" not in taken.get_data(as_text=True)  # the UI is Swedish
    assert "Adressen har redan ett konto" in taken.get_data(as_text=True)
    assert session.scalars(select(User)).all().__len__() == 3


def test_a_disabled_representative_is_signed_out_at_once(
    app: Flask, session: Session, network: Network
) -> None:
    rep = app.test_client()
    sign_in(rep, "rep@beta.se")
    assert rep.get(staff("/organisations/beta")).status_code == 200
    lead = app.test_client()
    sign_in(lead, "lead@alpha.se")
    response = lead.post(
        staff(f"/organisations/beta/representatives/{network.rep_beta.id}/access"),
        data={"csrf_token": csrf_token(lead, staff("/organisations/beta")), "action": "disable"},
    )
    assert response.status_code == 302
    assert rep.get(staff("/organisations/beta")).headers["Location"].startswith("/login")
    blocked = app.test_client()
    blocked.post(
        "/login",
        data={"email": "rep@beta.se", "password": PASSWORD, "csrf_token": csrf_token(blocked)},
    )
    assert blocked.get(staff("/organisations/beta")).status_code == 302


def test_forgotten_password_link_lasts_two_hours_and_reveals_no_accounts(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    client = app.test_client()
    pages = []
    for email in ("rep@alpha.se", "nobody@alpha.se"):
        page = ask_for_new_password(client, email).replace(email, "ADDRESS")
        # The form's CSRF token is signed with the second it was made in, whoever asks.
        pages.append(re.sub(r'name="csrf_token" value="[^"]*"', "CSRF", page))
    assert pages[0] == pages[1]
    kinds = session.scalars(select(Message.kind)).all()
    assert kinds == [MessageKind.LOGIN_LINK]
    deliver(app, session, transport)
    link = link_in(server.received[0], "/password/reset/")
    app.extensions["campaign.clock"].advance(timedelta(hours=3))
    assert app.test_client().get(link).status_code == 400
    app.extensions["campaign.clock"].advance(timedelta(hours=-2))
    person = app.test_client()
    response = person.post(
        link,
        data={
            "csrf_token": csrf_token(person, link),
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    sign_in(app.test_client(), "rep@alpha.se", NEW_PASSWORD)
