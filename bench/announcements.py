"""An announcement to a whole campaign: how long the form's requests and the queueing take.

    python bench/announcements.py [--participants 5000] [--repeat 3]

Builds a fresh SQLite database per run with one campaign of 20 members, the participants spread
over them (one in ten writing English, one in fifty paused, one in fifty suppressed). Through
the web app (Flask's test client, signed in as the lead administrator) it times the form page
(which counts the segment and lists who is left out), the Count button, and the Send button;
then the `announcements` job queueing every person's mail, rendered in their language, in
batches. Prints each run and the medians.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

MEMBERS = 20
NOW = datetime(2014, 9, 1, 8, 0, tzinfo=UTC)  # 10:00 in Stockholm
PASSWORD = "correct horse battery staple"


def build(session: Any, participants: int) -> None:
    """Fill an empty database with the campaign, its members, its lead and participants."""
    from sqlalchemy import insert

    from campaign.accounts.models import Role, User
    from campaign.enrolment.models import Participant
    from campaign.network.models import Campaign, Membership, Organisation, OrganisationKind
    from campaign.outbox.models import Suppression, SuppressionReason
    from campaign.security import hash_password

    members = [
        Organisation(slug=f"kommun-{n}", name=f"Kommun {n} kommun", short_name=f"Kommun {n}",
                     kind=OrganisationKind.MUNICIPALITY, created_at=NOW)
        for n in range(MEMBERS)
    ]  # fmt: skip
    campaign = Campaign(
        slug="bench",
        name="Resfria möten",
        lead_organisation=members[0],
        starts_on=date(2014, 1, 1),
        ends_on=date(2015, 3, 31),
        created_at=NOW,
    )
    session.add(campaign)
    session.add_all(
        Membership(campaign=campaign, organisation=org, created_at=NOW, updated_at=NOW)
        for org in members
    )
    lead = User(email="lea@kommun-0.se", name="Lea Ledare", role=Role.LEAD_ADMIN,
                password_hash=hash_password(PASSWORD), created_at=NOW)  # fmt: skip
    lead.organisation = members[0]
    session.add(lead)
    session.flush()
    rows = [_row(campaign.id, members, n) for n in range(participants)]
    session.execute(insert(Participant), rows)
    session.execute(
        insert(Suppression),
        [{"email": f"deltagare.{n}@kommun-{n % MEMBERS}.se", "reason": SuppressionReason.MANUAL,
          "detail": "", "created_at": NOW} for n in range(0, participants, 50)],
    )  # fmt: skip
    session.commit()


def _row(campaign_id: int, members: list[Any], n: int) -> dict[str, Any]:
    from campaign.enrolment.models import ParticipantStatus

    paused = n % 50 == 25
    return {
        "campaign_id": campaign_id,
        "organisation_id": members[n % MEMBERS].id,
        "email": f"deltagare.{n}@kommun-{n % MEMBERS}.se",
        "name": f"Åsa Öberg {n}",
        "language": "en" if n % 10 == 9 else "sv",
        "status": ParticipantStatus.PAUSED if paused else ParticipantStatus.ACTIVE,
        "starts_on": date(2014, 3, 3),
        "created_at": NOW,
        "updated_at": NOW,
    }


FORM = {
    "subject_sv": "Nyheter för {{ organisation.name }}",
    "body_sv": "Hej {{ participant.first_name }}!\n\nVi ses på **webbinariet** den 2 oktober."
    " Fråga {{ member.contact_name or 'oss' }} om du undrar något.",
    "subject_en": "News for {{ organisation.name }}",
    "body_en": "Hello {{ participant.first_name }}!\n\nSee you at the **webinar** on 2 October.",
    "when": "now",
    "form_key": "bench",
}


def timed(call: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


def through_the_app(app: Any) -> dict[str, float]:
    """The form page, Count and Send as a browser asks for them; then the job."""
    from campaign import db
    from campaign.announcements.sending import run_due

    client = app.test_client()
    token = _token(client.get("/login").get_data(as_text=True))
    login = {"email": "lea@kommun-0.se", "password": PASSWORD, "csrf_token": token}
    client.post("/login", data=login)
    url = "/campaigns/bench/announcements/new"
    page, form_page = timed(lambda: client.get(url))
    data = {"csrf_token": _token(page.get_data(as_text=True)), **FORM}
    counted, count = timed(lambda: client.post(url, data={**data, "count": "1"}))
    assert "personer" in counted.get_data(as_text=True)
    sent, send = timed(lambda: client.post(url, data={**data, "send": "1"}))
    assert sent.status_code == 302, sent.get_data(as_text=True)[:2000]
    with app.app_context(), db.open_session(app) as session:
        started, cpu = time.perf_counter(), time.process_time()
        queued = 0
        while n := run_due(session, NOW):
            queued += n
        job, job_cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"form": form_page, "count": count, "send": send, "job": job, "job_cpu": job_cpu,
            "queued": queued}  # fmt: skip


def _token(page: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    assert match is not None
    return match.group(1)


def run(participants: int, folder: Path) -> dict[str, float]:
    from campaign import create_app, db, migrations
    from campaign.timing import FixedClock, install_clock

    app = create_app(
        {
            "INSTANCE_PATH": str(folder),
            "CAMPAIGN_DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
            "CAMPAIGN_SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": True,
        }
    )
    install_clock(app, FixedClock(NOW))
    migrations.upgrade(db.engine_of(app))
    with app.app_context(), db.open_session(app) as session:
        build(session, participants)
    result = through_the_app(app)
    db.engine_of(app).dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n = args.participants
    print(f"{n} participants in {MEMBERS} members, an announcement to all, "
          f"{args.repeat} runs on SQLite", flush=True)  # fmt: skip
    runs = []
    for number in range(1, args.repeat + 1):
        with tempfile.TemporaryDirectory() as folder:
            runs.append(run(n, Path(folder)))
        r = runs[-1]
        print(f"  run {number}: form page {r['form']:.2f} s, Count {r['count']:.2f} s, "
              f"Send {r['send']:.2f} s; the job {r['job']:.2f} s ({r['job_cpu']:.2f} s CPU) "
              f"for {r['queued']} mails", flush=True)  # fmt: skip
    for key in ("form", "count", "send", "job"):
        median = statistics.median(r[key] for r in runs)
        print(f"{key:>5}: median {median:6.2f} s")
    job = statistics.median(r["job"] for r in runs)
    print(f"the job queues {statistics.median(r['queued'] for r in runs) / job:.0f} mails/s")


if __name__ == "__main__":
    main()
