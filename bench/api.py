"""Listing 5,000 participants: the API against the web page that lists them, in the same run.

    python bench/api.py [--participants 5000] [--repeat 11]

Fills a fresh SQLite database with one member of N participants and its representative, with
a personal API token. Then, REPEAT times each, through the app (Flask's test client, no
network): the API's whole list, page after page of 1,000 by cursor (JSON); the API's first
page of 100 (its default); the web page of the list (its first 50 by name, with the count of
all); and the page's download of the whole list as CSV. Prints the median of each.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

NOW = datetime(2014, 3, 3, 9, 0, tzinfo=UTC)
PASSWORD = "bench password 1234"
BASE = "/campaigns/bench/organisations/m0"
API = "/api/v1/campaigns/bench/members/m0/participants"


def build(session: Any, participants: int) -> str:
    """Add the campaign, its member, N participants and the representative; return a token."""
    from campaign.accounts.models import Role, User
    from campaign.api.tokens import issue
    from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup, PilotGroupKind
    from campaign.network.models import Campaign, Membership, Organisation, OrganisationKind
    from campaign.security import hash_password

    org = Organisation(slug="m0", name="Kommun 0", short_name="K0",
                       kind=OrganisationKind.MUNICIPALITY, created_at=NOW)  # fmt: skip
    campaign = Campaign(
        slug="bench", name="Resfria möten", lead_organisation=org,
        starts_on=date(2014, 1, 1), ends_on=date(2015, 3, 31), created_at=NOW,
    )  # fmt: skip
    session.add_all([campaign, Membership(campaign=campaign, organisation=org, created_at=NOW,
                                          updated_at=NOW)])  # fmt: skip
    session.flush()
    group = PilotGroup(
        campaign_id=campaign.id, organisation_id=org.id, name="Alla",
        kind=PilotGroupKind.VOLUNTEERS, starts_on=NOW.date(), created_at=NOW,
    )  # fmt: skip
    rep = User(email="rep@kommun-0.se", name="Rep", role=Role.MEMBER_REP, organisation=org,
               password_hash=hash_password(PASSWORD), created_at=NOW)  # fmt: skip
    session.add_all([group, rep])
    session.flush()
    rows = [
        {"campaign_id": campaign.id, "organisation_id": org.id, "pilot_group_id": group.id,
         "email": f"person.{n}@kommun-0.se", "name": f"Person {n:05d}", "title": "Handläggare",
         "language": "sv", "status": ParticipantStatus.ACTIVE, "starts_on": NOW.date(),
         "created_at": NOW, "updated_at": NOW}
        for n in range(participants)
    ]  # fmt: skip
    session.execute(insert(Participant), rows)
    issued = issue(session, rep, name="bench", scopes=["read"],
                   expires_at=NOW + timedelta(days=30), now=NOW)  # fmt: skip
    session.commit()
    return issued.plaintext


def timed(call: Any) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def api_all(client: Any, token: str, expected: int) -> None:
    """Read the whole list through the API, page after page of 1,000."""
    headers, cursor, seen = {"Authorization": f"Bearer {token}"}, None, 0
    while True:
        query = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
        body = client.get(API, headers=headers, query_string=query).get_json()
        seen += len(body["items"])
        if (cursor := body["next_cursor"]) is None:
            break
    assert seen == expected, seen


def api_first(client: Any, token: str) -> None:
    response = client.get(API, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and len(response.get_json()["items"]) == 100


def signed_in(app: Any) -> Any:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token is not None
    login = {"email": "rep@kommun-0.se", "password": PASSWORD, "csrf_token": token.group(1)}
    assert client.post("/login", data=login).status_code == 302
    return client


def page(client: Any) -> None:
    response = client.get(f"{BASE}/participants")
    assert response.status_code == 200 and "Person 00049" in response.get_data(as_text=True)


def download(client: Any, expected: int) -> None:
    response = client.get(f"{BASE}/participants/export.csv")
    assert response.get_data(as_text=True).count("\n") == expected + 1


def run(participants: int, repeat: int, folder: Path) -> dict[str, list[float]]:
    from campaign import create_app, db, migrations
    from campaign.timing import FixedClock, install_clock

    app = create_app({
        "INSTANCE_PATH": str(folder), "CAMPAIGN_SECRET_KEY": "bench",
        "CAMPAIGN_DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
        "CAMPAIGN_API_RATE_LIMIT": 1_000_000,
    })  # fmt: skip
    install_clock(app, FixedClock(NOW))
    migrations.upgrade(db.engine_of(app))
    with app.app_context(), db.open_session(app) as session:
        token = build(session, participants)
    api, browser = app.test_client(), signed_in(app)
    cases = {
        "API, all by cursor (1,000 a page)": lambda: api_all(api, token, participants),
        "API, first page (100)": lambda: api_first(api, token),
        "web page of the list (50 of all)": lambda: page(browser),
        "web download of all (CSV)": lambda: download(browser, participants),
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeat):
        for name, case in cases.items():
            times[name].append(timed(case))
    db.engine_of(app).dispose()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=11)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        times = run(args.participants, args.repeat, Path(folder))
    print(f"{args.participants:,} participants of one member, {args.repeat} runs each, SQLite,"
          " through the app (no network); medians:")  # fmt: skip
    for name, values in times.items():
        print(f"  {name}: {statistics.median(values) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
