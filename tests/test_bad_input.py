"""Hostile input gets a 4xx or a sentence, never a 500 (issue 14, item 8): one test per root
cause the fuzz test (tests/test_fuzz.py) found or the attack report named."""

from __future__ import annotations

import json
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign import db
from campaign.accounts.scope import Access, access
from campaign.audit import AuditEvent, record
from campaign.enrolment.models import Participant, PilotGroup
from campaign.events.models import Event
from campaign.network.models import Campaign, Membership, Organisation
from campaign.network.models import OrganisationKind as KIND
from campaign.outbox.models import SuppressionReason
from campaign.outbox.queue import suppress
from campaign.security import is_safe_redirect
from campaign.timing import is_zone_name, parse_instant
from tests.conftest import PASSWORD, START, Network, Runner, csrf_token, sign_in
from tests.outbox_helpers import participant
from tests.urls import staff

NOT_ZONES = ("Europe", "Etc", "x" * 256, "../../etc/passwd", "Europe/Stockholm/", "localtime")


def _client(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    sign_in(client, email)
    return client


def _post(client: FlaskClient, path: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.post(path, data={"csrf_token": csrf_token(client, path), **data})


# Time zones -----------------------------------------------------------------------------


def test_only_real_iana_zones_are_zones() -> None:
    assert is_zone_name("Europe/Stockholm") and is_zone_name("UTC")
    assert not any(is_zone_name(name) for name in (*NOT_ZONES, "Europe/Stockholm\x00", ""))


@pytest.mark.parametrize("name", NOT_ZONES)
def test_a_meeting_in_a_zone_that_is_none_gets_a_sentence(
    app: Flask, session: Session, network: Network, name: str
) -> None:
    client = _client(app, "rep@alpha.se")
    answer = _post(client, staff("/organisations/alpha/events/new"), {**MEETING, "timezone": name})
    assert answer.status_code == 200
    assert "Okänd tidszon" in answer.get_data(as_text=True)
    assert session.scalar(select(func.count(Event.id))) == 0


@pytest.mark.parametrize("name", NOT_ZONES)
def test_a_campaign_zone_that_is_none_gets_a_sentence(
    app: Flask, session: Session, network: Network, name: str
) -> None:
    client = _client(app, "lead@alpha.se")
    answer = _post(client, staff("/network/settings"), {**SETTINGS, "timezone": name})
    assert answer.status_code == 200
    assert "Okänd tidszon" in answer.get_data(as_text=True)
    session.expire_all()
    assert session.get(Campaign, network.campaign.id).timezone == "Europe/Stockholm"


def test_a_new_campaign_zone_that_is_a_folder_names_the_option(runner: Runner) -> None:
    result = runner.invoke(
        "create-campaign", "--name", "X", "--lead", "Y", "--starts", "2026-01-01",
        "--ends", "2026-12-31", "--timezone", "Europe",
    )  # fmt: skip
    assert result.exit_code == 2 and "--timezone" in result.output
    assert "not a known time zone" in result.output


MEETING = {
    "kind": "practice_meeting",
    "title": "Prova-på",
    "day": "2014-03-10",
    "starts": "09:00",
    "ends": "10:00",
    "timezone": "Europe/Stockholm",
    "audience": "organisation",
    "reminders": "24h",
}
SETTINGS = {
    "name": "Testöverenskommelsen",
    "starts_on": "2014-01-01",
    "ends_on": "2015-03-31",
    "timezone": "Europe/Stockholm",
    "language": "sv",
    "rate_limit_per_minute": "120",
    "co2_kg_per_km": "0.12",
    "cost_per_km": "2.5",
}


# Ids, pages and groups ------------------------------------------------------------------

HUGE = ("99999999999999999999", "2147483648", "9" * 5000, "١٢")


@pytest.mark.parametrize("number", HUGE)
def test_an_id_the_database_cannot_hold_is_a_404_on_every_int_route(
    app: Flask, network: Network, alpha_objects: dict[str, str], number: str
) -> None:
    # A route added later is covered too: the converter is the app's, not each view's.
    app.add_url_rule("/later/<int:thing_id>", "later", access(Access.PUBLIC)(lambda thing_id: ""))
    client = _client(app, "lead@alpha.se")
    for path in (
        staff(f"/outbox/{number}"),
        staff(f"/organisations/alpha/participants/{number}/data.json"),
        staff(f"/organisations/alpha/events/{number}/event.ics"),
        staff(f"/questionnaires/{number}"),
    ):
        assert client.get(path).status_code == 404, path
    assert client.get(f"/later/{number}").status_code == 404
    assert client.get("/later/2147483647").status_code == 200


@pytest.mark.parametrize("page", ("99999999999999999999", "-5", "x", "1e309", "9" * 5000, "²"))
def test_any_page_number_shows_a_page(
    app: Flask, network: Network, alpha_objects: dict[str, str], page: str
) -> None:
    client = _client(app, "lead@alpha.se")
    for path in (
        staff("/outbox"),
        staff("/organisations/alpha/participants"),
        staff("/network/audit"),
    ):
        assert client.get(path, query_string={"page": page}).status_code == 200, path


@pytest.mark.parametrize("group_id", HUGE + ("²", "-1", "0x10"))
def test_any_group_filter_shows_the_list(
    app: Flask, network: Network, alpha_objects: dict[str, str], group_id: str
) -> None:
    client = _client(app, "rep@alpha.se")
    for path in (
        staff("/organisations/alpha/participants"),
        staff("/organisations/alpha/participants/export.csv"),
        staff("/organisations/alpha/participants/new"),
    ):
        assert client.get(path, query_string={"group": group_id}).status_code == 200, path


@pytest.mark.parametrize("group_id", HUGE + ("²",))
def test_moving_to_a_group_that_cannot_exist_is_a_404(
    app: Flask, session: Session, network: Network, alpha_objects: dict[str, str], group_id: str
) -> None:
    client = _client(app, "rep@alpha.se")
    person = staff(f"/organisations/alpha/participants/{alpha_objects['participant_id']}")
    moved = client.post(
        f"{person}/move", data={"csrf_token": csrf_token(client, person), "pilot_group": group_id}
    )
    assert moved.status_code == 404
    session.expire_all()
    anna = session.get(Participant, int(alpha_objects["participant_id"]))
    assert anna.pilot_group_id == int(alpha_objects["group_id"])


def test_attendance_ignores_what_is_no_invitation_id(
    app: Flask, network: Network, alpha_objects: dict[str, str]
) -> None:
    with app.app_context():  # attendance is ticked once the meeting has started
        event = db.session().get(Event, int(alpha_objects["event_id"]))
        app.extensions["campaign.clock"].set(event.ends_at)
    client = _client(app, "rep@alpha.se")
    page = staff(f"/organisations/alpha/events/{alpha_objects['event_id']}/attendance")
    token = csrf_token(client, page)
    answer = client.post(page, data={"csrf_token": token, "attended": ["²", "9" * 5000, "1"]})
    assert answer.status_code == 302


def test_a_search_longer_than_any_name_is_cut_not_refused_by_sqlite(
    app: Flask, network: Network, alpha_objects: dict[str, str]
) -> None:
    client = _client(app, "rep@alpha.se")
    for path in (
        staff("/organisations/alpha/participants"),
        staff("/organisations/alpha/participants/export.csv"),
    ):
        assert client.get(path, query_string={"q": "a" * 100_000}).status_code == 200, path


# Dates and moments ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "moment", ("0001-01-01", "0001-01-01T00:00", "9999-12-31", "9999-12-31T23:59:59-14:00")
)
def test_the_report_of_an_impossible_moment_says_so(
    app: Flask, network: Network, moment: str
) -> None:
    client = _client(app, "lead@alpha.se")
    page = client.get(staff("/report"), query_string={"as_of": moment})
    assert page.status_code == 400
    assert "är inte en tidpunkt som rapporten kan göras för" in page.get_data(as_text=True)
    download = client.get(staff("/report/final.csv"), query_string={"as_of": moment})
    assert download.status_code == 302 and download.headers["Location"].startswith(
        staff("/report?")
    )


def test_a_moment_before_year_one_in_utc_is_no_moment() -> None:
    from zoneinfo import ZoneInfo

    with pytest.raises(ValueError, match="years 1 to 9999"):
        parse_instant("0001-01-01T00:00", ZoneInfo("Europe/Stockholm"))
    assert parse_instant("0001-01-02", ZoneInfo("Europe/Stockholm")).year == 1


def test_a_meeting_at_a_moment_that_does_not_exist_gets_a_sentence(
    app: Flask, session: Session, network: Network
) -> None:
    client = _client(app, "rep@alpha.se")
    values = {**MEETING, "day": "0001-01-01", "starts": "00:10", "ends": "00:20"}
    answer = _post(client, staff("/organisations/alpha/events/new"), values)
    assert answer.status_code == 200 and "field-error" in answer.get_data(as_text=True)
    assert "Ange ett datum under åren 1900 till 2199." in answer.get_data(as_text=True)
    assert session.scalar(select(func.count(Event.id))) == 0


@pytest.mark.parametrize("day", ("0001-01-01", "9999-12-31", "1899-12-31", "2200-01-01"))
def test_a_pilot_group_starting_in_another_age_gets_a_sentence(
    app: Flask, session: Session, network: Network, alpha_objects: dict[str, str], day: str
) -> None:
    """A start in the year 9999 used to stop the questionnaire job for the whole campaign."""
    client = _client(app, "rep@alpha.se")
    path = staff(f"/organisations/alpha/groups/{alpha_objects['group_id']}")
    data = {"name": "Alpha-gruppen", "kind": "volunteers", "sequence_name": "pilot-group"}
    answer = _post(client, path, {**data, "starts_on": day})
    assert answer.status_code == 200
    assert "Ange ett datum under åren 1900 till 2199." in answer.get_data(as_text=True)
    session.expire_all()
    assert session.get(PilotGroup, int(alpha_objects["group_id"])).starts_on == date(2014, 3, 3)


@pytest.mark.parametrize("field", ("starts_on", "ends_on"))
def test_a_campaign_in_another_age_gets_a_sentence(
    app: Flask, session: Session, network: Network, field: str
) -> None:
    client = _client(app, "lead@alpha.se")
    answer = _post(client, staff("/network/settings"), {**SETTINGS, field: "9999-12-31"})
    assert answer.status_code == 200
    assert "Ange ett datum under åren 1900 till 2199." in answer.get_data(as_text=True)
    session.expire_all()
    assert session.get(Campaign, network.campaign.id).ends_on == date(2015, 3, 31)


# Redirects ------------------------------------------------------------------------------

UNSAFE = (
    "/\r\nLocation: https://evil.example", "/\t/evil.example", "//evil.example",
    "/\\evil.example", "https://evil.example", "/\u2028", "/a b", "", None,
)  # fmt: skip


def test_only_a_plain_path_is_a_safe_redirect() -> None:
    assert is_safe_redirect(staff("/organisations/alpha?page=2"))
    assert is_safe_redirect("/%0d%0a")  # percent-encoded, it is only text in the path
    assert not any(is_safe_redirect(target) for target in UNSAFE)


def test_sign_in_with_a_next_that_splits_the_header_goes_home(app: Flask, network: Network) -> None:
    client = app.test_client()
    answer = client.post(
        "/login",
        query_string={"next": "/\r\nLocation: https://evil.example"},
        data={"email": "lead@alpha.se", "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert answer.status_code == 302 and answer.headers["Location"] == "/"


@pytest.mark.parametrize("target", [t for t in UNSAFE if t])
def test_the_language_switch_with_a_next_that_is_no_path_goes_home(
    client: FlaskClient, target: str
) -> None:
    token = csrf_token(client)
    answer = client.post("/language", data={"csrf_token": token, "language": "en", "next": target})
    assert answer.status_code == 302 and answer.headers["Location"] == "/"


# NUL, which PostgreSQL cannot store or compare -------------------------------------------


def test_a_nul_character_is_dropped_from_queries_and_forms_and_refused_in_paths(
    app: Flask, session: Session, network: Network, alpha_objects: dict[str, str]
) -> None:
    client = _client(app, "rep@alpha.se")
    assert client.get(staff("/organisations/al%00pha/participants")).status_code == 400
    found = client.get(staff("/organisations/alpha/participants?q=an%00na"))
    assert found.status_code == 200 and "anna@alpha.se" in found.get_data(as_text=True)
    facts = staff("/organisations/alpha/facts")
    saved = client.post(
        facts, data={"csrf_token": csrf_token(client, facts), "meeting_software": "Ly\x00nc 2"}
    )
    assert saved.status_code == 302
    session.expire_all()
    software = session.scalar(
        select(Membership.meeting_software).where(Membership.organisation_id == network.alpha.id)
    )
    assert software == "Lync 2"


# The data of the people who asked to hear no more ----------------------------------------


@pytest.mark.parametrize("reason", (SuppressionReason.UNSUBSCRIBED, SuppressionReason.HARD_BOUNCE))
def test_the_data_of_an_unsubscribed_or_bounced_participant_downloads(
    app: Flask, session: Session, network: Network, reason: SuppressionReason
) -> None:
    person = participant(session, network, "borta@alpha.se")
    suppress(session, person.email, reason, "550 no such user", START)
    session.commit()
    client = _client(app, "rep@alpha.se")
    answer = client.get(staff(f"/organisations/alpha/participants/{person.id}/data.json"))
    assert answer.status_code == 200
    data = json.loads(answer.get_data(as_text=True))
    assert data["suppressed"] == {
        "reason": reason.value, "since": START.isoformat(), "detail": "550 no such user",
    }  # fmt: skip
    assert data["participant"]["email"] == "borta@alpha.se"


def test_unsubscribing_through_the_page_then_downloading_the_data(
    app: Flask, network: Network, alpha_objects: dict[str, str]
) -> None:
    client = _client(app, "rep@alpha.se")
    page = staff(f"/organisations/alpha/participants/{alpha_objects['participant_id']}")
    token = csrf_token(client, page)
    client.post(f"{page}/status", data={"csrf_token": token, "action": "unsubscribe"})
    data = json.loads(client.get(f"{page}/data.json").get_data(as_text=True))
    assert data["suppressed"]["reason"] == "unsubscribed"


# The transaction of a request that fails ------------------------------------------------


def test_a_request_that_fails_after_writing_keeps_nothing_and_still_gets_its_page(
    app: Flask, session: Session, network: Network
) -> None:
    """The error page is drawn after a rollback: the session's failed flush would otherwise
    break the page itself (the menu reads the signed-in account's organisation)."""
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def half_a_change() -> str:
        record(db.session(), None, "half.a.change")
        db.session().flush()
        db.session().add(
            Organisation(
                slug="alpha",
                name="Dubblett",
                short_name="D",
                kind=KIND.MUNICIPALITY,
                created_at=START,
            )
        )
        db.session().flush()  # the slug is taken: IntegrityError
        return "never"

    app.add_url_rule("/half", "half", access(Access.STAFF)(half_a_change))  # a campaign's page
    client = _client(app, "lead@alpha.se")
    answer = client.get(staff("/half"))
    assert answer.status_code == 500
    assert "Något gick fel" in answer.get_data(as_text=True)
    actions = session.scalars(select(AuditEvent.action)).all()
    assert "half.a.change" not in actions


@pytest.mark.parametrize("host", ["a" * 300, "a" * 64 + ".se"])  # IDNA: labels of 1-63
def test_a_host_header_werkzeug_refuses_gets_a_sentence(app: Flask, host: str) -> None:
    """No route is matched without a host, so the layout's links cannot be built either."""
    response = app.test_client().get("/login", environ_overrides={"HTTP_HOST": host})
    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    assert "Begäran kunde inte tolkas." in response.get_data(as_text=True)
