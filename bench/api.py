"""Listing one member's participants: the REST API against the web page, in the same run.

    python bench/api.py [--participants 5000] [--repeat 5] [--database-url URL] [--quick]

Fills a fresh SQLite database (or the empty PostgreSQL database given) with one campaign and
one member of N participants, its lead administrator and a read token; then times, in turns so
that drift hits each alike, `--repeat` times each:

- the API listing all of them, pages of 1,000 by the cursor
  (GET /api/v1/campaigns/<c>/members/<org>/participants?limit=1000&cursor=...);
- the API's one page of 1,000;
- the web page that lists them (/campaigns/<c>/organisations/<org>/participants), all of its
  pages of 50, signed in as the lead administrator.

Requests go through the Flask test client: the time is what a client waits for the whole
body, without the network. Prints the median of each, in milliseconds, and the ratios.
`--quick` (1,200 participants, one run) only proves that the bench runs.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

START = datetime(2014, 3, 3, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"
API_PAGE = 1000


def fill(session, participants: int) -> str:  # type: ignore[no-untyped-def]
    """Add the campaign, its member, the lead administrator and the participants; return a
    read token of the lead administrator."""
    from campaign.accounts.models import Role, User
    from campaign.api.tokens import issue
    from campaign.enrolment.models import Participant, ParticipantStatus
    from campaign.network.models import Campaign, Membership, Organisation, OrganisationKind
    from campaign.security import hash_password

    member = Organisation(
        slug="ale", name="Ale kommun", short_name="Ale", kind=OrganisationKind.MUNICIPALITY,
        created_at=START,
    )  # fmt: skip
    campaign = Campaign(
        slug="bench", name="Resfria möten", lead_organisation=member,
        starts_on=date(2014, 1, 1), ends_on=date(2015, 3, 31), created_at=START,
    )  # fmt: skip
    lead = User(
        email="lead@ale.se", name="Lea Lead", role=Role.LEAD_ADMIN, organisation=member,
        password_hash=hash_password(PASSWORD), created_at=START,
    )  # fmt: skip
    session.add_all(
        [campaign, lead, Membership(campaign=campaign, organisation=member, created_at=START,
                                    updated_at=START)]
    )  # fmt: skip
    session.flush()
    session.execute(
        insert(Participant),
        [
            {
                "campaign_id": campaign.id,
                "organisation_id": member.id,
                "email": f"person{n:05d}@ale.se",
                "name": f"Person {n:05d}",
                "title": "Handläggare",
                "language": "sv",
                "status": ParticipantStatus.ACTIVE,
                "created_at": START,
                "updated_at": START,
            }  # fmt: skip
            for n in range(participants)
        ],
    )
    issued = issue(
        session, lead, name="bench", scopes=["read"], expires_at=START + timedelta(days=30),
        now=START,
    )  # fmt: skip
    session.commit()
    return issued.plaintext


def api_all(client, token: str, participants: int) -> float:  # type: ignore[no-untyped-def]
    """Time listing every participant through the API, a page of 1,000 at a time."""
    url = f"/api/v1/campaigns/bench/members/ale/participants?limit={API_PAGE}"
    headers = {"Authorization": f"Bearer {token}"}
    started, seen, cursor = time.perf_counter(), 0, None
    while True:
        response = client.get(url + (f"&cursor={cursor}" if cursor else ""), headers=headers)
        body = response.get_json()
        assert response.status_code == 200, response.get_data(as_text=True)
        seen += len(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    elapsed = time.perf_counter() - started
    assert seen == participants, seen
    return elapsed


def api_page(client, token: str, participants: int) -> float:  # type: ignore[no-untyped-def]
    """Time one page of 1,000 through the API."""
    url = f"/api/v1/campaigns/bench/members/ale/participants?limit={API_PAGE}"
    started = time.perf_counter()
    response = client.get(url, headers={"Authorization": f"Bearer {token}"})
    items = response.get_json()["items"]
    elapsed = time.perf_counter() - started
    assert len(items) == min(API_PAGE, participants), len(items)
    return elapsed


def web_all(client, participants: int) -> float:  # type: ignore[no-untyped-def]
    """Time every page of the web page that lists the member's participants."""
    from campaign.pages import PAGE_SIZE

    pages = -(-participants // PAGE_SIZE)
    started = time.perf_counter()
    for number in range(1, pages + 1):
        response = client.get(f"/campaigns/bench/organisations/ale/participants?page={number}")
        body = response.get_data(as_text=True)
        assert response.status_code == 200 and "@ale.se" in body, response.status_code
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: SQLite)")
    parser.add_argument("--quick", action="store_true", help="1,200 participants, one run")
    args = parser.parse_args()
    participants, repeat = (1200, 1) if args.quick else (args.participants, args.repeat)

    from campaign import create_app, db, migrations
    from campaign.timing import FixedClock

    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        app = create_app(
            {
                "INSTANCE_PATH": folder, "CAMPAIGN_DATABASE_URL": url,
                "CAMPAIGN_SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                "CAMPAIGN_API_RATE_LIMIT": "1000000",  # the bench is no client to slow down
            }
        )  # fmt: skip
        app.extensions["campaign.clock"] = FixedClock(START + timedelta(days=1))
        migrations.upgrade(db.engine_of(app))
        with db.open_session(app) as session:
            token = fill(session, participants)
        client = app.test_client()
        signed_in = client.post("/login", data={"email": "lead@ale.se", "password": PASSWORD})
        assert signed_in.status_code == 302, signed_in.status_code
        cases: dict[str, Callable[[], float]] = {
            f"API, all {participants} by the cursor ({API_PAGE} a page)": (
                lambda: api_all(client, token, participants)
            ),
            f"API, one page of {API_PAGE}": lambda: api_page(client, token, participants),
            "web page, all its pages (50 a page)": lambda: web_all(client, participants),
        }
        for case in cases.values():  # warm up every path once
            case()
        times: dict[str, list[float]] = {name: [] for name in cases}
        for turn in range(repeat):
            names = list(cases)
            for name in names[turn % len(names) :] + names[: turn % len(names)]:
                times[name].append(cases[name]())
        report(times, participants, repeat, url.split(":")[0])


def report(times: dict[str, list[float]], participants: int, repeat: int, backend: str) -> None:
    """Print the median of each case and how many times the web page takes the API's."""
    print(f"{participants} participants of one member, {repeat} runs on {backend}")
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, median in medians.items():
        print(f"  {name}: median {median * 1000:.0f} ms")
    api_all_, api_page_, web = medians.values()
    print(f"ratio web page / API (all {participants}): {web / api_all_:.1f}×")
    print(f"ratio API all / API one page: {api_all_ / api_page_:.1f}×")


if __name__ == "__main__":
    main()
