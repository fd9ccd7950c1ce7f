"""A campaign-wide meeting through the API: inviting everyone, then reading the invitees and
their mail a page at a time, beside the meeting's web page that lists every invitee at once.

    python bench/api_events.py [--participants 5000] [--repeat 5]

Builds a fresh SQLite database with bench/invitations.py's campaign (20 members, one meeting
for the whole campaign), invites the audience with `POST .../invitations` (the fan-out: the
request records it, the `invitations` job queues the mail), then times, in the same run, the
median of `--repeat` requests of: the API's invitees a page of 1,000 at a time (all pages), the
API's outbox a page of 1,000 at a time (all pages), and the meeting's web page. Everything goes
through the app's own test client and a real token; the page through a real sign-in.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from invitations import MEMBERS, NOW, build  # bench/invitations.py, beside this file

PASSWORD = "bench password, long enough"
CSRF = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


def _app(folder: Path) -> Any:
    """An app on a fresh, migrated SQLite database, its clock fixed at NOW."""
    from campaign import create_app, db, migrations
    from campaign.timing import FixedClock, install_clock

    app = create_app({
        "INSTANCE_PATH": str(folder), "CAMPAIGN_SECRET_KEY": "bench",
        "CAMPAIGN_DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
    })  # fmt: skip
    migrations.upgrade(db.engine_of(app))
    install_clock(app, FixedClock(NOW))
    return app


def _pages(client: Any, url: str, headers: dict[str, str]) -> int:
    """Read every page of an API list; return how many items there were."""
    count, cursor = 0, None
    while True:
        query = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
        body = client.get(url, query_string=query, headers=headers).get_json()
        count, cursor = count + len(body["items"]), body["next_cursor"]
        if cursor is None:
            return count


def _median(repeat: int, request: Callable[[], Any]) -> tuple[float, Any]:
    """The median seconds of `repeat` runs of `request`, and its last result."""
    seconds, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = request()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), result


def _sign_in(client: Any, email: str) -> None:
    """Sign in through the login form, as a browser does."""
    page = client.get("/login").get_data(as_text=True)
    token = CSRF.search(page)
    assert token, "no CSRF token on /login"
    data = {"email": email, "password": PASSWORD, "csrf_token": token.group(1)}
    assert client.post("/login", data=data).status_code == 302


def run(participants: int, repeat: int, folder: Path) -> dict[str, Any]:
    """One run: build, invite through the API, then time the three ways of reading."""
    from campaign import db
    from campaign.accounts.models import User
    from campaign.api.tokens import issue
    from campaign.events import fanout
    from campaign.security import hash_password

    app = _app(folder)
    with app.test_request_context(), db.open_session(app) as session:
        event = build(session, participants)
        lead = session.get(User, event.organiser_id)
        lead.password_hash = hash_password(PASSWORD)
        token = issue(session, lead, name="bench", scopes=["write"],
                      expires_at=NOW + timedelta(days=1), now=NOW).plaintext  # fmt: skip
        session.commit()
        event_id, email = event.id, lead.email
    client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
    base = "/api/v1/campaigns/bench"
    event_url = f"{base}/members/kommun-0/events/{event_id}"
    started = time.perf_counter()
    invited = client.post(f"{event_url}/invitations", headers=headers).get_json()
    request = time.perf_counter() - started
    with app.test_request_context(), db.open_session(app) as session:
        while fanout.run_due(session, NOW):
            pass
    listed = _median(repeat, lambda: _pages(client, f"{event_url}/invitations", headers))
    mail = _median(repeat, lambda: _pages(client, f"{base}/outbox/messages", headers))
    browser = app.test_client()
    _sign_in(browser, email)
    page = _median(repeat, lambda: browser.get(
        f"/campaigns/bench/organisations/kommun-0/events/{event_id}").status_code)  # fmt: skip
    db.engine_of(app).dispose()
    return {
        "invited": invited["invited"], "request": request, "invitees": listed,
        "outbox": mail, "page": page,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n = args.participants
    print(f"{n} participants in {MEMBERS} members, one campaign-wide meeting, SQLite; "
          f"medians of {args.repeat} requests", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        r = run(n, args.repeat, Path(folder))
    print(f"POST invitations (the request's part of the fan-out): {r['request']:6.3f} s, "
          f"{r['invited']} invited")  # fmt: skip
    print(
        f"API invitees, all pages of 1,000:   {r['invitees'][0]:6.3f} s ({r['invitees'][1]} items)"
    )
    print(f"API outbox, all pages of 1,000:     {r['outbox'][0]:6.3f} s ({r['outbox'][1]} items)")
    print(f"the meeting's web page (all at once): {r['page'][0]:6.3f} s (HTTP {r['page'][1]})")
    print(f"ratio API invitees / web page:      {r['invitees'][0] / r['page'][0]:.2f}")


if __name__ == "__main__":
    main()
