"""An import tells its member's receiver who it enrolled: one participant.enrolled per person
added (with the import's id), then import.applied, delivered to a real receiver on 127.0.0.1,
signed, each body the one the OpenAPI document's webhooks section describes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from jsonschema import Draft202012Validator
from sqlalchemy import select
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook

from campaign.enrolment import importing
from campaign.enrolment.models import Participant
from campaign.webhooks.delivery import Settings, deliver_due
from tests.conftest import Network
from tests.enrolment_helpers import group, read
from tests.webhook_helpers import local_receiver, subscription

LOCAL = Settings(timeout=1.0, allowed=frozenset({"http", "private"}))
FILE = b"E-post\nett@alpha.se\ntva@alpha.se\nfel\ntre@alpha.se\n"


def _validator(app: Flask, event_type: str) -> Draft202012Validator:
    """Check a body against the document's description of `event_type`."""
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    operation = document["webhooks"][event_type]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    return Draft202012Validator({**schema, "components": document["components"]})


def test_each_person_an_import_added_is_told_to_a_real_receiver(
    app: Flask, session: Session, network: Network
) -> None:
    now = datetime.now(UTC)  # the independent verifier compares the timestamp with its clock
    target = group(session, network)
    with local_receiver() as receiver, app.app_context():
        hook = subscription(session, network, network.alpha.id, receiver.url)
        subscription(session, network, network.beta.id, "https://hooks.beta.se/in")
        job = read(session, target, FILE)
        importing.apply_import(session, job, network.rep_alpha, now)
        assert deliver_due(session, now, LOCAL) == {"succeeded": 4}
    bodies: list[dict[str, Any]] = [
        Webhook(hook.secret).verify(got.body, got.headers) for got in receiver.received
    ]
    added = session.scalars(
        select(Participant.id).where(Participant.pilot_group_id == target.id).order_by("id")
    ).all()
    enrolled = [b["data"] for b in bodies if b["type"] == "participant.enrolled"]
    assert enrolled == [
        {
            "campaign_id": network.campaign.id, "participant_id": person,
            "organisation_id": network.alpha.id, "pilot_group_id": target.id,
            "import_id": job.id,
        }
        for person in added
    ]  # fmt: skip
    assert len(added) == 3 and [b["type"] for b in bodies][-1] == "import.applied"
    for body in bodies:
        _validator(app, body["type"]).validate(json.loads(json.dumps(body)))


def test_an_import_nobody_listens_to_queues_nothing(
    app: Flask, session: Session, network: Network
) -> None:
    from campaign.webhooks.models import WebhookDelivery

    target = group(session, network)
    alpha = subscription(session, network, network.alpha.id, "https://hooks.alpha.se/in")
    alpha.event_types = "import.applied"
    subscription(session, network, network.beta.id, "https://hooks.beta.se/in")
    with app.app_context():
        job = read(session, target, FILE)
        importing.apply_import(session, job, network.rep_alpha, datetime.now(UTC))
    queued = session.scalars(select(WebhookDelivery.event_type)).all()
    assert queued == ["import.applied"]
