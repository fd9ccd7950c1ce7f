"""The webhooks section of the API's OpenAPI 3.1 document: one operation per event type, the
body its payload model (payloads.PAYLOADS) in the Standard Webhooks envelope."""

from __future__ import annotations

from typing import Any

from campaign.webhooks.payloads import PAYLOADS

HEADERS = (
    ("webhook-id", "The event's id: the same on every attempt; a receiver ignores a repeat."),
    ("webhook-timestamp", "When this attempt was signed, in seconds since 1970 (UTC)."),
    (
        "webhook-signature",
        "v1,<base64 HMAC-SHA256 of `id.timestamp.body`> with the receiver's whsec_ secret;"
        " two, space-separated, for a day after the secret is rotated.",
    ),
)


def openapi_webhooks() -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the document's `webhooks` and the schemas they refer to (components)."""
    webhooks, schemas = {}, {}
    for event_type, model in PAYLOADS.items():
        name = f"Webhook{model.__name__}"
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[name] = schema
        webhooks[event_type] = {"post": _operation(event_type, model.__doc__ or "", name)}
    return webhooks, schemas


def _operation(event_type: str, doc: str, schema_name: str) -> dict[str, Any]:
    """Return the operation a receiver of `event_type` implements."""
    envelope = {
        "type": "object",
        "required": ["type", "timestamp", "data"],
        "properties": {
            "type": {"const": event_type},
            "timestamp": {"type": "string", "format": "date-time"},
            "data": {"$ref": f"#/components/schemas/{schema_name}"},
        },
    }
    return {
        "summary": doc.strip().splitlines()[0],
        "description": doc.strip(),
        "operationId": f"webhook_{event_type.replace('.', '_')}",
        "parameters": [
            {
                "name": name,
                "in": "header",
                "required": True,
                "description": text,
                "schema": {"type": "string"},
            }
            for name, text in HEADERS
        ],  # fmt: skip
        "requestBody": {"required": True, "content": {"application/json": {"schema": envelope}}},
        "responses": {
            "2XX": {"description": "Received: the event is not sent again."},
            "default": {
                "description": "Tried again with back-off for three days; a 4xx other than"
                " 408 and 429 is not tried again."
            },
        },
    }
