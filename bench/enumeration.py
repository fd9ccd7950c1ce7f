"""Account enumeration by timing: how long sign-in and "forgot your password" take, per kind
of address.

    python bench/enumeration.py [--repeat 50] [--http]

Fills a fresh SQLite database with one campaign and four accounts (one with a password, one
invited that has no password yet, one disabled, and none at all for the unknown address), then
times `--repeat` requests of each case and prints the median, in milliseconds. A case whose
median stands apart from the others tells an attacker whether an address has an account.

By default the requests go through the Flask test client; the time is what a client waits:
until the response and its body are there. Anything the service does when the response is
closed (as every WSGI server does after sending it) happens outside the timed part, as it
does for a real client. With `--http` they go over real HTTP to waitress on 127.0.0.1.

The sign-in lock (5 failures per address in 15 minutes) would answer every case the same fast
429 after five tries, so the bench moves its clock on by 16 minutes before each sign-in; and by
an hour before each forgot-password request, so that each one queues a fresh mail.
"""

from __future__ import annotations

import argparse
import http.client
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

START = datetime(2014, 3, 3, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"
LOGIN_CASES = {
    "account with a password, wrong password": "lead@alpha.se",
    "invited account, no password yet": "invited@alpha.se",
    "disabled account": "disabled@alpha.se",
    "unknown address": "nobody@alpha.se",
}
FORGOT_CASES = {
    "account with a password": "lead@alpha.se",
    "invited account, no password yet": "invited@alpha.se",
    "unknown address": "nobody@alpha.se",
}


def fill(session) -> None:  # type: ignore[no-untyped-def]
    from campaign.accounts.models import Role, User
    from campaign.network.models import Campaign, Membership, Organisation, OrganisationKind
    from campaign.security import hash_password

    alpha = Organisation(
        slug="alpha", name="Alpha", short_name="A", kind=OrganisationKind.OTHER, created_at=START
    )
    campaign = Campaign(
        slug="b", name="B", lead_organisation=alpha, starts_on=date(2014, 1, 1),
        ends_on=date(2015, 3, 31), created_at=START,
    )  # fmt: skip
    hashed = hash_password(PASSWORD)
    session.add_all(
        [
            campaign,
            Membership(campaign=campaign, organisation=alpha, created_at=START, updated_at=START),
            User(
                email="lead@alpha.se",
                name="L",
                role=Role.LEAD_ADMIN,
                password_hash=hashed,
                created_at=START,
            ),
            User(
                email="invited@alpha.se",
                name="I",
                role=Role.MEMBER_REP,
                organisation=alpha,
                password_hash=None,
                created_at=START,
            ),
            User(
                email="disabled@alpha.se",
                name="D",
                role=Role.MEMBER_REP,
                organisation=alpha,
                password_hash=hashed,
                is_enabled=False,
                created_at=START,
            ),
        ]  # fmt: skip
    )
    session.commit()


# A request: its status, and what to do once the client has the response (outside the timing).
Post = Callable[[str, dict[str, str]], tuple[int, Callable[[], None]]]


def test_client_post(app) -> Post:  # type: ignore[no-untyped-def]
    client = app.test_client()

    def post(path: str, data: dict[str, str]) -> tuple[int, Callable[[], None]]:
        response = client.post(path, data=data)
        response.get_data()
        return response.status_code, response.close  # as a WSGI server does after sending it

    return post


def http_post(app) -> tuple[Post, Callable[[], None]]:  # type: ignore[no-untyped-def]
    import logging

    import waitress.server

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "queue depth" per request
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = waitress.server.create_server(app, host="127.0.0.1", port=port, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def post(path: str, data: dict[str, str]) -> tuple[int, Callable[[], None]]:
        body = urlencode(data)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, lambda: None

    def stop() -> None:
        connection.close()
        server.task_dispatcher.shutdown(cancel_pending=False)  # the last mail may still queue
        server.close()

    return post, stop


def timed(post: Post, path: str, data: dict[str, str], clock, step: timedelta) -> float:  # type: ignore[no-untyped-def]
    clock.advance(step)
    started = time.perf_counter()
    status, finish = post(path, data)
    elapsed = time.perf_counter() - started
    finish()
    assert status == 200, status
    return elapsed


def _rotated(cases: dict[str, str], turn: int) -> list[tuple[str, str]]:
    items = list(cases.items())
    return items[turn % len(items) :] + items[: turn % len(items)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--http", action="store_true", help="over HTTP to waitress, not in-process")
    args = parser.parse_args()

    from sqlalchemy import func, select

    from campaign import create_app, db, migrations
    from campaign.outbox.models import Message
    from campaign.timing import FixedClock

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        app = create_app(
            {
                "INSTANCE_PATH": folder,
                "CAMPAIGN_DATABASE_URL": url,
                "CAMPAIGN_SECRET_KEY": "bench",
                "WTF_CSRF_ENABLED": False,
            }
        )
        clock = FixedClock(START)
        app.extensions["campaign.clock"] = clock
        migrations.upgrade(db.engine_of(app))
        with db.open_session(app) as session:
            fill(session)
        stop: Callable[[], None] = lambda: None  # noqa: E731
        if args.http:
            post, stop = http_post(app)
        else:
            post = test_client_post(app)
        try:
            for email in LOGIN_CASES.values():  # warm up every path once
                timed(post, "/login", {"email": email, "password": "x"}, clock, timedelta(0))
            login = {name: [] for name in LOGIN_CASES}
            forgot = {name: [] for name in FORGOT_CASES}
            # Interleaved, so that drift hits every case alike, and each case takes its turn
            # at every place in the order.
            for n in range(args.repeat):
                for name, email in _rotated(LOGIN_CASES, n):
                    data = {"email": email, "password": "not the password"}
                    login[name].append(timed(post, "/login", data, clock, timedelta(minutes=16)))
                for name, email in _rotated(FORGOT_CASES, n):
                    forgot[name].append(
                        timed(post, "/password/forgot", {"email": email}, clock, timedelta(hours=1))
                    )
        finally:
            stop()
        with db.open_session(app) as session:
            mails = session.scalar(select(func.count(Message.id)))
        via = "HTTP to waitress" if args.http else "the Flask test client"
        print(f"median of {args.repeat} requests each, through {via}:")
        for title, cases in (("sign-in", login), ("forgot password", forgot)):
            print(f"  {title}:")
            for name, times in cases.items():
                print(f"    {name:<42} {statistics.median(times) * 1000:7.2f} ms")
        print(f"  reset mails queued: {mails} (expected {args.repeat}, one per request)")


if __name__ == "__main__":
    main()
