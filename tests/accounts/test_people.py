"""People and roles in the web UI: the lead administrator invites and removes lead
administrators, moves accounts between members and roles, and hands the lead over; each change
is confirmed first, audited, refused when it would leave the campaign without a lead, and ends
the changed account's sessions (a copy of its cookie included)."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.accounts.models import Role, User
from campaign.audit import AuditEvent
from campaign.network.models import Campaign, Membership, Organisation, OrganisationKind
from campaign.outbox.models import Message, MessageKind
from campaign.security import hash_password
from tests.api_helpers import call, token_for
from tests.conftest import PASSWORD, START, Network, csrf_token, sign_in
from tests.enrolment_helpers import deliver, link_in
from tests.urls import staff

PEOPLE = staff("/people")


@pytest.fixture
def second_lead(session: Session, network: Network) -> User:
    """Another lead administrator of Alpha, who can sign in."""
    user = User(
        email="lead2@alpha.se", name="Leo Lead", role=Role.LEAD_ADMIN,
        organisation_id=network.alpha.id, password_hash=hash_password(PASSWORD), created_at=START,
    )  # fmt: skip
    session.add(user)
    session.commit()
    return user


def _client(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    sign_in(client, email)
    return client


def _post(client: FlaskClient, path: str, **data: str):  # type: ignore[no-untyped-def]
    return client.post(path, data={"csrf_token": csrf_token(client, PEOPLE), **data})


def _signed_out(client: FlaskClient) -> bool:
    """Return whether the client's session no longer works."""
    response = client.get("/account")
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


def _actions(session: Session) -> list[AuditEvent]:
    session.expire_all()
    return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def _event(session: Session, action: str) -> AuditEvent:
    """Return the one audit event of this action."""
    (event,) = [e for e in _actions(session) if e.action == action]
    return event


def _user(session: Session, email: str) -> User:
    session.expire_all()
    return session.scalars(select(User).where(User.email == email)).one()


def test_the_page_lists_every_account_with_labels_in_both_languages(
    app: Flask, network: Network, second_lead: User
) -> None:
    lead = _client(app, "lead@alpha.se")
    swedish = lead.get(PEOPLE).get_data(as_text=True)
    assert "Personer och behörigheter" in swedish
    for email in ("lead@alpha.se", "lead2@alpha.se", "rep@alpha.se", "rep@beta.se"):
        assert email in swedish
    assert "Administratör för den ledande organisationen" in swedish
    assert "Representant" in swedish and "Beta högskola" in swedish and "Svenska" in swedish
    assert "Aldrig" in swedish  # Leo has never signed in; Lea has, just now
    assert "lead_admin" not in swedish and "member_rep" not in swedish
    lead.post("/language", data={"csrf_token": csrf_token(lead, PEOPLE), "language": "en"})
    english = lead.get(PEOPLE).get_data(as_text=True)
    assert "People and roles" in english and "Lead administrator" in english
    assert "Representative" in english and "Never" in english
    assert "lead_admin" not in english and "member_rep" not in english


def test_representatives_cannot_open_or_use_the_people_pages(app: Flask, network: Network) -> None:
    rep = _client(app, "rep@alpha.se")
    assert rep.get(PEOPLE).status_code == 403
    assert rep.get(staff("/people/hand-over")).status_code == 403
    token = csrf_token(rep, "/account")
    path = staff(f"/people/{network.rep_alpha.id}/change")
    response = rep.post(path, data={"csrf_token": token, "organisation": "alpha",
                                    "role": "lead_admin", "confirmed": "yes"})  # fmt: skip
    assert response.status_code == 403
    assert app.test_client().get(PEOPLE).headers["Location"].startswith("/login")


def test_a_post_without_its_csrf_token_is_refused(app: Flask, network: Network) -> None:
    lead = _client(app, "lead@alpha.se")
    path = staff(f"/people/{network.lead.id}/remove")
    assert lead.post(path, data={"confirmed": "yes"}).status_code == 400


def test_inviting_a_lead_administrator_sends_a_link_only_they_read(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    lead = _client(app, "lead@alpha.se")
    page = staff("/people/invite")
    data = {"name": "Lisa  Ny", "email": "Lisa@Alpha.se", "language": "en"}
    response = lead.post(page, data={"csrf_token": csrf_token(lead, page), **data})
    assert response.status_code == 302, response.get_data(as_text=True)
    invited = _user(session, "lisa@alpha.se")
    assert invited.role is Role.LEAD_ADMIN and invited.organisation_id == network.alpha.id
    assert invited.password_hash is None and invited.name == "Lisa Ny"
    assert _event(session, "lead_admin.invited").campaign_id == network.campaign.id

    message = session.scalars(select(Message)).one()
    assert message.kind is MessageKind.STAFF_INVITATION
    deliver(app, session, transport)
    (mail,) = server.received
    assert mail.parsed()["Subject"] == "You are invited as a lead administrator for Alpha kommun"
    link = link_in(mail, "/invitation/")
    token = link.rsplit("/", 1)[1]
    # Nobody but the recipient reads the link: not another lead admin, not Alpha's representative.
    for reader in (lead, _client(app, "rep@alpha.se")):
        shown = reader.get(staff(f"/outbox/{message.id}")).get_data(as_text=True)
        assert token not in shown and "/invitation/" not in shown
        assert reader.get(staff(f"/outbox/{message.id}/html")).status_code in (403, 404)

    again = lead.post(page, data={"csrf_token": csrf_token(lead, page), **data})
    assert "Adressen har redan ett konto" in again.get_data(as_text=True)

    person = app.test_client()
    chosen = {"new_password": "a long new password", "confirm_password": "a long new password"}
    done = person.post(link, data={"csrf_token": csrf_token(person, link), **chosen})
    assert done.status_code == 302
    assert person.get("/").headers["Location"] == staff("/network")


def test_an_invitation_to_a_lead_administrator_can_be_sent_again(
    app: Flask, session: Session, network: Network, alpha_objects: dict[str, str]
) -> None:
    lead = _client(app, "lead@alpha.se")
    invited = alpha_objects["user_id"]
    assert _post(lead, staff(f"/people/{invited}/resend")).status_code == 302
    kind = Message.kind == MessageKind.STAFF_INVITATION
    assert session.scalars(select(Message).where(kind)).one()
    refused = _post(lead, staff(f"/people/{network.rep_beta.id}/resend"))
    assert refused.status_code == 302
    assert "har redan valt ett lösenord" in lead.get(PEOPLE).get_data(as_text=True)


def test_removing_a_lead_administrator_confirms_audits_and_signs_them_out(
    app: Flask, session: Session, network: Network, second_lead: User
) -> None:
    leo = _client(app, "lead2@alpha.se")
    lead = _client(app, "lead@alpha.se")
    path = staff(f"/people/{second_lead.id}/remove")
    asked = _post(lead, path)
    text = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Det här händer när du bekräftar" in text
    assert "Leo Lead" in text and "representant för Alpha kommun" in text
    assert _user(session, "lead2@alpha.se").role is Role.LEAD_ADMIN  # nothing yet

    done = _post(lead, path, confirmed="yes")
    assert done.status_code == 302 and done.headers["Location"] == PEOPLE
    leo_now = _user(session, "lead2@alpha.se")
    assert leo_now.role is Role.MEMBER_REP and leo_now.organisation_id == network.alpha.id
    assert _signed_out(leo)
    event = _event(session, "lead_admin.removed")
    assert event.target == f"user:{second_lead.id}"
    assert event.campaign_id == network.campaign.id
    assert event.actor_label == "lead@alpha.se"


def test_the_last_lead_administrator_cannot_be_removed_nor_demoted(
    app: Flask, session: Session, network: Network
) -> None:
    lead = _client(app, "lead@alpha.se")
    path = staff(f"/people/{network.lead.id}/remove")
    refused = _post(lead, path, confirmed="yes")
    assert refused.status_code == 302
    assert "behöver en administratör" in lead.get(PEOPLE).get_data(as_text=True)
    change = staff(f"/people/{network.lead.id}/change")
    demoted = _post(lead, change, organisation="alpha", role="member_rep", confirmed="yes")
    assert demoted.status_code == 200
    assert "behöver en administratör" in demoted.get_data(as_text=True)
    assert _user(session, "lead@alpha.se").role is Role.LEAD_ADMIN
    assert not _signed_out(lead)


def test_an_invited_lead_administrator_does_not_count_as_the_other_one(
    app: Flask, session: Session, network: Network
) -> None:
    session.add(User(email="new@alpha.se", name="Ny", role=Role.LEAD_ADMIN,
                     organisation_id=network.alpha.id, created_at=START))  # fmt: skip
    session.commit()
    lead = _client(app, "lead@alpha.se")
    _post(lead, staff(f"/people/{network.lead.id}/remove"), confirmed="yes")
    assert _user(session, "lead@alpha.se").role is Role.LEAD_ADMIN


def test_only_lead_administrators_are_removed_and_bad_ids_are_404(
    app: Flask, session: Session, network: Network
) -> None:
    lead = _client(app, "lead@alpha.se")
    _post(lead, staff(f"/people/{network.rep_beta.id}/remove"), confirmed="yes")
    assert "inte administratör" in lead.get(PEOPLE).get_data(as_text=True)
    assert _user(session, "rep@beta.se").role is Role.MEMBER_REP
    outsider = Organisation(slug="gamma", name="Gamma AB", short_name="Gamma",
                            kind=OrganisationKind.OTHER, created_at=START)  # fmt: skip
    stranger = User(email="x@gamma.se", name="X", role=Role.MEMBER_REP, organisation=outsider,
                    password_hash=None, created_at=START)  # fmt: skip
    session.add_all([outsider, stranger])
    session.commit()
    for user_id in ("999999", str(stranger.id)):  # no account; an account of no member
        for action in ("remove", "change", "resend"):
            response = _post(lead, staff(f"/people/{user_id}/{action}"), confirmed="yes")
            assert response.status_code == 404, (user_id, action)
    assert lead.get(staff("/people/99999999999999999999/change")).status_code == 404


def test_removing_yourself_asks_first_and_lands_on_your_members_page(
    app: Flask, session: Session, network: Network, second_lead: User
) -> None:
    lead = _client(app, "lead@alpha.se")
    path = staff(f"/people/{network.lead.id}/remove")
    asked = _post(lead, path).get_data(as_text=True)
    assert "ditt eget konto" in asked
    done = _post(lead, path, confirmed="yes")
    assert done.headers["Location"] == staff("/organisations/alpha")
    assert lead.get(staff("/organisations/alpha")).status_code == 200  # this session goes on
    assert lead.get(PEOPLE).status_code == 403
    assert _user(session, "lead@alpha.se").role is Role.MEMBER_REP


def test_moving_a_representative_to_another_member_ends_their_sessions(
    app: Flask, session: Session, network: Network
) -> None:
    rep = _client(app, "rep@alpha.se")
    lead = _client(app, "lead@alpha.se")
    path = staff(f"/people/{network.rep_alpha.id}/change")
    form = lead.get(path).get_data(as_text=True)
    assert "Beta högskola" in form and "Administratör för den ledande organisationen" in form
    asked = _post(lead, path, organisation="beta", role="member_rep")
    text = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Efter ändringen: Representant, Beta högskola." in text
    assert _user(session, "rep@alpha.se").organisation_id == network.alpha.id
    done = _post(lead, path, organisation="beta", role="member_rep", confirmed="yes")
    assert done.status_code == 302
    assert _user(session, "rep@alpha.se").organisation_id == network.beta.id
    assert _signed_out(rep)
    moved = _client(app, "rep@alpha.se")
    assert moved.get("/").headers["Location"] == staff("/organisations/beta")
    event = _event(session, "staff.changed")
    assert event.details["before"] == "member_rep@alpha"
    assert event.details["after"] == "member_rep@beta"
    assert event.campaign_id == network.campaign.id


def test_moving_a_representative_stops_the_api_tokens_made_for_the_member_they_leave(
    app: Flask, session: Session, network: Network
) -> None:
    # A token follows its account: left working, Alpha's systems would read Beta's people.
    token = token_for(session, network.rep_alpha)
    api = app.test_client()
    alpha, beta = (f"/api/v1/campaigns/test/members/{m}/participants" for m in ("alpha", "beta"))
    assert call(api, "GET", alpha, token).status_code == 200
    lead = _client(app, "lead@alpha.se")
    path = staff(f"/people/{network.rep_alpha.id}/change")
    asked = _post(lead, path, organisation="beta", role="member_rep").get_data(as_text=True)
    assert "API-token slutar att fungera" in asked  # said before it is done
    _post(lead, path, organisation="beta", role="member_rep", confirmed="yes")
    assert call(api, "GET", beta, token).status_code == 401
    assert call(api, "GET", alpha, token).status_code == 401
    revoked = _event(session, "api_token.revoked")
    assert revoked.details["how"] == "moved to another member"
    assert revoked.details["account"] == "rep@alpha.se"


def test_a_new_role_in_the_same_member_keeps_the_api_tokens(
    app: Flask, session: Session, network: Network
) -> None:
    token = token_for(session, network.rep_alpha)
    lead = _client(app, "lead@alpha.se")
    path = staff(f"/people/{network.rep_alpha.id}/change")
    asked = _post(lead, path, organisation="alpha", role="lead_admin").get_data(as_text=True)
    assert "API-token" not in asked
    _post(lead, path, organisation="alpha", role="lead_admin", confirmed="yes")
    alpha = "/api/v1/campaigns/test/members/alpha/participants"
    assert call(app.test_client(), "GET", alpha, token).status_code == 200


def test_a_representative_of_the_lead_becomes_lead_administrator(
    app: Flask, session: Session, network: Network
) -> None:
    rep = _client(app, "rep@alpha.se")
    lead = _client(app, "lead@alpha.se")
    path = staff(f"/people/{network.rep_alpha.id}/change")
    _post(lead, path, organisation="alpha", role="lead_admin", confirmed="yes")
    assert _user(session, "rep@alpha.se").role is Role.LEAD_ADMIN
    assert _signed_out(rep)  # the old session does not gain the new rights
    assert _client(app, "rep@alpha.se").get(PEOPLE).status_code == 200


def test_changes_that_cannot_be_are_refused_with_a_sentence(
    app: Flask, session: Session, network: Network
) -> None:
    outsider = Organisation(slug="gamma", name="Gamma AB", short_name="Gamma",
                            kind=OrganisationKind.OTHER, created_at=START)  # fmt: skip
    session.add(outsider)
    session.commit()
    lead = _client(app, "lead@alpha.se")
    path = staff(f"/people/{network.rep_beta.id}/change")
    cases = {
        ("gamma", "member_rep"): "inte medlem",  # an organisation, but no member
        ("nowhere", "member_rep"): "inte medlem",  # no organisation at all
        ("beta", "lead_admin"): "Bara personer från den ledande organisationen",
    }
    for (organisation, role), words in cases.items():
        response = _post(lead, path, organisation=organisation, role=role, confirmed="yes")
        assert response.status_code == 200 and words in response.get_data(as_text=True), words
    bad_role = _post(lead, path, organisation="alpha", role="emperor", confirmed="yes")
    assert bad_role.status_code == 200
    same = _post(lead, path, organisation="beta", role="member_rep", confirmed="yes")
    assert same.status_code == 302
    rep = _user(session, "rep@beta.se")
    assert (rep.organisation_id, rep.role) == (network.beta.id, Role.MEMBER_REP)
    assert not [e for e in _actions(session) if e.action == "staff.changed"]


def _hand_over(lead: FlaskClient, successor: User, **extra: str):  # type: ignore[no-untyped-def]
    return _post(lead, staff("/people/hand-over"), successor=str(successor.id), **extra)


def test_handing_over_the_lead_says_what_happens_then_does_it(
    app: Flask, session: Session, network: Network, second_lead: User
) -> None:
    leo, rep_beta = _client(app, "lead2@alpha.se"), _client(app, "rep@beta.se")
    lead = _client(app, "lead@alpha.se")
    choice = lead.get(staff("/people/hand-over")).get_data(as_text=True)
    assert "Bert Rep, Beta högskola" in choice and "Alva Rep" not in choice
    asked = _hand_over(lead, network.rep_beta).get_data(as_text=True)
    for words in (
        "Den ledande organisationen för Testöverenskommelsen blir Beta högskola i stället för"
        " Alpha kommun.",
        "Bert Rep blir administratör för den ledande organisationen.",
        "Administratörerna för Alpha kommun blir dess representanter i den här kampanjen:"
        " Lea Lead, Leo Lead.",
        "Efteråt ser du sidan för Alpha kommun.",
    ):
        assert words in asked, words
    session.expire_all()
    assert session.get(Campaign, network.campaign.id).lead_organisation_id == network.alpha.id

    done = _hand_over(lead, network.rep_beta, confirmed="yes")
    assert done.headers["Location"] == staff("/organisations/alpha")
    assert lead.get(staff("/organisations/alpha")).status_code == 200  # a page they may see
    session.expire_all()
    assert session.get(Campaign, network.campaign.id).lead_organisation_id == network.beta.id
    roles = {u.email: (u.role, u.organisation_id) for u in session.scalars(select(User))}
    assert roles["rep@beta.se"] == (Role.LEAD_ADMIN, network.beta.id)
    assert roles["lead@alpha.se"] == (Role.MEMBER_REP, network.alpha.id)
    assert roles["lead2@alpha.se"] == (Role.MEMBER_REP, network.alpha.id)
    assert _signed_out(leo) and _signed_out(rep_beta) and not _signed_out(lead)
    event = _event(session, "campaign.lead_handed_over")
    assert (event.details["former_lead"], event.details["new_lead"]) == ("alpha", "beta")
    assert event.campaign_id == network.campaign.id
    assert _client(app, "rep@beta.se").get(PEOPLE).status_code == 200


def test_a_former_lead_that_leads_another_campaign_keeps_its_role(
    app: Flask, session: Session, network: Network
) -> None:
    older = Campaign(
        slug="older", name="Den förra", lead_organisation_id=network.alpha.id,
        starts_on=date(2012, 1, 1), ends_on=date(2013, 12, 31), created_at=START,
    )  # fmt: skip
    session.add(older)
    session.flush()
    session.add(Membership(campaign_id=older.id, organisation_id=network.alpha.id,
                           created_at=START, updated_at=START))  # fmt: skip
    session.commit()
    lead = _client(app, "lead@alpha.se")
    asked = _hand_over(lead, network.rep_beta).get_data(as_text=True)
    assert "Alpha kommun leder fortfarande Den förra" in asked
    _hand_over(lead, network.rep_beta, confirmed="yes")
    session.expire_all()
    assert session.get(Campaign, network.campaign.id).lead_organisation_id == network.beta.id
    assert session.get(Campaign, older.id).lead_organisation_id == network.alpha.id
    assert _user(session, "lead@alpha.se").role is Role.LEAD_ADMIN  # still leads "older"
    assert not _signed_out(lead)


def test_the_lead_passes_only_to_somebody_of_another_member_who_can_sign_in(
    app: Flask, session: Session, network: Network, alpha_objects: dict[str, str]
) -> None:
    session.add(User(email="new@beta.se", name="Ny", role=Role.MEMBER_REP,
                     organisation_id=network.beta.id, created_at=START))  # fmt: skip
    session.commit()
    invited_beta = _user(session, "new@beta.se")
    lead = _client(app, "lead@alpha.se")
    for successor, words in (
        (network.rep_alpha, "en annan medlemsorganisation"),  # the lead's own organisation
        (invited_beta, "kan inte logga in"),  # invited, no password yet
    ):
        response = _hand_over(lead, successor, confirmed="yes")
        assert response.status_code == 200 and words in response.get_data(as_text=True), words
    assert _post(lead, staff("/people/hand-over"), successor="999999").status_code == 404
    assert _post(lead, staff("/people/hand-over"), successor="x").status_code == 404
    session.expire_all()
    assert session.get(Campaign, network.campaign.id).lead_organisation_id == network.alpha.id
    assert not [e for e in _actions(session) if e.action == "campaign.lead_handed_over"]
