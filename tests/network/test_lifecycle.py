"""A campaign's whole life, driven by the clock through the real jobs (`campaign tick`):
preparing, running, ended, archived by its lead administrator, and purged when its retention
runs out. Each phase shows in the page header and decides what may change."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.enrolment.models import Participant
from campaign.network import phases
from campaign.network.models import Campaign
from campaign.network.phases import Phase
from campaign.timing import FixedClock, clock_of
from tests.conftest import Network, Runner, csrf_token, sign_in
from tests.outbox_helpers import participant
from tests.urls import staff

# The network fixture's campaign, started a month after the clock's START (3 March 2014).
STARTS, ENDS = date(2014, 4, 1), date(2015, 3, 31)
# (moment, phase, what every staff page says in Swedish)
LIFE = [
    (datetime(2014, 3, 3, 9, 0, tzinfo=UTC), Phase.PREPARING, "Förbereds, startar 1 april 2014"),
    (datetime(2014, 4, 1, 8, 0, tzinfo=UTC), Phase.RUNNING, "Pågår till 31 mars 2015"),
    (datetime(2015, 4, 1, 8, 0, tzinfo=UTC), Phase.ENDED, "Avslutad 31 mars 2015"),
]
WARNED = datetime(2016, 3, 5, 9, 0, tzinfo=UTC)  # 30 days before the data is kept until
PURGED = datetime(2016, 4, 5, 9, 0, tzinfo=UTC)  # kept through 31 March 2016, the end + 12 months


def _tick(app: Flask, runner: Runner, moment: datetime) -> None:
    clock = clock_of(app)
    assert isinstance(clock, FixedClock)
    clock.set(moment)
    result = runner.invoke("tick", "--now", moment.isoformat())
    assert result.exit_code == 0, result.output


def _header(app: Flask) -> str:
    client = app.test_client()
    sign_in(client, "lead@alpha.se")
    return client.get(staff("/dashboard")).get_data(as_text=True)


def _settings_saved(app: Flask) -> int:
    """Try a change on a staff page; return the answer's status."""
    client = app.test_client()
    sign_in(client, "lead@alpha.se")
    page = staff("/network/settings")
    data = {
        "csrf_token": csrf_token(client, page), "name": "Nytt namn", "starts_on": "2014-04-01",
        "ends_on": "2015-03-31", "timezone": "Europe/Stockholm", "language": "sv",
        "rate_limit_per_minute": "600", "co2_kg_per_km": "0.133", "cost_per_km": "2.5",
        "cost_per_hour": "", "retention_months": "12",
    }  # fmt: skip
    return client.post(page, data=data).status_code


def test_a_campaign_from_preparing_to_purged(
    app: Flask, session: Session, network: Network, runner: Runner, sink
) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    app.config["CAMPAIGN_TRANSPORT"] = transport
    campaign = session.get(Campaign, network.campaign.id)
    campaign.starts_on, campaign.ends_on = STARTS, ENDS
    person_id = participant(session, network, "anna@alpha.se", name="Anna Andersson").id
    session.commit()

    for moment, phase, said in LIFE:
        _tick(app, runner, moment)
        session.expire_all()
        assert phases.phase_of(session.get(Campaign, campaign.id), moment) is phase
        assert said in _header(app)

    lead = app.test_client()
    sign_in(lead, "lead@alpha.se")
    archive = staff("/network/archive")
    answer = lead.post(archive, data={"csrf_token": csrf_token(lead, archive), "confirm": "yes"})
    assert answer.status_code == 302
    assert "Arkiverad, avslutad 31 mars 2015" in _header(app)
    assert _settings_saved(app) == 409  # read-only

    _tick(app, runner, WARNED)  # the retention job queues the warning after dispatch has run,
    _tick(app, runner, WARNED + timedelta(minutes=5))  # so it goes at the next tick
    assert [mail.recipients for mail in server.received] == [["lead@alpha.se"]]
    _tick(app, runner, PURGED)
    session.expire_all()
    assert phases.phase_of(session.get(Campaign, campaign.id), PURGED) is Phase.PURGED
    header = _header(app)
    assert "Avslutad 31 mars 2015, personuppgifterna raderade" in header
    assert "personuppgifter är raderade" in header
    assert _settings_saved(app) == 409
    person = session.scalars(select(Participant).where(Participant.id == person_id)).one()
    assert "anna@alpha.se" not in (person.email or "") and "Anna" not in (person.name or "")
