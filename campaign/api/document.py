"""The API's OpenAPI 3.1 document, generated from the operations' models (spectree), and the
reference page that shows it (the vendored Swagger UI, started by static/api-docs.js)."""

from __future__ import annotations

import copy
from typing import Any

from flask import Flask, Response, current_app, json, render_template

from campaign.accounts.scope import Access, access
from campaign.api.core import VERSION, spec
from campaign.webhooks.document import openapi_webhooks

DESCRIPTION = """\
The campaign service's REST API. Every request carries a personal API token
(`Authorization: Bearer cmp_...`), made on the account page or by `campaign create-token`.
A token sees what its account sees in the web pages, no more; its scopes narrow what it may do.

Lists come a page at a time: give a page's `next_cursor` as `cursor` for the next.
Changes honour `If-Match` with the resource's `ETag`; creates honour `Idempotency-Key`.
Errors are problem documents (RFC 9457, `application/problem+json`), in the language of
`Accept-Language` (sv or en) or else of the account. Each token may send
`CAMPAIGN_API_RATE_LIMIT` requests a minute; the `RateLimit-*` headers say how many are left.
"""


def openapi() -> dict[str, Any]:
    """Return the OpenAPI document of this deployment."""
    document = copy.deepcopy(spec.spec)
    document["info"]["description"] = DESCRIPTION
    document["servers"] = [{"url": current_app.config["CAMPAIGN_BASE_URL"].rstrip("/")}]
    document["webhooks"], schemas = openapi_webhooks()
    document.setdefault("components", {}).setdefault("schemas", {}).update(schemas)
    return document


@access(Access.PUBLIC)
def openapi_json() -> Response:
    """Serve the OpenAPI document."""
    return current_app.response_class(
        json.dumps(openapi(), ensure_ascii=False), mimetype="application/json"
    )


@access(Access.PUBLIC)
def docs() -> str:
    """Show the API reference, drawn in the browser from the OpenAPI document."""
    return render_template("api/docs.html")


def init_app(app: Flask) -> None:
    app.add_url_rule(f"/api/{VERSION}/openapi.json", "api.openapi", openapi_json)
    app.add_url_rule(f"/api/{VERSION}/docs", "api.docs", docs)
