"""Errors of the API as problem details (RFC 9457, `application/problem+json`), in the same
sentences as the web pages, in the language the request asks for.

`about:blank` is every problem's type: the HTTP status says what kind it is, `code` names it
for a program, `detail` says it for a person, `errors` lists the fields at fault.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from flask import Response, request
from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, Field
from werkzeug.exceptions import HTTPException

MEDIA_TYPE = "application/problem+json"


class FieldError(BaseModel):
    """One field at fault in a request."""

    field: str = Field(description="Where: a body field, a query parameter, or `body`.")
    detail: str = Field(description="What is wrong with it, for a person.")


class ProblemDocument(BaseModel):
    """A problem document (RFC 9457): the body of every error answer of the API."""

    model_config = ConfigDict(title="Problem")

    type: str = Field("about:blank", description="Always about:blank: the status says it.")
    title: str = Field(description="The status in a few words, in the request's language.")
    status: int = Field(description="The HTTP status code of the answer.")
    detail: str = Field(description="What went wrong and what to do, for a person.")
    instance: str = Field(description="The path of the request.")
    code: str = Field(description="The problem's name for a program, e.g. invalid_input.")
    errors: list[FieldError] = Field(
        default_factory=list, description="The fields at fault (sent only when some are)."
    )


class Problem(Exception):
    """Stop the request with a problem document; raise it from any API view or helper."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        code: str = "",
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.detail, self.code = status, detail, code or _code(status)
        self.errors = errors or []
        self.headers = headers or {}


def _code(status: int) -> str:
    """Return the machine name of a status: 404 -> "not_found"."""
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def _title(status: int) -> str:
    """Return the short sentence of a status, in the request's language."""
    titles = {
        400: _("Bad request"),
        401: _("Not signed in"),
        403: _("Not allowed"),
        404: _("Not found"),
        405: _("Not allowed"),
        409: _("Conflict"),
        412: _("Changed by someone else"),
        413: _("Too large"),
        415: _("Unsupported media type"),
        422: _("Invalid input"),
        428: _("Precondition required"),
        429: _("Too many requests"),
        500: _("Something went wrong"),
    }
    return titles.get(status, _("Error"))


def document(problem: Problem) -> dict[str, Any]:
    """Return the problem's JSON object (without `errors` when no field is at fault)."""
    body = ProblemDocument(
        type="about:blank",
        title=_title(problem.status),
        status=problem.status,
        detail=problem.detail,
        instance=request.path,
        code=problem.code,
        errors=[FieldError(**error) for error in problem.errors],
    ).model_dump()
    if not problem.errors:
        del body["errors"]
    return body


def response(problem: Problem) -> Response:
    """Return the problem as an HTTP answer."""
    payload = json.dumps(document(problem), ensure_ascii=False)
    answer = Response(payload, problem.status, mimetype=MEDIA_TYPE)
    answer.headers.update(problem.headers)
    return answer


def from_http_error(error: HTTPException) -> Problem:
    """Turn a Werkzeug error (404, 405, 413 ...) into a problem with the pages' sentences."""
    status = error.code or 500
    details = {
        400: _("The request could not be understood."),
        401: _("Send a valid API token in the Authorization header: Bearer <token>."),
        403: _("Your account does not give access to this page."),
        404: _("There is no page at this address."),
        405: _("This address does not accept that kind of request."),
        413: _("The file is too large."),
        500: _("The error has been logged. Please try again."),
    }
    allowed = getattr(error, "valid_methods", None)  # a 405 names what the address accepts
    headers = {"Allow": ", ".join(allowed)} if allowed else {}
    return Problem(status, details.get(status, error.description or ""), headers=headers)


def from_validation(errors: list[dict[str, Any]]) -> Problem:
    """Turn the request model's validation errors (pydantic's) into a 422 problem naming each
    field, its place (query or body) and what is wrong with it."""
    fields = [
        {
            "field": ".".join(str(part) for part in error.get("loc", ())) or "body",
            "detail": str(error.get("msg", "")),
        }
        for error in errors
    ]
    return Problem(422, _("Some fields are not valid."), code="invalid_input", errors=fields)


def wants_problem() -> bool:
    """Whether the request is one of the API's (its errors are problem documents)."""
    return request.path.startswith("/api/")
