"""Sessions end when they should: a new password (changed or reset), signing out and disabling
the account end the account's other sessions, copies of their cookie included.

A session is a signed cookie, valid for hours; a copy of it (a second device, a stolen cookie)
is the same session. Each test copies one client's cookie jar into a second client and checks
which of them is still signed in.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.conftest import PASSWORD, Network, ask_for_new_password, csrf_token, sign_in
from tests.enrolment_helpers import deliver, link_in
from tests.urls import staff

NEW_PASSWORD = "a brand new password, 2014"
HOME = {"lead@alpha.se": staff("/network"), "rep@beta.se": staff("/organisations/beta")}


def _copy(app: Flask, client: FlaskClient) -> FlaskClient:
    """Return a second client holding a copy of `client`'s session cookie."""
    cookie = client.get_cookie("campaign_session")
    assert cookie is not None
    other = app.test_client()
    other.set_cookie("campaign_session", cookie.value)
    return other


def _signed_in(client: FlaskClient, email: str) -> bool:
    response = client.get(HOME[email])
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200


def _signed_in_twice(app: Flask, email: str) -> tuple[FlaskClient, FlaskClient, FlaskClient]:
    """Sign in, copy that cookie, and sign in once more elsewhere: three live sessions."""
    first = app.test_client()
    sign_in(first, email)
    copy, elsewhere = _copy(app, first), app.test_client()
    sign_in(elsewhere, email)
    assert all(_signed_in(client, email) for client in (first, copy, elsewhere))
    return first, copy, elsewhere


@pytest.mark.parametrize("email", ["lead@alpha.se", "rep@beta.se"])
def test_changing_the_password_ends_every_other_session(
    app: Flask, network: Network, email: str
) -> None:
    first, copy, elsewhere = _signed_in_twice(app, email)
    response = first.post(
        "/account",
        data={
            "password-csrf_token": csrf_token(first, "/account"),
            "password-current_password": PASSWORD,
            "password-new_password": NEW_PASSWORD,
            "password-confirm_password": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    page = first.get("/account")  # the session that changed it goes on
    assert page.status_code == 200 and "Ditt lösenord är ändrat." in page.get_data(as_text=True)
    assert not _signed_in(copy, email)
    assert not _signed_in(elsewhere, email)
    assert _signed_in(first, email)
    sign_in(copy, email, NEW_PASSWORD)  # signing in again works
    assert _signed_in(copy, email)


@pytest.mark.parametrize("email", ["lead@alpha.se", "rep@beta.se"])
def test_a_password_reset_ends_every_session_and_signs_in_the_one_that_reset(
    app: Flask, session: Session, network: Network, sink, email: str
) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    first, copy, _ = _signed_in_twice(app, email)
    person = app.test_client()
    ask_for_new_password(person, email)
    deliver(app, session, transport)
    link = link_in(server.received[0], "/password/reset/")
    response = person.post(
        link,
        data={
            "csrf_token": csrf_token(person, link),
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert _signed_in(person, email)
    assert not _signed_in(first, email)
    assert not _signed_in(copy, email)


def test_signing_out_ends_copies_of_the_session_too(app: Flask, network: Network) -> None:
    first, copy, elsewhere = _signed_in_twice(app, "rep@beta.se")
    response = first.post(
        "/logout", data={"csrf_token": csrf_token(first, staff("/organisations/beta"))}
    )
    assert response.headers["Location"] == "/login"
    assert not _signed_in(first, "rep@beta.se")
    assert not _signed_in(copy, "rep@beta.se")  # the copied cookie is worth nothing now
    assert not _signed_in(elsewhere, "rep@beta.se")  # signing out signs out everywhere


def test_enabling_a_disabled_account_again_does_not_revive_its_sessions(
    app: Flask, network: Network
) -> None:
    first, copy, _ = _signed_in_twice(app, "rep@beta.se")
    lead = app.test_client()
    sign_in(lead, "lead@alpha.se")
    url = staff(f"/organisations/beta/representatives/{network.rep_beta.id}/access")
    for action in ("disable", "enable"):
        response = lead.post(
            url,
            data={"csrf_token": csrf_token(lead, staff("/organisations/beta")), "action": action},
        )
        assert response.status_code == 302
        assert not _signed_in(first, "rep@beta.se"), action
        assert not _signed_in(copy, "rep@beta.se"), action
    sign_in(first, "rep@beta.se")  # after enabling, signing in again works
    assert _signed_in(first, "rep@beta.se")


def test_setting_a_password_through_an_invitation_link_starts_a_new_generation(
    app: Flask, session: Session, network: Network
) -> None:
    from sqlalchemy import select

    from campaign.accounts import invitations
    from campaign.accounts.models import User

    user = network.rep_beta
    user.password_hash = None  # invited, no password chosen yet
    session.commit()
    generation = user.session_generation
    with app.test_request_context():
        link = f"/invitation/{invitations.token_for(user, 'invitation')}"
    person = app.test_client()
    response = person.post(
        link,
        data={
            "csrf_token": csrf_token(person, link),
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302 and _signed_in(person, "rep@beta.se")
    session.expire_all()
    account = session.scalars(select(User).where(User.id == user.id)).one()
    assert account.session_generation == generation + 1
