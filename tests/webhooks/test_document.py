"""The OpenAPI document's webhooks section: every event type, its payload model as the body's
`data`, the Standard Webhooks headers; the document stays valid OpenAPI 3.1."""

from __future__ import annotations

from flask import Flask
from openapi_spec_validator import validate

from campaign.webhooks.payloads import PAYLOADS


def test_the_api_document_describes_every_webhook(app: Flask) -> None:
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    validate(document)
    assert set(document["webhooks"]) == set(PAYLOADS)
    operation = document["webhooks"]["participant.paused"]["post"]
    headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
    assert headers == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["type"] == {"const": "participant.paused"}
    data = document["components"]["schemas"][body["properties"]["data"]["$ref"].split("/")[-1]]
    assert set(data["properties"]) == {
        "campaign_id", "participant_id", "organisation_id", "pilot_group_id", "paused_until",
    }  # fmt: skip
    assert "email" not in str(document["webhooks"]) and "name" not in data["properties"]
