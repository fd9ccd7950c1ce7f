"""Nobody learns from the time an answer takes whether an address has an account.

Proved by the work itself, not by a stopwatch: signing in computes the same password hashes
(one, at the same scrypt cost) and sends the same SQL whatever the address typed, and asking
for a forgotten password does the same work until the response has gone, and while it is
closed; only then, in a thread of its own, is the account looked up and its mail queued.
`bench/enumeration.py` gives the times.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from campaign import db
from campaign.accounts.models import Role, User
from campaign.accounts.views import passwords as views
from campaign.outbox.models import Message, MessageKind
from campaign.security import hash_password
from tests.conftest import PASSWORD, START, Network, csrf_token

# An account with a password, one invited that has none yet, a disabled one, and no account.
ADDRESSES = ("rep@alpha.se", "invited@beta.se", "rep@beta.se", "nobody@alpha.se")


@pytest.fixture
def accounts(session: Session, network: Network) -> Network:
    # What an account of the app has: a hash of the app's own cost (the fixtures' are cheap).
    for user in (network.lead, network.rep_alpha, network.rep_beta):
        user.password_hash = hash_password(PASSWORD)
    network.rep_beta.is_enabled = False
    session.add(
        User(
            email="invited@beta.se",
            name="Ina Vited",
            role=Role.MEMBER_REP,
            organisation=network.beta,
            password_hash=None,
            created_at=START,
        )
    )
    session.commit()
    return network


@contextmanager
def _work(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, list[Any]]]:
    """Record the SQL sent and the scrypt hashes computed (with their cost) meanwhile."""
    done: dict[str, list[Any]] = {"sql": [], "hashes": []}
    engine = db.engine_of(app)

    def on_sql(_conn, _cursor, statement: str, *_args: Any) -> None:  # type: ignore[no-untyped-def]
        done["sql"].append(statement)

    real_scrypt = hashlib.scrypt

    def counted_scrypt(*args: Any, **kwargs: Any) -> bytes:
        done["hashes"].append((kwargs.get("n"), kwargs.get("r"), kwargs.get("p")))
        return real_scrypt(*args, **kwargs)

    event.listen(engine, "before_cursor_execute", on_sql)
    monkeypatch.setattr(hashlib, "scrypt", counted_scrypt)
    try:
        yield done
    finally:
        monkeypatch.setattr(hashlib, "scrypt", real_scrypt)
        event.remove(engine, "before_cursor_execute", on_sql)


def _same_for_every_address(
    app: Flask, monkeypatch: pytest.MonkeyPatch, request: Callable[[str], Any]
) -> dict[str, Any]:
    """Run `request` for each address; assert the work was the same; return it by address."""
    work = {}
    for address in ADDRESSES:
        with _work(app, monkeypatch) as done:
            work[address] = (request(address), done)
    first = work[ADDRESSES[0]][1]
    for address in ADDRESSES[1:]:
        assert work[address][1] == first, address
    return work


def _page(html: str, address: str) -> str:
    """The page without what differs anyway: the address typed, the CSRF tokens' time stamps."""
    return re.sub(r'name="csrf_token" [^>]*', "", html).replace(address, "ADDRESS")


def test_signing_in_costs_the_same_whatever_the_address(
    app: Flask, accounts: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = app.test_client()

    def sign_in(address: str) -> str:
        data = {"email": address, "password": "not the password", "csrf_token": token}
        response = client.post("/login", data=data)
        assert response.status_code == 200
        return _page(response.get_data(as_text=True), address)

    token = csrf_token(client)
    work = _same_for_every_address(app, monkeypatch, sign_in)
    (page, done) = work[ADDRESSES[0]]
    assert done["hashes"] == [(32768, 8, 1)]  # one password hash, of werkzeug's default cost
    assert any(sql.lstrip().startswith("INSERT INTO login_attempt") for sql in done["sql"])
    assert all(answer == page for answer, _ in work.values())


def test_asking_for_a_new_password_costs_the_same_until_the_answer_is_sent(
    app: Flask, accounts: Network, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = app.test_client()
    token = csrf_token(client, "/password/forgot")
    responses = {}

    def ask(address: str) -> str:
        response = client.post("/password/forgot", data={"email": address, "csrf_token": token})
        assert response.status_code == 200
        responses[address] = response
        return _page(response.get_data(as_text=True), address)

    work = _same_for_every_address(app, monkeypatch, ask)
    assert work[ADDRESSES[0]][1] == {"sql": [], "hashes": []}
    assert len({answer for answer, _ in work.values()}) == 1  # the same page too
    assert session.scalars(select(Message)).all() == []  # nothing is queued yet ...
    # ... nor while the server closes the answer (the end of the connection would tell):
    # the thread that queues is kept busy meanwhile, to see that the close only hands over.
    gate = threading.Event()
    views._after_response.submit(gate.wait)
    closing = _same_for_every_address(app, monkeypatch, lambda a: responses[a].close())
    assert closing[ADDRESSES[0]][1] == {"sql": [], "hashes": []}
    gate.set()
    views.wait_for_reset_links()  # then the thread looks the accounts up and queues
    queued = session.scalars(select(Message)).all()
    assert [(m.recipient, m.kind) for m in queued] == [("rep@alpha.se", MessageKind.LOGIN_LINK)]


def test_a_failure_while_queueing_after_the_answer_is_logged(
    app: Flask, accounts: Network, session: Session, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:  # type: ignore[no-untyped-def]
    from campaign.accounts import invitations

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(invitations, "send_link", broken)
    client = app.test_client()
    response = client.post(
        "/password/forgot",
        data={"email": "rep@alpha.se", "csrf_token": csrf_token(client, "/password/forgot")},
    )
    assert response.status_code == 200
    response.close()
    views.wait_for_reset_links()
    assert "A password reset link for a known account was not queued" in caplog.text
    assert "the database went away" in caplog.text
    assert session.scalars(select(Message)).all() == []
