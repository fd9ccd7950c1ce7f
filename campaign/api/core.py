"""How an API operation is declared: its access (accounts/scope.py, as for a page), the
resource its token scope must cover, its request and answer models (pydantic, validated by
spectree, which writes the OpenAPI document from them), and what every operation shares:
cursor pagination, ETags, idempotency keys.

    @bp.get("/participants")
    @operation(Access.STAFF, "participants", query=ParticipantQuery,
               resp=Response(HTTP_200=ParticipantPage))
    def list_participants(query: ParticipantQuery) -> ParticipantPage: ...

An operation of a campaign is served under /api/v1/campaigns/<campaign> (scope.rule_of), any
other under /api/v1.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any, cast

from flask import Blueprint, Response, current_app, request
from flask.typing import RouteCallable
from flask_babel import gettext as _
from pydantic import BaseModel, Field
from spectree import Response as Responses
from spectree import SecurityScheme, SpecTree
from spectree.models import SecureType, SecuritySchemeData
from sqlalchemy import Select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute

from campaign import db
from campaign.accounts.scope import Access
from campaign.api import idempotency
from campaign.api.problems import Problem, from_validation
from campaign.timing import current_clock

VERSION = "v1"
bp = Blueprint("api", __name__)

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def _refuse_invalid(
    _request: Any, _response: Any, error: Exception | None, _instance: Any, adapter: Any
) -> None:
    """Answer a request whose body should be JSON but is of another media type (415) or not
    JSON (400), or that its model refuses (422, a problem naming each field). (A file's
    operation says itself that no file came: 422.)"""
    body = getattr(current_app.view_functions.get(request.endpoint or ""), "api_body", None)
    # spectree takes a form's body for a form, and gives a JSON model's view nothing then
    if body == "json" and (request.get_data(cache=True) or request.mimetype in FORM_TYPES):
        if not request.is_json:
            detail = _("Send the body as JSON, with the header Content-Type: application/json.")
            raise Problem(415, detail, code="unsupported_media_type")
        if request.get_json(silent=True) is None:
            raise Problem(400, _("The body is not valid JSON."), code="invalid_json")
    if error is not None:
        raise from_validation(adapter.validation_errors(error))


spec = SpecTree(
    "flask",
    title="campaign API",
    version=VERSION,
    mode="strict",
    annotations=True,
    before=_refuse_invalid,
    security_schemes=[
        SecurityScheme(
            name="token",
            data=SecuritySchemeData(
                type=SecureType.HTTP,
                scheme="bearer",
                description="A personal API token (cmp_...), made on the account page or "
                "by `campaign create-token`.",
            ),
        )
    ],
    security={"token": []},
)


def operation(
    policy: Access,
    resource: str,
    *,
    resp: Responses,
    query: type[BaseModel] | None = None,
    json: type[BaseModel] | None = None,
    form: type[BaseModel] | None = None,
    tags: Sequence[str] = (),
    idempotent: bool = False,
    conditional: bool = False,
    problems: Sequence[int] = (),
) -> Callable[[Callable[..., Any]], RouteCallable]:
    """Declare an API view: who may call it, the token scope on `resource` it needs (reading
    for GET, writing otherwise), its models (`form`: a multipart body, for a file);
    `idempotent` honours an Idempotency-Key, `conditional` an If-Match (check_if_match);
    `problems` are the error statuses the view itself answers (409 ...) beyond those every
    operation of its kind may (document.py documents them all)."""

    def declare(view: Callable[..., Any]) -> RouteCallable:
        """Validate and document the view, and mark it for the access and scope checks."""
        validated = spec.validate(
            query=query, json=json, form=form, resp=resp, tags=list(tags) or [resource],
            operation_id=view.__name__,
        )(view)  # fmt: skip
        declared = _with_etag(_with_idempotency(validated) if idempotent else validated)
        # Marks read by accounts/scope.py (access, rule_prefix), api/auth.py (the resource)
        # and api/document.py (what the operation may answer besides its models).
        body = "json" if json else "form" if form else None
        answers = _problem_statuses(bool(query or body), body, idempotent, conditional, problems)
        marks = {
            "access": policy, "api_resource": resource, "rule_prefix": f"/api/{VERSION}",
            "idempotent": idempotent, "conditional": conditional, "api_problems": answers,
            "api_body": body,
        }  # fmt: skip
        for name, value in marks.items():
            setattr(declared, name, value)
        return cast(RouteCallable, declared)  # spectree makes a response of what it returns

    return declare


def _problem_statuses(
    validated: bool, body: str | None, idempotent: bool, conditional: bool, own: Sequence[int]
) -> frozenset[int]:
    """Return the error statuses an operation may answer, 404 aside (its URL's variables):
    401, 403 and 429 for every one (the token, its scopes, its rate), 422 for one with a
    model or an Idempotency-Key, 413 for one with a body (MAX_CONTENT_LENGTH), 415 and 400
    for a JSON body of another media type or not JSON, 409 for a key still in use, 412 for a
    stale If-Match, and the view's own."""
    statuses = {401, 403, 429, *own}
    statuses |= {422} if validated or idempotent else set()
    statuses |= {413} if body else set()
    statuses |= {400, 415} if body == "json" else set()
    statuses |= {409} if idempotent else set()
    statuses |= {412} if conditional else set()
    return frozenset(statuses)


class PageQuery(BaseModel):
    """A page of a list: at most `limit` items after the `cursor` the previous page gave."""

    limit: int = Field(100, ge=1, le=1000, description="How many items at most.")
    cursor: str | None = Field(
        None, max_length=200, description="The `next_cursor` of the previous page."
    )


def page(
    query: Select[Any], key: InstrumentedAttribute[int], asked: PageQuery
) -> tuple[list[Any], str | None]:
    """Return one page of `query` (ordered by the integer `key`) and the cursor of the next
    page (None on the last). The cursor is opaque to clients; altering it only moves within
    what the query may show."""
    after = _after(asked.cursor)
    if after is not None:
        query = query.where(key > after)
    rows = list(db.session().scalars(query.order_by(key).limit(asked.limit + 1)))
    if len(rows) <= asked.limit:
        return rows, None
    rows = rows[: asked.limit]
    return rows, _cursor(getattr(rows[-1], key.key))


class Page(BaseModel):
    """A page of a list: its `items` (each list's model says of what) and where the next
    page starts."""

    items: list[Any]
    next_cursor: str | None = Field(
        description="Give it as `cursor` for the next page; null on the last."
    )


def page_of(
    items: Sequence[Any], key: Callable[[Any], int], asked: PageQuery
) -> tuple[list[Any], str | None]:
    """Return one page of a short list made whole in its own order (a campaign's members,
    say), with the same cursors as page(): the next page starts after the item whose `key`
    the cursor names (a problem if it is no longer in the list: start again)."""
    start, after = 0, _after(asked.cursor)
    if after is not None:
        keys = [key(item) for item in items]
        if after not in keys:
            raise Problem(422, _("The cursor is not one this list gave."), code="invalid_cursor")
        start = keys.index(after) + 1
    rows = list(items[start : start + asked.limit])
    more = start + asked.limit < len(items)
    return rows, _cursor(key(rows[-1])) if more else None


def _cursor(last: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": last}).encode()).decode().rstrip("=")


def _after(cursor: str | None) -> int | None:
    """Return the key a cursor continues after; a problem for one that is not ours."""
    if not cursor:
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        after = decoded["after"]
    except (binascii.Error, ValueError, TypeError, KeyError):
        after = None
    if not isinstance(after, int):
        raise Problem(422, _("The cursor is not one this list gave."), code="invalid_cursor")
    return after


def etag_of(model: BaseModel) -> str:
    """Return the entity tag of a resource: it changes whenever its representation does."""
    return _etag(model.model_dump_json().encode())


def _etag(body: bytes) -> str:
    """Return the entity tag of a JSON body (spectree sends a model's model_dump_json())."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _with_etag(view: Callable[..., Any]) -> Callable[..., Any]:
    """Give every successful answer with a body its ETag (a kept answer replayed too)."""

    @functools.wraps(view)
    def answer(*args: Any, **kwargs: Any) -> Any:
        response = view(*args, **kwargs)
        successful = isinstance(response, Response) and response.status_code in (200, 201)
        if successful and response.is_json and "ETag" not in response.headers:
            response.headers["ETag"] = _etag(response.get_data())
        return response

    return answer


def check_if_match(current: BaseModel) -> None:
    """Refuse an update sent with an If-Match that no longer names the resource as it is.
    Only an operation declared `conditional` may call it (so that its document says so)."""
    view = current_app.view_functions.get(request.endpoint or "")
    if not getattr(view, "conditional", False):
        raise RuntimeError(f"{request.endpoint} checks If-Match but is not declared conditional")
    wanted = request.headers.get("If-Match")
    if not wanted or wanted.strip() == "*":
        return
    tags = {tag.strip().removeprefix("W/") for tag in wanted.split(",")}
    if etag_of(current) not in tags:
        raise Problem(
            412,
            _("Someone changed this since you read it. Read it again and repeat your change."),
            code="precondition_failed",
        )


def tagged(
    model: BaseModel, status: int = 200, **headers: str
) -> tuple[BaseModel, int, dict[str, str]]:
    """Return an answer carrying the resource's ETag (and any other header given)."""
    return model, status, {"ETag": etag_of(model), **headers}


def _with_idempotency(view: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a create so that a repeated Idempotency-Key gets the first answer again."""

    @functools.wraps(view)
    def run_once(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get("Idempotency-Key")
        if not key:
            return view(*args, **kwargs)
        from flask import g

        token_id, now = g.api_token.id, current_clock().now()
        kept = _claim(token_id, key, now)
        if kept is not None:
            return kept
        try:
            answer = view(*args, **kwargs)
        except BaseException:
            _forget(token_id, key)
            raise
        _settle(token_id, key, answer)
        return answer

    return run_once


def _claim(token_id: int, key: str, now: Any) -> Response | None:
    """Return the kept answer of this key, or reserve the key for this request (committed,
    so that a second request with it meanwhile is told to wait)."""
    if len(key) > idempotency.LONGEST_KEY:
        raise Problem(422, _("The Idempotency-Key is too long."), code="invalid_idempotency_key")
    print_ = idempotency.fingerprint(request.method, request.path, request.get_data())
    session = db.session()
    earlier = idempotency.earlier(session, token_id, key, print_, now)
    if earlier.mismatch:
        raise Problem(
            422,
            _("This Idempotency-Key was used for another request."),
            code="idempotency_key_reused",
        )
    if earlier.answer is not None and earlier.answer.status:
        replay = Response(earlier.answer.body, earlier.answer.status, mimetype="application/json")
        replay.headers["Idempotent-Replayed"] = "true"
        if earlier.answer.location:
            replay.headers["Location"] = earlier.answer.location
        return replay
    if earlier.answer is None:
        try:
            idempotency.keep(session, token_id, key, print_, (0, "", None), now)
            session.commit()
            return None
        except IntegrityError:
            session.rollback()
    raise Problem(
        409, _("A request with this Idempotency-Key is still being processed."), code="in_progress"
    )


def _settle(token_id: int, key: str, answer: Any) -> None:
    """Keep the answer under its key (forget the key after a server error)."""
    response = answer if isinstance(answer, Response) else None
    if response is None or response.status_code >= 500:
        _forget(token_id, key)
        return
    session = db.session()
    row = session.scalar(idempotency.pending(token_id, key))
    if row is not None:
        row.status = response.status_code
        row.body = response.get_data(as_text=True)
        row.location = response.headers.get("Location")
        session.commit()


def _forget(token_id: int, key: str) -> None:
    """Free the key again: the request it was reserved for made nothing."""
    session = db.session()
    session.rollback()
    row = session.scalar(idempotency.pending(token_id, key))
    if row is not None:
        session.delete(row)
        session.commit()
