"""An Idempotency-Key held by a request that died (its placeholder never cleared) is taken over
by the same request sent again once the placeholder is older than ABANDONED_AFTER, by one retry
only when several come at once (SQLite and PostgreSQL alike)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import cast

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign import db, timing
from campaign.api import idempotency
from campaign.api.idempotency import ABANDONED_AFTER, IdempotentRequest
from campaign.api.tokens import ApiToken
from campaign.enrolment.models import PilotGroup
from campaign.timing import FixedClock
from tests.api_helpers import call, token_for
from tests.conftest import START, Network

GROUPS = "/api/v1/campaigns/test/members/alpha/groups"
NEW = {"name": "Miljöförvaltningen", "kind": "project_group", "starts_on": "2014-04-01",
       "sequence_name": "pilot-group"}  # fmt: skip
KEY = "hr-feed-4711"


def _died_holding_the_key(app: Flask, session: Session, token: str) -> None:
    """Leave what a worker killed mid-request leaves: the key's placeholder, at START."""
    with app.test_request_context(GROUPS, method="POST", json=NEW):
        from flask import request

        print_ = idempotency.fingerprint("POST", GROUPS, request.get_data())
    token_id = session.scalars(select(ApiToken.id)).one()
    idempotency.keep(session, token_id, KEY, print_, (0, "", None), START)
    session.commit()


def _groups(session: Session) -> int:
    return session.scalar(select(func.count(PilotGroup.id))) or 0


def test_a_retry_after_the_request_died_is_served_once_the_placeholder_is_abandoned(
    app: Flask, client: FlaskClient, session: Session, network: Network
) -> None:
    token = token_for(session, network.rep_alpha)
    _died_holding_the_key(app, session, token)
    headers = {"Idempotency-Key": KEY}
    clock = cast(FixedClock, timing.clock_of(app))
    clock.advance(ABANDONED_AFTER - timedelta(seconds=1))  # it might still be running
    waiting = call(client, "POST", GROUPS, token, json=NEW, headers=headers)
    assert waiting.status_code == 409 and waiting.get_json(force=True)["code"] == "in_progress"
    assert _groups(session) == 0
    clock.advance(timedelta(seconds=1))  # now it is surely dead
    other = call(client, "POST", GROUPS, token, json={**NEW, "name": "Annan"}, headers=headers)
    assert other.status_code == 422  # another request under the key is still a mistake
    served = call(client, "POST", GROUPS, token, json=NEW, headers=headers)
    assert served.status_code == 201, served.get_data(as_text=True)
    assert "Idempotent-Replayed" not in served.headers and _groups(session) == 1
    again = call(client, "POST", GROUPS, token, json=NEW, headers=headers)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == served.get_json() and _groups(session) == 1


def test_of_two_retries_taking_over_at_once_only_one_gets_the_key(
    app: Flask, session: Session, network: Network
) -> None:
    token = token_for(session, network.rep_alpha)
    _died_holding_the_key(app, session, token)
    now = START + ABANDONED_AFTER
    token_id = session.scalars(select(ApiToken.id)).one()
    print_ = session.scalars(select(IdempotentRequest.fingerprint)).one()
    seen: list[idempotency.Earlier] = []
    with db.open_session(app) as first:
        assert idempotency.earlier(first, token_id, KEY, print_, now).answer is None  # taken

        def second_retry() -> None:
            with db.open_session(app) as second:
                seen.append(idempotency.earlier(second, token_id, KEY, print_, now))
                second.commit()

        racer = threading.Thread(target=second_retry)
        racer.start()
        time.sleep(0.5)  # the second retry reads the old placeholder and waits for the lock
        idempotency.keep(first, token_id, KEY, print_, (0, "", None), now)
        first.commit()
        racer.join(timeout=30)
    (found,) = seen
    assert found.answer is not None and found.answer.status == 0  # told to wait: 409
    kept = session.scalars(select(IdempotentRequest)).one()
    assert kept.created_at == now  # the first retry's placeholder; the dead one is gone


def test_many_retries_at_once_run_the_create_once(
    app: Flask, session: Session, network: Network
) -> None:
    token = token_for(session, network.rep_alpha)
    _died_holding_the_key(app, session, token)
    cast(FixedClock, timing.clock_of(app)).advance(ABANDONED_AFTER)
    start = threading.Barrier(6)
    answers: list[tuple[int, str]] = []

    def retry() -> None:
        client = app.test_client()
        start.wait()
        answer = call(client, "POST", GROUPS, token, json=NEW, headers={"Idempotency-Key": KEY})
        body = answer.get_json(force=True) or {}
        replayed = answer.headers.get("Idempotent-Replayed") == "true"
        answers.append((answer.status_code, "replayed" if replayed else body.get("code", "")))

    threads = [threading.Thread(target=retry) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    made = [a for a in answers if a == (201, "")]
    assert len(answers) == 6 and len(made) == 1, answers
    # Every other retry waited or got the first answer again; none ran the create (which
    # would have been refused as a second group of the same name).
    assert all(a in ((409, "in_progress"), (201, "replayed")) for a in answers if a not in made)
    assert _groups(session) == 1
