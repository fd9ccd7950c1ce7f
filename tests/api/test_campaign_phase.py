"""The API's campaign resource says the campaign's phase now, by the same names as the
campaign.phase_changed webhook, and documents them."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import cast

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from campaign import timing
from campaign.network import phases
from campaign.network.phases import Phase
from campaign.timing import FixedClock
from tests.api_helpers import call, token_for
from tests.conftest import START, Network

SHOW = "/api/v1/campaigns/test"


def _phase(client: FlaskClient, token: str) -> tuple[str, str]:
    """Return the campaign's phase in the list and as shown alone (they agree)."""
    listed = call(client, "GET", "/api/v1/campaigns", token).get_json()["items"]
    shown = call(client, "GET", SHOW, token)
    assert shown.status_code == 200
    return cast(str, shown.get_json()["phase"]), cast(str, listed[0]["phase"])


def test_the_phase_follows_the_clock_across_the_dates_and_the_archive(
    app: Flask, client: FlaskClient, session: Session, network: Network
) -> None:
    network.campaign.starts_on = date(2014, 6, 1)  # after START: preparing
    network.campaign.ends_on = date(2014, 9, 30)  # before the token's year is out
    session.commit()
    token = token_for(session, network.rep_alpha, ("read",), days=365)
    clock = cast(FixedClock, timing.clock_of(app))
    assert _phase(client, token) == ("preparing", "preparing")
    before = call(client, "GET", SHOW, token).headers["ETag"]
    clock.set(datetime(2014, 5, 31, 22, 0, tzinfo=UTC))  # midnight in Stockholm, summer time
    assert _phase(client, token) == ("running", "running")
    assert call(client, "GET", SHOW, token).headers["ETag"] != before
    clock.set(datetime(2014, 9, 30, 22, 0, tzinfo=UTC) - timedelta(seconds=1))
    assert _phase(client, token) == ("running", "running")
    clock.set(datetime(2014, 9, 30, 22, 0, tzinfo=UTC))
    assert _phase(client, token) == ("ended", "ended")
    with app.app_context():
        phases.archive(session, network.campaign, network.lead, clock.now())
    session.commit()
    assert _phase(client, token) == ("archived", "archived")
    clock.set(START)


def test_the_phase_is_documented_with_the_webhook_names(app: Flask) -> None:
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    (campaign,) = [s for name, s in schemas.items() if re.fullmatch(r"Campaign(\.\w+)?", name)]
    field = campaign["properties"]["phase"]
    assert "preparing" in field["description"] and "phase" in campaign["required"]
    named = [s for s in schemas.values() if s.get("enum") == [p.value for p in Phase]]
    assert named, "the phases are documented as an enum"
    webhook = schemas["WebhookCampaignPhaseChanged"]["properties"]
    assert webhook["phase"]["$ref"] == webhook["previous_phase"]["$ref"]
    assert schemas[webhook["phase"]["$ref"].split("/")[-1]]["enum"] == [p.value for p in Phase]
