"""Fuzz every route of the URL map as each role: hostile input must never give a 5xx.

For every route and method, as anonymous, the lead admin and the representatives of Alpha and
Beta (on Beta's own pages): the route's path parameters, every query parameter the view reads
(`request.args`, in the view or the functions of its module it calls) and every field of its
form (read from the real page that shows the form, so that the view's own validation is
reached with a valid CSRF token; also tried without one and with a forged one) get random,
oversized (100 KB), unicode (RTL, emoji, combining marks, NUL, CR/LF, other control
characters), numeric-extreme, date- and time-extreme values, time-zone and path-like names and
hostile links, one field at a time with the others plausibly filled in, then all at once. A
field that expects a number, a date, a time, a zone or a link gets every value of its kind.
Then every page is opened once more and the clock's jobs run once, on what was stored.

Seeded: every run sends the same requests. Run with `-s` to see the count of requests and of
5xx per role; a failure names the route, role, method and values of each kind of 5xx.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import pytest
from flask import Flask, got_request_exception
from flask.testing import FlaskClient

from campaign import jobs
from campaign.accounts.scope import Access
from campaign.enrolment import importing
from tests.conftest import PASSWORD, Network, sign_in
from tests.fuzz import NUMBERS, POOLS, Form, Values, forms_of, kind_of, read_by
from tests.routes import TOKEN_OF, routes, url_of

SEED = "issue-14"
ROLES = ("anonymous", "lead", "rep_alpha", "rep_beta")
PER_FIELD = 3  # hostile values per field or parameter, each of another kind
OPTIONS = 6  # a select's or a row of buttons' first choices that are tried too
# Routes that end what the others need (the session, the participant, the group, the
# meeting): fuzzed last, in this order.
LAST = (
    "accounts.account",  # a new password may end the account's other sessions
    "accounts.reset_password",  # the reset link is Alpha's representative's
    "accounts.accept_invitation",
    "enrolment.apply_import",
    "enrolment.discard_import",
    "events.cancel",
    "enrolment.erase_participant",
    "enrolment.delete_group",
    "outbox.delete_suppression",
    "accounts.login",
    "accounts.logout",
)
# A form a person fills in right, so that the fuzzed query reaches what follows a success
# (the login's `next`).
KNOWN_GOOD = {"accounts.login": {"email": "lead@alpha.se", "password": PASSWORD}}
# Whoever gets these answers was refused before the view read any input: one try is enough.
REFUSED = (401, 403, 404, 405)


@dataclass
class Sent:
    """What was sent and what came back: the line printed when it broke."""

    role: str
    endpoint: str
    method: str
    url: str
    data: dict[str, Any]
    status: int = 0
    error: str = ""

    def __str__(self) -> str:
        values = {k: _short(v) for k, v in self.data.items() if k != "csrf_token"}
        csrf = "with" if "csrf_token" in self.data else "without"
        return (
            f"{self.role} {self.method} {self.endpoint} {_short(self.url, 300)} -> "
            f"{self.status} {self.error} ({csrf} CSRF token) values={values}"
        )


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} chars)"


@dataclass
class Fuzzer:
    """Sends the requests of one role and keeps what broke."""

    app: Flask
    role: str
    cookie: str | None
    csrf: str
    forms: dict[str, Form]
    values_of: dict[str, str]
    sent: int = 0
    broken: list[Sent] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def client(self) -> FlaskClient:
        """A new client with the role's session."""
        client = self.app.test_client()
        if self.cookie:
            client.set_cookie(self.app.config["SESSION_COOKIE_NAME"], self.cookie)
        return client

    def send(self, client: FlaskClient, attempt: Sent, files: dict[str, bytes]) -> Sent:
        self.sent += 1
        self.errors.clear()
        kwargs: dict[str, Any] = {"method": attempt.method}
        if attempt.method == "POST":
            if files:  # multipart: the test client encodes text as UTF-8 itself
                body: dict[str, Any] = {k: _valid_text(v) for k, v in attempt.data.items()}
                for name, content in files.items():
                    body[name] = (io.BytesIO(content), "fuzz.csv")
                kwargs.update(data=body, content_type="multipart/form-data")
            else:
                kwargs.update(
                    data=_encode(attempt.data), content_type="application/x-www-form-urlencoded"
                )
        try:
            response = client.open(attempt.url, **kwargs)
            attempt.status = response.status_code
            response.close()
        except Exception as error:  # the error handler itself broke
            attempt.status, attempt.error = 500, f"{type(error).__name__}: {error}"
        if self.errors:
            attempt.error = attempt.error or self.errors[0]
        if attempt.status >= 500:
            self.broken.append(attempt)
        return attempt


def _encode(data: dict[str, str]) -> str:
    # Lone surrogates go out as the invalid UTF-8 they would be from a hostile client.
    return urlencode(data, encoding="utf-8", errors="surrogatepass")


def _valid_text(value: str) -> str:
    return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _ordered(app: Flask) -> list[tuple[str, str, str]]:
    found = routes(app)
    return sorted(found, key=lambda r: (LAST.index(r[0]) if r[0] in LAST else -1, r[0], r[2]))


def _fuzz_route(fuzzer: Fuzzer, endpoint: str, rule: str, method: str) -> None:
    """Send one route its baseline, then hostile path, query and form values."""
    values = Values(f"{SEED}:{fuzzer.role}:{endpoint}:{method}")
    filled = {**fuzzer.values_of, "token": fuzzer.values_of[TOKEN_OF.get(endpoint, "token")]}
    url = url_of(rule, filled)
    args, form_names = read_by(fuzzer.app.view_functions[endpoint])
    form = fuzzer.forms.get(urlsplit(url).path) if method == "POST" else None
    if form is None:  # no page shows it to this role: the names the view reads
        form = Form(url, method, fields={name: ["x"] for name in form_names})
    fields: dict[str, str] = {}
    if method == "POST":
        fields = {**form.baseline(), **KNOWN_GOOD.get(endpoint, {}), "csrf_token": fuzzer.csrf}
    files = {name: values.upload() for name in form.files} if method == "POST" else {}

    def attempt(target: str, data: dict[str, str]) -> Sent:
        # A fresh client each time: a sign-in or sign-out changes only its own session.
        attempt = Sent(fuzzer.role, endpoint, method, target, data)
        return fuzzer.send(fuzzer.client(), attempt, files)

    def hostile(name: str, input_type: str = "") -> list[str]:
        """Values for one field: all of the kind it expects, if any, and some of any kind."""
        kind = kind_of(name, input_type)
        if kind:
            return [*POOLS[kind], values.next()]
        return [values.next() for _ in range(PER_FIELD)]

    baseline = attempt(url, dict(fields))
    policy = fuzzer.app.view_functions[endpoint].access
    refused = (
        baseline.status in REFUSED
        or (fuzzer.role == "anonymous" and policy is not Access.PUBLIC)
        or (fuzzer.role.startswith("rep_") and policy is Access.LEAD_ADMIN)
    )
    names = sorted(n for n in form.fields if n != "csrf_token" and n not in form.files)
    everything = {name: values.next() for name in names}
    if refused:  # the refusal comes before any input is read: one try of each is enough
        for name in _path_params(rule)[:1]:
            attempt(url_of(rule, {**filled, name: _quote(values.next())}), dict(fields))
        attempt(f"{url}?{_encode({name: values.next() for name in sorted(args)})}", fields)
        if method == "POST":
            attempt(url, {**fields, **everything})
        return
    # The path's parameters: ids too large for the database, then random text.
    for name in _path_params(rule):
        extremes = ["99999999999999999999", "2147483648", "9" * 5000] if "<int:" in rule else []
        for value in extremes + [values.next() for _ in range(2)]:
            attempt(url_of(rule, {**filled, name: _quote(value)}), dict(fields))
    # Every query parameter the module reads, alone and all at once.
    for query in [{name: value} for name in sorted(args) for value in hostile(name)] + [
        {name: values.next() for name in sorted(args)}
    ]:
        attempt(f"{url}?{_encode(query)}", dict(fields))
    if method != "POST":
        return
    # Every field of the form, one at a time with the others filled in, then all at once.
    for name in names:
        # The other choices a person has (each button, each option), then hostile values.
        for value in form.fields[name][1:OPTIONS] + hostile(name, form.types.get(name, "")):
            attempt(url, {**fields, name: value})
    attempt(url, {**fields, **everything})
    attempt(url, everything)  # without a CSRF token
    attempt(url, {**everything, "csrf_token": values.next()})  # with a forged one


def _quote(value: str) -> str:
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def _path_params(rule: str) -> list[str]:
    return re.findall(r"<(?:\w+:)?(\w+)>", rule)


def _discover(app: Flask, client: FlaskClient, values_of: dict[str, str]) -> dict[str, Form]:
    """Open every page the role can open and keep its POST forms, by the path they post to."""
    found: dict[str, Form] = {}
    for endpoint, rule, method in routes(app):
        if method != "GET":
            continue
        url = url_of(rule, {**values_of, "token": values_of[TOKEN_OF.get(endpoint, "token")]})
        response = client.get(url)
        if response.status_code != 200 or "html" not in response.content_type:
            continue
        for form in forms_of(response.get_data(as_text=True), url):
            if form.method != "POST":
                continue
            known = found.setdefault(form.action, Form(form.action, "POST"))
            for name, options in form.fields.items():
                merged = known.fields.setdefault(name, [])
                merged.extend(v for v in options if v not in merged)
            known.files |= form.files
            known.types.update(form.types)
    return found


@pytest.fixture
def fuzz_app(app: Flask) -> Iterator[Flask]:
    """The app with the real error handling of production: a 500 page, not an exception."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    yield app
    importing.wait_for_readers()


@pytest.mark.parametrize("role", ROLES)
def test_no_hostile_input_gives_a_server_error(
    fuzz_app: Flask, network: Network, alpha_objects: dict[str, str], role: str
) -> None:
    app = fuzz_app
    started, cpu = time.monotonic(), time.process_time()
    client = app.test_client()
    values_of = dict(alpha_objects)
    if role != "anonymous":
        sign_in(client, getattr(network, role).email)
    if role == "rep_beta":  # Beta's own pages, with Alpha's objects in them (each a 404)
        values_of["org"] = network.beta.slug
    forms = _discover(app, client, values_of)
    csrf = next(v[0] for f in forms.values() for k, v in f.fields.items() if k == "csrf_token")
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    fuzzer = Fuzzer(app, role, cookie.value if cookie else None, csrf, forms, values_of)

    def note(_sender: Flask, exception: BaseException, **_extra: Any) -> None:
        fuzzer.errors.append(f"{type(exception).__name__}: {str(exception)[:300]}")

    got_request_exception.connect(note, app)
    try:
        ordered = _ordered(app)
        for endpoint, rule, method in [r for r in ordered if r[0] not in LAST]:
            _fuzz_route(fuzzer, endpoint, rule, method)
        # What the fuzzing stored must not break a page later: open every page once more
        # (before the last routes erase the participant, who may now be unsubscribed).
        for endpoint, rule, method in routes(app):
            if method == "GET":
                url = url_of(
                    rule, {**values_of, "token": values_of[TOKEN_OF.get(endpoint, "token")]}
                )
                fuzzer.send(fuzzer.client(), Sent(role, endpoint, method, url, {}), {})
        if role != "anonymous":  # else the routes above were fuzzed signed out, unseen
            assert fuzzer.client().get("/account").status_code == 200, "the session ended"
        for endpoint, rule, method in [r for r in ordered if r[0] in LAST]:
            _fuzz_route(fuzzer, endpoint, rule, method)
    finally:
        got_request_exception.disconnect(note, app)
    # Nor the clock's jobs, which read it in the background.
    for job, ran in jobs.tick(app).items():
        if not ran:
            fuzzer.broken.append(
                Sent(role, f"clock job {job}", "TICK", "", {}, 500, "failed (see the log)")
            )
    seconds, cpu = time.monotonic() - started, time.process_time() - cpu
    broken = fuzzer.broken
    print(
        f"\nfuzz {role}: {fuzzer.sent} requests, {len(broken)} answered 5xx in {seconds:.1f} s,"
        f" {cpu:.1f} s of CPU"
    )
    if broken:
        pytest.fail(_summary(broken), pytrace=False)


def _summary(broken: list[Sent]) -> str:
    """One line per route and kind of error, with the values of its first case."""
    kinds: dict[tuple[str, str, str], list[Sent]] = {}
    for sent in broken:
        kinds.setdefault((sent.method, sent.endpoint, sent.error.split(":")[0]), []).append(sent)
    return "\n".join(
        f"{cases[0]}" + (f" (and {len(cases) - 1} more like it)" if len(cases) > 1 else "")
        for cases in kinds.values()
    )


def test_the_fuzzer_reads_the_forms_and_parameters_of_real_pages(app: Flask) -> None:
    """The parts the fuzz test relies on find what they should."""
    page = (
        '<form method="post" action="/x"><input type="hidden" name="csrf_token" value="t">'
        '<input name="day" type="date"><select name="g"><option value="">-</option>'
        '<option value="7" selected>7</option></select><textarea name="t"></textarea>'
        '<button name="action" value="pause">P</button><input type="file" name="f"></form>'
    )
    (form,) = forms_of(page, "/page")
    assert form.action == "/x" and form.files == {"f"}
    assert form.baseline() == {
        "csrf_token": "t", "day": "2014-03-20", "g": "7", "t": "Test", "action": "pause",
    }  # fmt: skip
    assert read_by(app.view_functions["enrolment.participants"]) == (
        {"q", "status", "group", "page"}, set()
    )  # fmt: skip
    assert read_by(app.view_functions["enrolment.move_participant"]) == (set(), {"pilot_group"})
    assert "99999999999999999999" in NUMBERS
    assert Values("s").next() == Values("s").next()
