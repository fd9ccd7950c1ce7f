"""The API's OpenAPI 3.1 document, generated from the operations' models (spectree), and the
reference page that shows it (the vendored Swagger UI, started by static/api-docs.js)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, current_app, json, render_template

from campaign.accounts.scope import Access, access
from campaign.api.core import VERSION, spec
from campaign.api.problems import MEDIA_TYPE, ProblemDocument
from campaign.webhooks.document import openapi_webhooks

DESCRIPTION = """\
The campaign service's REST API. Every request carries a personal API token
(`Authorization: Bearer cmp_...`), made on the account page or by `campaign create-token`.
A token sees what its account sees in the web pages, no more; its scopes narrow what it may do.

Lists come a page at a time: give a page's `next_cursor` as `cursor` for the next, until it
is null. Changes honour `If-Match` with the resource's `ETag`; creates honour `Idempotency-Key`
and answer 201 with the new resource's `Location`.
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
    components = document.setdefault("components", {})
    components.setdefault("schemas", {}).update(schemas)
    for name in [name for name in components["schemas"] if name.startswith("ValidationError.")]:
        del components["schemas"][name]  # spectree's 422 model: ours is the Problem
    components["schemas"].update(_problem_schemas())
    components["headers"] = HEADERS
    for path, item in document["paths"].items():
        for described in item.values():
            view = current_app.view_functions[f"api.{described['operationId']}"]
            _describe_answers(described, view, has_variables="{" in path)
    return document


def _problem_schemas() -> dict[str, Any]:
    """Return the schemas of the problem document (and of its parts)."""
    schema = ProblemDocument.model_json_schema(ref_template="#/components/schemas/{model}")
    parts = schema.pop("$defs", {})
    return {"Problem": schema, **parts}


def _header(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "schema": schema}


HEADERS: dict[str, Any] = {
    "ETag": _header("The entity tag of the answer; send it as If-Match with a change.",
                    {"type": "string"}),
    "Location": _header("Where the new resource is.", {"type": "string"}),
    "Idempotent-Replayed": _header("`true` on the answer kept for a repeated Idempotency-Key.",
                                   {"type": "string", "enum": ["true"]}),
    "RateLimit-Limit": _header("Requests the token may send a minute.", {"type": "integer"}),
    "RateLimit-Remaining": _header("Requests left in this minute.", {"type": "integer"}),
    "RateLimit-Reset": _header("Seconds until the minute ends.", {"type": "integer"}),
    "Retry-After": _header("Seconds to wait before sending again.", {"type": "integer"}),
    "WWW-Authenticate": _header("The token's scheme, or that its scopes do not suffice.",
                                {"type": "string"}),
}  # fmt: skip
REQUEST_HEADERS: dict[str, dict[str, Any]] = {
    "conditional": {
        "name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"},
        "description": "The ETag the change was based on: 412 if the resource has changed.",
    },
    "idempotent": {
        "name": "Idempotency-Key", "in": "header", "required": False,
        "schema": {"type": "string", "maxLength": 200},
        "description": "Any unique string: sent again within a day (same request), the "
        "first answer comes again instead of a second resource.",
    },
}  # fmt: skip
RATE = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")


def _headers(required: Sequence[str], optional: Sequence[str] = ()) -> dict[str, Any]:
    """Return a response's headers, referring to the shared ones."""
    named = {name: True for name in required} | {name: False for name in optional}
    return {
        name: {"$ref": f"#/components/headers/{name}"} if not needed else
        {**HEADERS[name], "required": True}
        for name, needed in named.items()
    }  # fmt: skip


def _describe_answers(
    described: dict[str, Any], view: Callable[..., Any], *, has_variables: bool
) -> None:
    """Document what the view's marks say it answers besides its models: its request
    headers, the headers of its successes, and a problem document for each error status."""
    marks = [mark for mark in REQUEST_HEADERS if getattr(view, mark, False)]
    described.setdefault("parameters", []).extend(REQUEST_HEADERS[mark] for mark in marks)
    responses = described["responses"]
    for status in [status for status in responses if not status.startswith("2")]:
        del responses[status]  # spectree's: the problems below say them truly
    for status, answer in responses.items():
        body = "content" in answer
        created = ("Location",) if status == "201" else ()
        replayed = ("Idempotent-Replayed",) if getattr(view, "idempotent", False) else ()
        answer["headers"] = _headers((*RATE, *(("ETag",) if body else ()), *created), replayed)
    statuses = set(getattr(view, "api_problems", ())) | ({404} if has_variables else set())
    for status in sorted(statuses):
        responses[str(status)] = _problem_answer(status)


def _problem_answer(status: int) -> dict[str, Any]:
    """Return the documented answer of an error status: a problem document."""
    # RateLimit-* come once a token is admitted: not with a 401, nor with the 429 of a
    # client sending failed tokens (the 429 of a token's own limit has them)
    required = {401: ("WWW-Authenticate",), 429: ("Retry-After",)}.get(status, ())
    optional = {401: (), 403: ("WWW-Authenticate", *RATE)}.get(status, RATE)
    return {
        "description": f"{status} {HTTPStatus(status).phrase}: {PROBLEM_CAUSES[status]}",
        "headers": _headers(required, optional),
        "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


PROBLEM_CAUSES = {
    400: "the body is not valid JSON.",
    401: "no valid token (missing, unknown, expired or revoked).",
    403: "the token's scopes or its account's role do not allow this.",
    404: "nothing of that name that the token's account may see.",
    409: "the resource's state does not allow this now (the problem's code says why).",
    412: "the resource changed since the ETag sent as If-Match.",
    413: "the body is too large.",
    415: "the body is not JSON (Content-Type: application/json).",
    422: "some input is not valid: `errors` names each field.",
    429: "the token sent too many requests this minute (or its client too many failed tokens).",
}


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
