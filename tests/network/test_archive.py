"""The archive and the period: archiving an ended campaign (web and command line), an archive
refusing every change while it is read and downloaded, the phase on every staff page in both
languages, and a new end date audited and re-planned."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from campaign.accounts.models import User
from campaign.accounts.scope import Access
from campaign.audit import AuditEvent
from campaign.drip.materialize import materialize
from campaign.drip.next_steps import NOTHING_LEFT
from campaign.drip.schedule import plans_for
from campaign.enrolment.holds import ENDED_ANSWER
from campaign.enrolment.models import Participant
from campaign.network.models import Campaign
from campaign.network.views.phases import STILL_OPEN
from campaign.outbox.models import Message, MessageState
from campaign.schema import metadata
from campaign.timing import FixedClock, clock_of
from tests.conftest import START, Network, csrf_token, sign_in
from tests.enrolment_helpers import group
from tests.outbox_helpers import participant, queue_welcome
from tests.routes import TOKEN_OF, routes, url_of
from tests.urls import staff

AFTER_THE_END = datetime(2015, 4, 2, 9, 0, tzinfo=UTC)  # the network fixture ends 2015-03-31


def _clock(app: Flask) -> FixedClock:
    clock = clock_of(app)
    assert isinstance(clock, FixedClock)
    return clock


def _lead(client: FlaskClient) -> FlaskClient:
    sign_in(client, "lead@alpha.se")
    return client


def _archive(app: Flask, session: Session, network: Network) -> None:
    _clock(app).set(AFTER_THE_END)
    session.get(Campaign, network.campaign.id).archived_at = AFTER_THE_END
    session.commit()


def _actions(session: Session) -> list[str]:
    session.expire_all()
    query = select(AuditEvent.action).where(AuditEvent.action.startswith("campaign."))
    return list(session.scalars(query.order_by(AuditEvent.id)))


def test_only_an_ended_campaign_is_archived_and_only_after_a_confirmation(
    app: Flask, client: FlaskClient, session: Session, network: Network
) -> None:
    _lead(client)
    page = client.get(staff("/network/archive")).get_data(as_text=True)
    assert "Bara en överenskommelse som har avslutats kan arkiveras" in page
    assert "31 mars 2015" in page
    refused = client.post(
        staff("/network/archive"), data={"csrf_token": csrf_token(client), "confirm": "yes"}
    )
    assert refused.status_code == 302 and _actions(session) == []
    _clock(app).set(AFTER_THE_END)
    assert "Arkivera överenskommelsen…" in client.get(staff("/network/settings")).get_data(True)
    asked = client.post(staff("/network/archive"), data={"csrf_token": csrf_token(client)})
    assert asked.status_code == 200 and _actions(session) == []  # no confirmation: asked again
    done = client.post(
        staff("/network/archive"), data={"csrf_token": csrf_token(client), "confirm": "yes"}
    )
    assert done.status_code == 302 and _actions(session) == ["campaign.archived"]
    assert session.get(Campaign, network.campaign.id).archived_at == AFTER_THE_END


def _fingerprint(session: Session) -> dict[str, object]:
    """Every table's row count, and every campaign and message state, to see that nothing
    changed."""
    session.expire_all()
    counts: dict[str, object] = {
        table.name: session.scalar(select(func.count()).select_from(table))
        for table in metadata.sorted_tables
        if table.name != "job_lease"
    }
    counts["campaign"] = session.execute(text("SELECT * FROM campaign")).all()
    counts["message"] = session.execute(select(Message.id, Message.state)).all()
    return counts


def test_an_archived_campaign_refuses_every_change_of_its_staff_pages(
    app: Flask, session: Session, network: Network, alpha_objects: dict[str, str]
) -> None:
    _archive(app, session, network)
    client = _lead(app.test_client())
    before = _fingerprint(session)
    refused = []
    for endpoint, rule, method in routes(app):
        access = app.view_functions[endpoint].access
        if method != "POST" or access is Access.PUBLIC or endpoint in STILL_OPEN:
            continue
        values = {**alpha_objects, "token": alpha_objects[TOKEN_OF.get(endpoint, "token")]}
        response = client.post(url_of(rule, values), data={"csrf_token": csrf_token(client)})
        assert response.status_code == 409, (endpoint, response.status_code)
        assert "Testöverenskommelsen är arkiverad" in response.get_data(as_text=True)
        refused.append(endpoint)
    assert len(refused) >= 30 and "network.settings" in refused and "outbox.retry" in refused
    assert _fingerprint(session) == before
    account = client.post("/account", data={"csrf_token": csrf_token(client, "/account")})
    assert account.status_code != 409  # one's own account is no part of the campaign


def test_an_archive_is_still_read_exported_and_reported_on(
    app: Flask, session: Session, network: Network, alpha_objects: dict[str, str]
) -> None:
    _archive(app, session, network)
    client = _lead(app.test_client())
    for path in (
        "/dashboard", "/network", "/report", "/report/final.csv", "/report/final.html",
        "/organisations/alpha/participants", "/organisations/alpha/participants/export.csv",
        f"/organisations/alpha/participants/{alpha_objects['participant_id']}",
        f"/questionnaires/{alpha_objects['questionnaire_id']}/export.xlsx", "/outbox",
    ):  # fmt: skip
        assert client.get(staff(path)).status_code == 200, path
    unsubscribe = app.test_client().post(
        f"/u/{alpha_objects['token']}", data={"action": "pause"}
    )  # a participant's own link still works: it is not a staff page
    assert unsubscribe.status_code in (200, 302)


PHASES = [
    (datetime(2013, 12, 1, tzinfo=UTC), False, "Förbereds, startar 1 januari 2014",
     "Preparing, starts January 1, 2014"),
    (START, False, "Pågår till 31 mars 2015", "Running until March 31, 2015"),
    (AFTER_THE_END, False, "Avslutad 31 mars 2015", "Ended March 31, 2015"),
    (AFTER_THE_END, True, "Arkiverad, avslutad 31 mars 2015", "Archived, ended March 31, 2015"),
]  # fmt: skip
BANNER = {
    "sv": "Överenskommelsen är arkiverad: allt kan läsas och laddas ned",
    "en": "This campaign is archived: everything can be read and downloaded",
}


@pytest.mark.parametrize(("moment", "archived", "swedish", "english"), PHASES)
def test_every_staff_page_shows_the_phase_in_both_languages(
    app: Flask, session: Session, network: Network,
    moment: datetime, archived: bool, swedish: str, english: str,
) -> None:  # fmt: skip
    _clock(app).set(moment)
    session.get(Campaign, network.campaign.id).archived_at = moment if archived else None
    session.commit()
    for email, paths in (
        ("lead@alpha.se", ["/dashboard", "/network", "/outbox", "/sequences", "/people"]),
        ("rep@beta.se", ["/organisations/beta", "/organisations/beta/participants"]),
    ):
        for language, expected in (("sv", swedish), ("en", english)):
            session.scalars(select(User).where(User.email == email)).one().language = language
            session.commit()
            client = app.test_client()
            sign_in(client, email)
            for path in paths:
                page = client.get(staff(path)).get_data(as_text=True)
                assert expected in page, (path, language)
                assert (BANNER[language] in page) is archived, (path, language)
    assert "Pågår" not in app.test_client().get("/login").get_data(as_text=True)


def test_the_dashboard_gives_the_period(app: Flask, network: Network) -> None:
    client = _lead(app.test_client())
    page = client.get(staff("/dashboard")).get_data(as_text=True)
    assert "Pågår till 31 mars 2015" in page
    assert "Period: 1 januari 2014 till 31 mars 2015." in page


def test_the_command_line_archives_and_reopens_with_sentences(
    app: Flask, runner, session: Session, network: Network
) -> None:  # type: ignore[no-untyped-def]
    for args, sentence in (
        (("archive", "--campaign", "nope"), "There is no campaign 'nope'."),
        (("archive", "--campaign", "test"), "has not ended (its last day is 2015-03-31)"),
        (("reopen", "--campaign", "test"), "The campaign 'test' is not archived."),
    ):
        result = runner.invoke(*args)
        assert result.exit_code == 1 and sentence in result.output, result.output
        assert "Traceback" not in result.output
    _clock(app).set(AFTER_THE_END)
    assert runner.invoke("archive", "--campaign", "test").exit_code == 0
    again = runner.invoke("archive", "--campaign", "test")
    assert again.exit_code == 1 and "is archived already" in again.output
    assert runner.invoke("reopen", "--campaign", "test").exit_code == 0
    assert _actions(session) == ["campaign.archived", "campaign.reopened"]
    assert session.get(Campaign, network.campaign.id).archived_at is None


SETTINGS = {
    "name": "Testöverenskommelsen", "starts_on": "2014-01-01", "timezone": "Europe/Stockholm",
    "language": "sv", "rate_limit_per_minute": "600", "co2_kg_per_km": "0.133",
    "cost_per_km": "2.5", "cost_per_hour": "", "retention_months": "12",
}  # fmt: skip


def test_a_new_end_is_audited_and_replans(app: Flask, session: Session, network: Network) -> None:
    with app.app_context():
        target = group(session, network)
        people = [participant(session, network, f"p{n}@alpha.se") for n in range(3)]
        for person in people:
            person.pilot_group_id = target.id
        queued = queue_welcome(session, people[0], START - timedelta(hours=1), step="x")
        materialize(session, START - timedelta(days=1))
    session.commit()
    client = _lead(app.test_client())

    def settle(ends_on: str) -> str:
        data = {**SETTINGS, "ends_on": ends_on, "csrf_token": csrf_token(client, staff("/network"))}
        response = client.post(staff("/network/settings"), data=data, follow_redirects=True)
        return response.get_data(as_text=True)

    earlier = settle("2014-02-28")  # START, 3 March, is after it: the campaign has ended
    assert "nästa e-postmeddelanden till 3 deltagare planeras om" in earlier
    assert "1 e-postmeddelanden som inte skickats stoppades" in earlier
    session.expire_all()
    assert session.get(Message, queued).last_answer == ENDED_ANSWER
    assert {p.next_step_at for p in session.scalars(select(Participant))} == {None}
    later = settle("2015-06-30")  # it runs again: the mail of an hour ago is wanted still
    assert "1 e-postmeddelanden som stoppades vid slutet lades i kön igen" in later
    session.expire_all()
    assert session.get(Message, queued).state is MessageState.QUEUED
    periods = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "campaign.period_changed")
    ).all()
    assert [(e.details["old"]["ends_on"], e.details["new"]["ends_on"]) for e in periods] == [
        ("2015-03-31", "2014-02-28"), ("2014-02-28", "2015-06-30"),
    ]  # fmt: skip


def test_no_step_is_planned_after_the_end(app: Flask, session: Session, network: Network) -> None:
    network.campaign.ends_on = date(2014, 3, 14)  # the group starts 3 March: two weeks
    with app.app_context():
        person = participant(session, network, "anna@alpha.se")
        person.pilot_group_id = group(session, network).id
        session.flush()
        materialize(session, datetime(2014, 3, 20, tzinfo=UTC))  # after the end: nothing
        assert session.scalars(select(Message)).all() == []
        network.campaign.ends_on = date(2014, 4, 30)
        materialize(session, datetime(2014, 3, 3, 8, 0, tzinfo=UTC))
        plan = plans_for(session, [person], START)[person.id]
    end = datetime(2014, 4, 30, 22, 0, tzinfo=UTC)  # midnight after the last day, CEST
    assert plan and all(item.due < end for item in plan)
    assert {item.step.number for item in plan} >= {"01", "05", "07"}
    assert "06" not in {item.step.number for item in plan}  # +25 weeks: after the end
    with app.app_context():
        materialize(session, datetime(2014, 4, 29, 8, 0, tzinfo=UTC))
    session.expire_all()
    assert session.get(Participant, person.id).next_step_at == NOTHING_LEFT


def test_nobody_joins_a_campaign_that_has_ended(
    app: Flask, session: Session, network: Network, alpha_objects: dict[str, str]
) -> None:
    session.get(Campaign, network.campaign.id).ends_on = date(2014, 3, 2)  # START is after it
    session.commit()
    page = app.test_client().get(f"/join/{alpha_objects['join_token']}")
    assert page.status_code == 410
    assert "Överenskommelsen har avslutats: ingen kan anmäla sig längre." in page.get_data(True)
    confirming = app.test_client().get(f"/join/confirm/{alpha_objects['confirm_token']}")
    assert confirming.status_code == 410  # a request made before the end is not enrolled now
