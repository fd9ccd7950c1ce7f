"""The API answers as its OpenAPI document says: every real answer below (status, content
type, body, documented headers) is validated against the document by openapi-core, and the
answers seen together reach every operation with a success and every error status the
document names: 401, 403 and 404 on every operation that may answer them, 412 on every
conditional one, and each other kind at least once.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any, cast

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_core import Config, OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIResponse
from openapi_core.testing import MockRequest
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from campaign import timing
from campaign.api.problems import MEDIA_TYPE
from campaign.events.models import Event
from campaign.timing import FixedClock
from tests.api.test_matrix import _ordered, _send
from tests.api_helpers import call, token_for
from tests.conftest import START, Network
from tests.routes import url_of

WRITES = ("POST", "PUT", "PATCH", "DELETE")


class Contract:
    """The API's document, and the (operation, status) of every answer checked against it."""

    def __init__(self, app: Flask, document: dict[str, Any]) -> None:
        document["servers"] = [{"url": "http://localhost"}]  # the test client's host
        self.app, self.document = app, document
        # openapi-core reads application/json by itself; a problem document is JSON too
        config = Config(extra_media_type_deserializers={MEDIA_TYPE: json.loads})
        self.api = OpenAPI.from_dict(document, config=config)
        self.seen: set[tuple[str, int]] = set()

    def check(self, response: TestResponse) -> TestResponse:
        """Validate a real answer against the document; remember what it answered."""
        request = response.request
        where = f"{request.method} {request.path} -> {response.status_code}"
        try:
            # the request as sent, but for its body, which the app has read already: only
            # its method and path matter to find the operation whose answers are checked
            sent = MockRequest(request.host_url, request.method, request.path)
            self.api.validate_response(sent, WerkzeugOpenAPIResponse(response))
        except Exception as error:  # the library's errors say what differs: show it
            detail = getattr(error, "__cause__", None) or error
            body = response.get_data(as_text=True)[:300]
            raise AssertionError(f"{where}: {detail!r} {body}") from error
        adapter = self.app.url_map.bind("localhost")
        endpoint, _values = adapter.match(request.path, method=request.method)
        self.seen.add((endpoint.removeprefix("api."), response.status_code))
        return response

    def operations(self) -> dict[str, tuple[str, str, dict[str, Any]]]:
        """Every documented operation by its id: (method, path, operation)."""
        return {
            described["operationId"]: (method.upper(), path, described)
            for path, item in self.document["paths"].items()
            for method, described in item.items()
        }


@pytest.fixture
def contract(app: Flask, client: FlaskClient) -> Contract:
    return Contract(app, client.get("/api/v1/openapi.json").get_json())


def _clock(app: Flask) -> FixedClock:
    return cast(FixedClock, timing.clock_of(app))


def _walk(app: Flask, contract: Contract, token: str | None, objects: dict[str, str],
          *, methods: tuple[str, ...] = ("GET", *WRITES), mark: str = "api_resource",
          **headers: str) -> None:  # fmt: skip
    """Call every operation of `methods` whose view has `mark` (the matrix's bodies) and
    check each answer."""
    client = app.test_client()
    for endpoint, rule, method in _ordered(app):
        if method in methods and getattr(app.view_functions[endpoint], mark, None):
            url = url_of(rule, objects)
            contract.check(_send(client, token, endpoint, url, method, objects, headers))


def _problems(contract: Contract, session: Session, network: Network, token: str) -> None:
    """Answers of every error kind the walks do not give: 400, 409, 413, 415, 422, 429 (and
    a kept answer replayed)."""
    app, client = contract.app, contract.app.test_client()
    member = "/api/v1/campaigns/test/members/alpha"
    for sent, status in (("{not json", 400), ("name=x", 415)):
        kind = "application/json" if status == 400 else "application/x-www-form-urlencoded"
        answer = call(client, "POST", f"{member}/groups", token, data=sent, content_type=kind)
        assert contract.check(answer).status_code == status
    contract.check(call(client, "GET", f"{member}/participants", token,
                        query_string={"limit": 0}))  # fmt: skip
    contract.check(call(client, "POST", f"{member}/groups", token, json={"kind": "nonsense"}))
    contract.check(call(client, "GET", f"{member}/participants", token,
                        query_string={"cursor": "not-ours"}))  # fmt: skip
    body = {"name": "Två gånger", "kind": "volunteers", "starts_on": "2014-04-01"}
    key = {"Idempotency-Key": "contract-1"}
    first = contract.check(call(client, "POST", f"{member}/groups", token, json=body,
                                headers=key))  # fmt: skip
    again = contract.check(call(client, "POST", f"{member}/groups", token, json=body,
                                headers=key))  # fmt: skip
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.get_data() == first.get_data()
    taken = contract.check(call(client, "POST", f"{member}/groups", token, json=body))
    assert taken.status_code == 409, taken.get_data(as_text=True)
    app.config["MAX_CONTENT_LENGTH"] = 1024
    large = {"name": "x" * 2000, "kind": "volunteers", "starts_on": "2014-04-01"}
    assert contract.check(call(client, "POST", f"{member}/groups", token,
                               json=large)).status_code == 413  # fmt: skip
    upload = {"file": (io.BytesIO(b"E-post\n" + b"a@alpha.se\n" * 200), "list.csv")}
    assert contract.check(call(client, "POST", f"{member}/imports", token,
                               data=upload)).status_code == 413  # fmt: skip
    app.config["MAX_CONTENT_LENGTH"] = 20 * 1024 * 1024
    limit, app.config["CAMPAIGN_API_RATE_LIMIT"] = app.config["CAMPAIGN_API_RATE_LIMIT"], 1
    limited = token_for(session, network.lead)
    contract.check(call(client, "GET", "/api/v1/campaigns", limited))
    assert contract.check(call(client, "GET", "/api/v1/campaigns", limited)).status_code == 429
    app.config["CAMPAIGN_API_RATE_LIMIT"] = limit
    guesses = [call(client, "GET", "/api/v1/campaigns", "cmp_guess") for _ in range(31)]
    assert contract.check(guesses[-1]).status_code == 429  # too many failed tokens


def test_every_answer_is_as_documented_and_every_operation_and_problem_is_reached(
    app: Flask,
    session: Session,
    network: Network,
    alpha_objects: dict[str, str],
    contract: Contract,
) -> None:
    token = token_for(session, network.lead)
    reader = token_for(session, network.lead, ("read",))
    _walk(app, contract, None, alpha_objects)  # 401
    _walk(app, contract, reader, alpha_objects, methods=WRITES)  # 403
    _walk(app, contract, token, {**alpha_objects, "campaign": "nowhere"})  # 404
    stale = {"If-Match": '"stale"'}
    _walk(app, contract, token, alpha_objects, mark="conditional", **stale)  # 412
    _problems(contract, session, network, token)
    _walk(app, contract, token, alpha_objects, methods=("PUT",))  # 409: a meeting not begun
    event = session.get(Event, int(alpha_objects["event_id"]))
    assert event is not None
    _clock(app).set(event.starts_at + timedelta(minutes=5))  # now attendance can be marked
    _walk(app, contract, token, alpha_objects, methods=("PUT",), **stale)  # and refused
    _walk(app, contract, token, alpha_objects, methods=("PUT",))
    _clock(app).set(START)
    _walk(app, contract, token, alpha_objects)  # successes (the matrix's; last, cancelling)
    _assert_covered(contract)


def _assert_covered(contract: Contract) -> None:
    """Every operation succeeded once; each documented error status was answered: 401, 403,
    404 and 412 by every operation documenting it, every other kind by one at least."""
    documented: set[tuple[str, int]] = set()
    for operation_id, (method, _path, described) in contract.operations().items():
        statuses = {int(status) for status in described["responses"]}
        assert any((operation_id, s) in contract.seen for s in statuses if s < 300), operation_id
        documented |= {(operation_id, status) for status in statuses if status >= 400}
        for status in statuses & {401, 404, 412} | ({403} if method in WRITES else set()):
            assert (operation_id, status) in contract.seen, f"{operation_id} never {status}"
    kinds = {status for _op, status in documented}
    assert kinds == {status for _op, status in contract.seen if status >= 400}
    assert kinds >= {400, 401, 403, 404, 409, 412, 413, 415, 422, 429}


def test_a_read_only_token_is_refused_by_every_write_operation(
    app: Flask, session: Session, network: Network, alpha_objects: dict[str, str],
    contract: Contract,
) -> None:  # fmt: skip
    """A token with only the global `read` scope: 403 (a problem) from every operation the
    document names with a method other than GET, before anything is done."""
    reader = token_for(session, network.lead, ("read",))
    client = app.test_client()
    writes = [(m, p) for m, p, _op in contract.operations().values() if m != "GET"]
    assert len(writes) > 10
    for method, path in writes:
        url = path.replace("{", "<").replace("}", ">")
        response = contract.check(call(client, method, url_of(url, alpha_objects), reader,
                                       json={}))  # fmt: skip
        assert response.status_code == 403, f"{method} {path}"
        assert response.headers["Content-Type"] == "application/problem+json"
        assert json.loads(response.get_data())["code"] == "insufficient_scope"
