"""The `phases` job tells a campaign's receivers when the passing of its dates changes its
phase (preparing, running, ended), once per change, with the documented payload, also when
two workers run it at once; a campaign is never "changed" into the phase it began in."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from jsonschema import Draft202012Validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign import db
from campaign.jobs import JOBS, run_job
from campaign.webhooks.models import WebhookDelivery
from campaign.webhooks.payloads import CampaignPhaseChanged
from campaign.webhooks.phases import tell_changes
from tests.conftest import Network
from tests.pg import server_url
from tests.webhook_helpers import local_receiver, subscription

# The network's campaign runs from 2014-01-01 to 2015-03-31, Europe/Stockholm: it starts at
# midnight, 23:00 UTC the evening before, and ends at midnight after its last day (summer time).
BEFORE = datetime(2013, 12, 1, 9, 0, tzinfo=UTC)
STARTS = datetime(2013, 12, 31, 23, 0, tzinfo=UTC)
ENDS = datetime(2015, 3, 31, 22, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def _job(app: Flask, name: str, now: datetime) -> None:
    """Run one job as the scheduler would, for the injected moment `now`."""
    assert run_job(app, next(job for job in JOBS if job.name == name), now, release=True)


def _changes(session: Session) -> list[tuple[str, str, str]]:
    """Return (from, to, at) of every phase_changed delivery queued, in order."""
    session.expire_all()
    query = select(WebhookDelivery).where(WebhookDelivery.event_type == "campaign.phase_changed")
    deliveries = session.scalars(query.order_by(WebhookDelivery.id))
    return [(d.data["previous_phase"], d.data["phase"], d.data["changed_at"]) for d in deliveries]


@pytest.fixture
def preparing(session: Session, network: Network) -> Network:
    """The network's campaign, created before its first day."""
    network.campaign.created_at = BEFORE
    session.commit()
    return network


def _z(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def test_the_start_and_the_end_are_told_once_each_when_they_pass(
    app: Flask, session: Session, preparing: Network
) -> None:
    subscription(session, preparing, None, "https://hooks.example.se/all")
    subscription(session, preparing, preparing.alpha.id, "https://hooks.alpha.se/in")
    session.commit()
    for now in (BEFORE, STARTS - SECOND):
        _job(app, "phases", now)
    assert _changes(session) == []
    for now in (STARTS, STARTS + timedelta(minutes=1), ENDS - SECOND):
        _job(app, "phases", now)
    assert _changes(session) == [("preparing", "running", _z(STARTS))]
    for now in (ENDS + timedelta(hours=3), ENDS + timedelta(days=2)):
        _job(app, "phases", now)
    assert _changes(session) == [
        ("preparing", "running", _z(STARTS)),
        ("running", "ended", _z(ENDS)),
    ]  # the campaign-wide receiver's only: a member's hears of its own member's events


def test_a_campaign_is_not_changed_into_the_phase_it_was_created_in(
    app: Flask, session: Session, network: Network
) -> None:
    subscription(session, network, None, "https://hooks.example.se/all")
    session.commit()
    for now in (STARTS, STARTS + timedelta(days=60)):  # created running, at START
        _job(app, "phases", now)
    assert _changes(session) == []
    _job(app, "phases", ENDS)
    assert _changes(session) == [("running", "ended", _z(ENDS))]


def test_a_job_that_missed_the_whole_campaign_tells_one_change_and_archiving_follows_on(
    app: Flask, session: Session, preparing: Network
) -> None:
    from campaign.network import phases

    subscription(session, preparing, None, "https://hooks.example.se/all")
    session.commit()
    _job(app, "phases", ENDS + timedelta(days=10))
    archived_at = ENDS + timedelta(days=20)
    with app.app_context():
        phases.archive(session, preparing.campaign, preparing.lead, archived_at)
        session.commit()
    _job(app, "phases", archived_at + timedelta(minutes=1))  # told already: nothing again
    assert _changes(session) == [
        ("preparing", "ended", _z(ENDS)),
        ("ended", "archived", _z(archived_at)),
    ]


def test_the_payload_received_is_the_documented_one(
    app: Flask, session: Session, preparing: Network
) -> None:
    with local_receiver() as receiver:
        subscription(session, preparing, None, receiver.url)
        session.commit()
        _job(app, "phases", STARTS + timedelta(minutes=1))
        _job(app, "webhooks", STARTS + timedelta(minutes=1))
    (got,) = receiver.received
    body = json.loads(got.body)
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    envelope = document["webhooks"]["campaign.phase_changed"]["post"]["requestBody"]
    schema = envelope["content"]["application/json"]["schema"]
    Draft202012Validator({**schema, "components": document["components"]}).validate(body)
    data = body["data"]
    assert document["components"]["schemas"][schema["properties"]["data"]["$ref"].split("/")[-1]]
    assert CampaignPhaseChanged.model_validate(data).model_dump(mode="json") == data
    assert data == {
        "campaign_id": preparing.campaign.id, "previous_phase": "preparing",
        "phase": "running", "changed_at": _z(STARTS),
    }  # fmt: skip
    assert body["type"] == "campaign.phase_changed"


@pytest.mark.skipif(not server_url(), reason="two workers at once need PostgreSQL's row locks")
def test_two_workers_at_once_tell_a_change_once(
    app: Flask, session: Session, preparing: Network
) -> None:
    subscription(session, preparing, None, "https://hooks.example.se/all")
    session.commit()
    told: dict[str, int] = {}
    first_told = threading.Event()
    may_commit = threading.Event()

    def worker(name: str, hold: bool) -> None:
        with db.open_session(app) as own:
            told[name] = tell_changes(own, STARTS)
            if hold:  # its UPDATE holds the campaign's row until it commits
                first_told.set()
                may_commit.wait(10)
            own.commit()

    first = threading.Thread(target=worker, args=("first", True))
    first.start()
    assert first_told.wait(10)
    second = threading.Thread(target=worker, args=("second", False))
    second.start()
    time.sleep(0.5)  # the second has read the phase as untold and waits on the row lock
    may_commit.set()
    for thread in (first, second):
        thread.join(10)
    assert told == {"first": 1, "second": 0}
    assert _changes(session) == [("preparing", "running", _z(STARTS))]
