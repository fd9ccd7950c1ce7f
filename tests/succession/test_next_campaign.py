"""The next agreement (issue 16, item 5): a campaign started from one that has run carries its
members, their settings, the pilot groups, questionnaires and campaign settings, and none of
its people; last time's pilot users may be invited to join again, through real SMTP and the
ordinary self-enrolment link; a representative cannot start one; bad input writes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from campaign.audit import AuditEvent
from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup
from campaign.network.models import Campaign, Membership
from campaign.outbox.models import Message
from campaign.succession import returning
from campaign.surveys import service
from campaign.surveys.models import Questionnaire, Response
from tests.conftest import START, Network, Runner, csrf_token, sign_in
from tests.enrolment_helpers import deliver, group, link_in
from tests.outbox_helpers import participant
from tests.urls import staff

NEXT = {"name": "Testöverenskommelsen 2015–2016", "slug": "test-2015",
        "starts_on": "2015-04-01", "ends_on": "2016-06-30"}  # fmt: skip


@pytest.fixture
def ran(app: Flask, session: Session, network: Network) -> Network:
    """The test campaign as it ends: settings and facts set, two pilot groups, four pilot users
    of whom two are active or done, and an answer to the anonymous follow-up."""
    campaign = network.campaign
    campaign.rate_limit_per_minute, campaign.cost_per_hour = 120, 310.0
    campaign.co2_kg_per_km, campaign.language = 0.2, "en"
    alpha = _membership(session, campaign, network.alpha.id)
    alpha.enrolment_target, alpha.contact_name, alpha.guide_url = (
        40,
        "Kim Kontakt",
        "https://a.se/g",
    )
    alpha.people_reached, alpha.people_with_access, alpha.work_done_md = 2000, 8000, "Vi övade."
    with app.app_context():
        own = group(session, network)
        group(session, network, "Alpha-chefer")
        people = (("anna@alpha.se", "active"), ("bo@alpha.se", "completed"),
                  ("cilla@alpha.se", "unsubscribed"), ("dan@beta.se", "active"))  # fmt: skip
        for email, status in people:
            person = participant(session, network, email, org=email.split("@")[1][:-3])
            person.status, person.language = ParticipantStatus(status), "sv"
            person.pilot_group_id = own.id if person.organisation_id == network.alpha.id else None
        questionnaires = service.questionnaires_of(session, campaign, START)
    follow_up = next(q for q in questionnaires if q.slug == "follow-up")
    follow_up.is_anonymous, follow_up.closes_at = True, datetime(2015, 3, 31, tzinfo=UTC)
    answer = Response(questionnaire_id=follow_up.id, organisation_id=network.alpha.id,
                      answers={"km_avoided": 10}, submitted_at=START, updated_at=START)  # fmt: skip
    session.add(answer)
    session.commit()
    return network


def _membership(session: Session, campaign: Campaign, organisation_id: int) -> Membership:
    return session.scalars(
        select(Membership).where(
            Membership.campaign_id == campaign.id, Membership.organisation_id == organisation_id
        )
    ).one()


def _lead(app: Flask) -> FlaskClient:
    client = app.test_client()
    sign_in(client, "lead@alpha.se")
    return client


def _start(client: FlaskClient, **changes: str) -> Any:
    path = staff("/network/next")
    data = {**NEXT, **changes, "csrf_token": csrf_token(client, path)}
    return client.post(path, data={k: v for k, v in data.items() if v is not None})


def _everything_of(session: Session, campaign_id: int) -> list[tuple[Any, ...]]:
    """The old campaign's rows as values, to compare before and after."""
    session.expire_all()
    found: list[tuple[Any, ...]] = []
    for model in (Campaign, Membership, PilotGroup, Participant, Questionnaire):
        column = model.id if model is Campaign else model.campaign_id
        for row in session.scalars(select(model).where(column == campaign_id).order_by(model.id)):
            columns = inspect(row).mapper.column_attrs
            found.append(tuple((c.key, getattr(row, c.key)) for c in columns))
    return found


def _new(session: Session) -> Campaign:
    session.expire_all()
    return session.scalars(select(Campaign).where(Campaign.slug == NEXT["slug"])).one()


def test_the_copy_has_the_network_and_its_settings_and_none_of_its_people(
    app: Flask, session: Session, ran: Network
) -> None:
    old = ran.campaign
    before = _everything_of(session, old.id)
    answer = _start(_lead(app))
    assert answer.status_code == 302 and answer.headers["Location"] == staff(
        "/network", NEXT["slug"]
    )
    new = _new(session)
    assert (new.name, new.starts_on, new.ends_on) == (
        NEXT["name"],
        date(2015, 4, 1),
        date(2016, 6, 30),
    )
    for name in ("lead_organisation_id", "timezone", "language", "rate_limit_per_minute",
                 "co2_kg_per_km", "cost_per_km", "cost_per_hour"):  # fmt: skip
        assert getattr(new, name) == getattr(old, name), name
    alpha = _membership(session, new, ran.alpha.id)
    assert (alpha.meeting_software, alpha.software_comment) == ("Lync", "Alla anställda")
    assert (alpha.enrolment_target, alpha.contact_name, alpha.guide_url) == (
        40,
        "Kim Kontakt",
        "https://a.se/g",
    )
    # What was reported for the old period stays with it.
    assert (alpha.people_reached, alpha.people_with_access, alpha.work_done_md, alpha.tips_md) == (
        None,
        None,
        "",
        "",
    )
    assert _membership(session, new, ran.beta.id).status.value == "informal"
    groups = session.scalars(select(PilotGroup).where(PilotGroup.campaign_id == new.id)).all()
    assert sorted((g.name, g.sequence_name, g.starts_on, g.enrolment_key) for g in groups) == [
        ("Alpha-chefer", "pilot-group", date(2015, 6, 1), None),  # as far into the period
        ("Alpha-gruppen", "pilot-group", date(2015, 6, 1), None),
    ]
    copied = session.scalars(select(Questionnaire).where(Questionnaire.campaign_id == new.id)).all()
    assert sorted((q.slug, q.definition, q.is_anonymous, q.closes_at) for q in copied) == [
        ("baseline", "baseline", False, None), ("follow-up", "follow-up", True, None),
    ]  # fmt: skip
    counted = select(func.count()).select_from(Participant).where(Participant.campaign_id == new.id)
    assert session.scalar(counted) == 0
    assert session.scalar(select(func.count()).select_from(Response)) == 1  # the old answer only
    assert session.scalar(select(func.count()).select_from(Message)) == 0  # no box was ticked
    (event,) = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "campaign.started_from")
    )
    assert (event.actor_label, event.target, event.details["source"]) == (
        "lead@alpha.se",
        "test-2015",
        "test",
    )
    assert _everything_of(session, old.id) == before


def test_returning_pilot_users_get_a_link_that_enrols_them_in_the_new_campaign(
    app: Flask, session: Session, ran: Network, sink: Any
) -> None:
    server, transport = sink
    lead = _lead(app)
    answer = _start(lead, returning="y")
    assert answer.status_code == 302
    shown = lead.get(answer.headers["Location"]).get_data(as_text=True)
    assert "2 pilotanvändare från förra omgången är inbjudna att vara med igen" in shown, shown
    deliver(app, session, transport)
    assert sorted(r.recipients[0] for r in server.received) == ["anna@alpha.se", "bo@alpha.se"]
    mail = next(r for r in server.received if r.recipients == ["anna@alpha.se"])
    text = mail.parsed().get_body(preferencelist=("plain",)).get_content()
    assert "Vill du vara med igen" in str(mail.parsed()["Subject"]) and "Alpha-gruppen" in text
    assert "1 april 2015" in text and "30 juni 2016" in text

    visitor = app.test_client()
    link = link_in(mail, "/join/")
    assert "Alpha-gruppen" in visitor.get(link).get_data(as_text=True)
    form = {"name": "Anna Åter", "email": "anna@alpha.se", "title": "", "language": "sv",
            "agreed": "y", "csrf_token": csrf_token(visitor, link)}  # fmt: skip
    assert visitor.post(link, data=form).status_code == 200
    deliver(app, session, transport)
    confirm = link_in(server.received[-1], "/join/confirm/")
    done = visitor.post(
        confirm, data={"csrf_token": csrf_token(visitor, confirm), "confirm": "yes"}
    )
    assert done.status_code == 200
    new = _new(session)
    (joined,) = session.scalars(select(Participant).where(Participant.campaign_id == new.id))
    assert (joined.email, joined.name, joined.pilot_group.name) == (
        "anna@alpha.se",
        "Anna Åter",
        "Alpha-gruppen",
    )
    assert joined.consents[0].method.value == "self_enrolment"
    old = session.scalars(select(Participant).where(Participant.campaign_id == ran.campaign.id))
    assert len(old.all()) == 4  # last time's people stay where they were


def test_a_campaign_that_may_not_send_invites_nobody(
    app: Flask, session: Session, ran: Network
) -> None:
    over = Campaign(slug="x", name="X", timezone="Europe/Stockholm",
                    starts_on=date(2013, 1, 1), ends_on=date(2013, 12, 31))  # fmt: skip
    assert not returning.may_invite(over, START) and returning.may_invite(ran.campaign, START)
    answer = _start(_lead(app), returning="y", starts_on="2013-01-01", ends_on="2013-12-31")
    assert answer.status_code == 302
    assert session.scalar(select(func.count()).select_from(Message)) == 0


def test_a_representative_cannot_start_a_campaign(
    app: Flask, ran: Network, session: Session
) -> None:
    rep = app.test_client()
    sign_in(rep, "rep@alpha.se")
    assert rep.get(staff("/network/next")).status_code in (403, 404)
    data = {**NEXT, "csrf_token": csrf_token(rep, staff("/organisations/alpha"))}
    assert rep.post(staff("/network/next"), data=data).status_code in (403, 404)
    assert session.scalar(select(func.count()).select_from(Campaign)) == 1


@pytest.mark.parametrize(
    ("changes", "sentence"),
    [
        ({"slug": "test"}, "Another campaign already uses this address name."),
        ({"ends_on": "2015-03-31"}, "The campaign cannot end before it starts."),
        ({"slug": "Nästa år"}, "Use a-z, 0-9 and hyphens only."),
        ({"name": " "}, "Give the campaign a name of 2 to 200 characters"),
    ],
)
def test_bad_input_is_a_form_error_and_writes_nothing(
    app: Flask, session: Session, ran: Network, changes: dict[str, str], sentence: str
) -> None:
    lead = _lead(app)
    token = csrf_token(lead, "/language")
    lead.post("/language", data={"language": "en", "next": "/network", "csrf_token": token})
    answer = _start(lead, returning="y", **changes)
    assert answer.status_code == 200
    assert sentence in answer.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Campaign)) == 1
    assert session.scalar(select(func.count()).select_from(Message)) == 0
    assert session.scalars(select(AuditEvent.action)).all() == ["login"]


def test_the_command_starts_the_next_campaign(
    runner: Runner, session: Session, ran: Network
) -> None:
    result = runner.invoke(
        "create-campaign", "--from", "test", "--name", NEXT["name"], "--starts", "2015-04-01",
        "--ends", "2016-06-30", "--invite-returning",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2 members" in result.output and "2 pilot users" in result.output
    new = session.scalars(
        select(Campaign).where(Campaign.slug == "testoverenskommelsen-2015-2016")
    ).one()
    assert len(new.memberships) == 2
    assert session.scalar(select(func.count()).select_from(Message)) == 2


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (("--from", "nope"), "There is no campaign 'nope'"),
        (("--from", "test", "--slug", "test"), "--slug: Another campaign already uses"),
        (("--from", "test", "--ends", "2015-01-01"), "--starts/--ends: The campaign cannot end"),
        (("--from", "test", "--lead", "Alpha kommun"), "with --from the lead carries over"),
        ((), "Give --lead for a new network, or --from SLUG"),
    ],
)
def test_the_command_says_what_is_wrong_and_writes_nothing(
    runner: Runner, session: Session, ran: Network, args: tuple[str, ...], sentence: str
) -> None:
    base = ("--name", "Nästa", "--starts", "2015-04-01", "--ends", "2016-06-30")
    result = runner.invoke("create-campaign", *base, *args)  # the last of an option counts
    assert result.exit_code != 0 and sentence in result.output, result.output
    assert "Traceback" not in result.output
    assert session.scalar(select(func.count()).select_from(Campaign)) == 1


def test_the_next_campaign_keeps_the_edited_sequence_and_the_members_own_paragraphs(
    app: Flask, session: Session, ran: Network
) -> None:
    from campaign.drip import stored
    from campaign.drip.local import LocalParagraph, Where, save_paragraph

    old = ran.campaign
    files = stored.current(session, old.id, "pilot-group").files
    welcome = "sv/01-valkommen.md"
    edited = {**files, welcome: files[welcome].replace("Vi hörs snart!", "Hörs snart!")}
    stored.save(session, old.id, "pilot-group", edited, author_id=ran.lead.id, note="edit:01",
                now=START)  # fmt: skip
    alpha = _membership(session, old, ran.alpha.id)
    where = Where("pilot-group", "01", "sv")
    save_paragraph(session, alpha, where, "help", "Ring Alphas IT.", ran.rep_alpha, START)
    session.commit()
    assert _start(_lead(app)).status_code == 302
    new = _new(session)
    (version,) = stored.versions(session, new.id, "pilot-group")
    assert (version.number, version.note, version.author_id) == (1, "from:test", ran.lead.id)
    assert stored.current(session, new.id, "pilot-group").files == edited
    (copied,) = session.scalars(select(LocalParagraph).where(LocalParagraph.campaign_id == new.id))
    assert copied.membership_id == _membership(session, new, ran.alpha.id).id
    assert (copied.step_ident, copied.place, copied.text) == ("01", "help", "Ring Alphas IT.")
    sign_in(client := app.test_client(), "lead@alpha.se")
    history = client.get(staff("/sequences/pilot-group/history", NEXT["slug"])).get_data(True)
    assert "Överförd från överenskommelsen test" in history
