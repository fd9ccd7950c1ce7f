"""Retention across the clock (issue 16, item 3): nothing before the warning, one mail and a
dashboard notice 30 days before, the purge when the purge date has passed, personal data gone
from every table and page, the report's figures unchanged, a second run changing nothing, and
the participants' old links answering a page that says so."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.accounts.models import Role, User
from campaign.audit import AuditEvent
from campaign.enrolment.models import (
    Consent,
    ImportRow,
    JoinRequest,
    Participant,
    ParticipantStatus,
    PilotGroup,
)
from campaign.events.invitations import rsvp_token
from campaign.events.models import Invitation
from campaign.network.models import Campaign
from campaign.outbox.models import Message, MessageKind, MessageState, Suppression
from campaign.outbox.unsubscribe import token_for
from campaign.surveys import service
from campaign.surveys.models import Response
from tests.conftest import START, Network, csrf_token, sign_in
from tests.enrolment_helpers import deliver
from tests.retention_helpers import (
    PURGE_AT,
    SHARED,
    WARNING_AT,
    Pilot,
    build_pilot,
    everything,
    figures,
    run_retention,
)
from tests.urls import staff

KEPT_UNTIL = "31 mars 2016"


def _signed_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    sign_in(client, email)
    return client


def _notices(session: Session) -> list[Message]:
    session.expire_all()
    return list(session.scalars(select(Message).where(Message.kind == MessageKind.NOTICE)))


def _purges(session: Session) -> int:
    query = select(func.count()).where(AuditEvent.action == "campaign.purged")
    return session.scalar(query.select_from(AuditEvent)) or 0


def test_the_clock_across_the_warning_and_the_purge(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    pilot = build_pilot(app, session, network, transport)
    lead = _signed_in(app, "lead@alpha.se")

    # A day before the warning: no mail, no notice.
    assert run_retention(app, WARNING_AT - timedelta(days=1))
    assert _notices(session) == []
    assert KEPT_UNTIL not in lead.get(staff("/dashboard")).get_data(as_text=True)

    # 30 days before: one mail to each lead administrator in their language, over SMTP, and
    # the notice on the dashboards.
    _english_lead(session, network)
    received = len(server.received)
    assert run_retention(app, WARNING_AT)
    assert run_retention(app, WARNING_AT + timedelta(hours=1))  # once
    assert sorted(m.recipient for m in _notices(session)) == ["lead2@alpha.se", "lead@alpha.se"]
    deliver(app, session, transport)
    mails = {m.recipients[0]: m.parsed() for m in server.received[received:]}
    assert sorted(mails) == ["lead2@alpha.se", "lead@alpha.se"]
    swedish, english = mails["lead@alpha.se"], mails["lead2@alpha.se"]
    assert swedish["Subject"] == (
        "Personuppgifterna i Testöverenskommelsen raderas efter den 31 mars 2016"
    )
    body = swedish.get_body(preferencelist=("plain",)).get_content()
    assert "till och med den 31 mars 2016" in body and "slutade den 31 mars 2015" in body
    assert english["Subject"] == (
        "The personal data of Testöverenskommelsen will be deleted after March 31, 2016"
    )
    dashboard = lead.get(staff("/dashboard")).get_data(as_text=True)
    assert f"sparas till och med den {KEPT_UNTIL}" in dashboard
    rep = _signed_in(app, "rep@alpha.se")
    assert KEPT_UNTIL in rep.get(staff("/organisations/alpha/dashboard")).get_data(as_text=True)

    # The purge date has not passed until its last day is over in Stockholm.
    before = figures(app, session, network.campaign.id)
    assert run_retention(app, PURGE_AT - timedelta(minutes=1))
    assert _purges(session) == 0
    assert pilot.secrets <= _found(app, pilot)

    assert run_retention(app, PURGE_AT)
    assert _purges(session) == 1
    assert figures(app, session, network.campaign.id) == before
    assert _found(app, pilot) == set()
    _check_rows(session, network)
    _check_pages(app, session, pilot)
    dashboard = lead.get(staff("/dashboard")).get_data(as_text=True)
    assert "raderades den 1 april 2016" in dashboard

    # A second run changes nothing and records nothing.
    stored = _without_leases(everything(app))
    assert run_retention(app, PURGE_AT + timedelta(hours=1))
    assert _without_leases(everything(app)) == stored and _purges(session) == 1


def _english_lead(session: Session, network: Network) -> None:
    """A second lead administrator, who reads English, and a disabled one, who gets nothing."""
    for email, enabled in (("lead2@alpha.se", True), ("gone@alpha.se", False)):
        session.add(
            User(
                email=email,
                name="Other Lead",
                role=Role.LEAD_ADMIN,
                language="en",
                organisation=network.alpha,  # the lead organisation: lead administrators here
                is_enabled=enabled,
                created_at=START,
            )  # fmt: skip
        )
    session.commit()


def _found(app: Flask, pilot: Pilot) -> set[str]:
    """The pilot's personal data still somewhere in the database."""
    stored = everything(app)
    return {secret for secret in pilot.secrets if secret in stored}


def _check_rows(session: Session, network: Network) -> None:
    session.expire_all()
    campaign = session.get(Campaign, network.campaign.id)
    assert campaign is not None and campaign.purged_at == PURGE_AT
    assert session.scalars(select(Consent)).all() == []
    assert session.scalars(select(JoinRequest)).all() == []
    assert session.scalars(select(ImportRow)).all() == []
    assert all(g.enrolment_key is None for g in session.scalars(select(PilotGroup)))
    ours = Message.campaign_id == campaign.id
    assert {m.recipient for m in session.scalars(select(Message).where(ours))} == {
        "purged@purged.invalid"
    }
    states = {m.source_key: m.state for m in session.scalars(select(Message).where(ours))}
    assert states[next(k for k in states if k.endswith("welcome/02"))] is MessageState.CANCELLED
    # The suppression of an address only this campaign held is gone; the shared one stays.
    assert [s.email for s in session.scalars(select(Suppression))] == [SHARED]
    (event,) = session.scalars(select(AuditEvent).where(AuditEvent.action == "campaign.purged"))
    assert event.actor_label == "system" and event.details["participants"] == 17
    assert event.details["consents"] == 17 and event.details["join_requests"] == 1
    assert event.details["suppressions"] == 2 and event.details["audit_events"] == 1


def _check_pages(app: Flask, session: Session, pilot: Pilot) -> None:
    """Staff pages, exports and the outbox name nobody; the old links answer 410."""
    rep = _signed_in(app, "rep@alpha.se")
    person = f"/organisations/alpha/participants/{pilot.person_id}"
    message_ids = session.scalars(
        select(Message.id).where(Message.participant_id == pilot.person_id)
    )
    pages = [
        staff("/organisations/alpha/participants"),
        staff(person),
        staff(f"{person}/data.json"),
        staff("/organisations/alpha/participants/export.csv"),
        staff("/outbox"),
        *(staff(f"/outbox/{i}") for i in message_ids),
    ]
    for page in pages:
        answer = rep.get(page)
        assert answer.status_code == 200, page
        shown = answer.get_data(as_text=True)
        assert not {s for s in pilot.secrets if s in shown}, page
    for answer in _old_links(app, session, pilot):
        page = answer.get_data(as_text=True)
        assert answer.status_code == 410, page
        assert "Vi har inga uppgifter om dig" in page


def _old_links(app: Flask, session: Session, pilot: Pilot) -> list:  # type: ignore[type-arg]
    """Every link the participant was sent, followed after the purge."""
    person = session.get(Participant, pilot.person_id)
    assert person is not None
    invitation = session.scalars(
        select(Invitation).where(Invitation.participant_id == person.id)
    ).one()
    with app.app_context():
        (questionnaire, *_rest) = service.questionnaires_of(
            session, session.get(Campaign, person.campaign_id), START
        )
        links = {
            "unsubscribe": f"/u/{token_for(person)}",
            "rsvp": f"/rsvp/{rsvp_token(invitation)}",
            "questionnaire": f"/q/{service.link_token(questionnaire, person)}",
        }
    visitor = app.test_client()
    token = csrf_token(visitor, "/login")
    return [
        visitor.get(links["unsubscribe"]),
        visitor.post(links["unsubscribe"], data={"List-Unsubscribe": "One-Click"}),
        visitor.get(links["rsvp"]),
        visitor.post(links["rsvp"], data={"csrf_token": token, "answer": "accepted"}),
        visitor.get(links["questionnaire"]),
        visitor.post(links["questionnaire"], data={"csrf_token": token}),
    ]


def test_an_interrupted_purge_leaves_everything_and_the_next_run_does_it_all(
    app: Flask, session: Session, network: Network, sink, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from campaign.retention import purge

    pilot = build_pilot(app, session, network, sink[1])
    assert run_retention(app, WARNING_AT)
    stored = everything(app)

    def cut_off(*_args: object) -> int:
        raise ConnectionError("the database went away")

    monkeypatch.setattr(purge, "_participants", cut_off)  # the last step: all else is done
    assert not run_retention(app, PURGE_AT)
    assert "ConnectionError" in everything(app)  # the job's row records what went wrong
    assert _without_leases(everything(app)) == _without_leases(stored)
    monkeypatch.undo()
    assert run_retention(app, PURGE_AT + timedelta(hours=1))
    assert _found(app, pilot) == set() and _purges(session) == 1


def _without_leases(stored: str) -> str:
    """The database as text, without the job table's rows (they record the runs)."""
    return "\n".join(line for line in stored.splitlines() if "retention" not in line)


def test_the_numbers_and_choices_of_answers_stay_and_the_free_texts_go(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    build_pilot(app, session, network, sink[1])
    run_retention(app, WARNING_AT)
    run_retention(app, PURGE_AT)
    session.expire_all()
    answers = [r.answers for r in session.scalars(select(Response))]
    assert answers and all("hopes" not in a and "tips" not in a for a in answers)
    assert sum(a.get("km_avoided", 0) for a in answers) == 100 * sum(range(18))
    erased = session.scalars(
        select(Participant).where(Participant.status == ParticipantStatus.ERASED)
    ).one()
    assert erased.email.endswith("@erased.invalid")  # an erasure stays what it was


def test_mail_that_came_back_goes_with_the_purge(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    from campaign.inbound.receive import receive
    from campaign.outbox.inbound import InboundMessage

    pilot = build_pilot(app, session, network, sink[1])
    person = session.get(Participant, pilot.person_id)
    assert person is not None
    ours = session.scalars(select(Message).where(Message.participant_id == person.id)).first()
    assert ours is not None
    words = "Tack, men vi har redan Skype"  # ASCII: a repr of bytes shows it as written
    raw = (
        f"From: {person.email}\r\nTo: kampanj@example.org\r\nSubject: Svar\r\n"
        f"In-Reply-To: {ours.message_id}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"\r\n{words}\r\n"
    ).encode()
    with app.app_context():
        row = receive(session, raw, START, source="pipe")
    assert row.campaign_id == network.campaign.id
    secrets = pilot.secrets | {words, person.email}
    assert {secret for secret in secrets if secret in everything(app)} >= {words}
    assert run_retention(app, WARNING_AT) and run_retention(app, PURGE_AT)
    assert {secret for secret in secrets if secret in everything(app)} == set()
    assert session.scalar(select(func.count()).select_from(InboundMessage)) == 0
