"""Webhook deliveries per second to a local receiver, through the webhooks job's own code.

    python bench/webhooks.py [--deliveries 500] [--repeat 3]

Builds a fresh SQLite database per run with one campaign, one receiver (a threaded HTTP server
on 127.0.0.1 answering 204) and as many queued `participant.enrolled` events; then runs
`deliver_due` (claim, sign, POST, record, a commit per delivery) until none is due, and prints
each run and the median.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

NOW = datetime(2014, 9, 1, 8, 0, tzinfo=UTC)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def build(session: Any, url: str, deliveries: int) -> None:
    """One campaign led by one member, one receiver of it, and the queued events."""
    from campaign.network.models import Campaign, Membership, Organisation, OrganisationKind
    from campaign.webhooks import signing
    from campaign.webhooks.emit import emit
    from campaign.webhooks.models import WebhookSubscription

    member = Organisation(
        slug="kommun", name="Kommun kommun", short_name="Kommun",
        kind=OrganisationKind.MUNICIPALITY, created_at=NOW,
    )  # fmt: skip
    campaign = Campaign(
        slug="bench", name="Bänköverenskommelsen", lead_organisation=member,
        starts_on=date(2014, 1, 1), ends_on=date(2015, 3, 31), created_at=NOW,
    )  # fmt: skip
    joined = Membership(campaign=campaign, organisation=member, created_at=NOW, updated_at=NOW)
    session.add_all([member, campaign, joined])
    session.flush()
    session.add(WebhookSubscription(
        campaign_id=campaign.id, organisation_id=None, url=url,
        event_types="participant.enrolled", secret=signing.new_secret(), is_enabled=True,
        disabled_reason="", failures_in_a_row=0, created_at=NOW, updated_at=NOW,
    ))  # fmt: skip
    session.flush()
    for n in range(deliveries):
        data = {"participant_id": n, "organisation_id": member.id, "pilot_group_id": None}
        emit(session, campaign_id=campaign.id, organisation_id=member.id,
             event_type="participant.enrolled", data=data, now=NOW)  # fmt: skip
    session.commit()


def run(deliveries: int, folder: Path, url: str) -> tuple[int, float]:
    from campaign import create_app, db, migrations
    from campaign.webhooks.delivery import Settings, deliver_due

    app = create_app(
        {
            "INSTANCE_PATH": str(folder),
            "CAMPAIGN_SECRET_KEY": "bench",
            "CAMPAIGN_DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
        }
    )
    migrations.upgrade(db.engine_of(app))
    settings = Settings(timeout=5.0, allowed=frozenset({"http", "private"}), batch=100)
    with app.app_context(), db.open_session(app) as session:
        build(session, url, deliveries)
        sent, started = 0, time.perf_counter()
        while counts := deliver_due(session, NOW, settings):
            sent += counts.get("succeeded", 0)
        seconds = time.perf_counter() - started
    db.engine_of(app).dispose()
    return sent, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    print(f"{args.deliveries} deliveries to one local receiver, {args.repeat} runs on SQLite")
    rates = []
    for number in range(1, args.repeat + 1):
        with tempfile.TemporaryDirectory() as folder:
            sent, seconds = run(args.deliveries, Path(folder), url)
        rates.append(sent / seconds)
        print(f"  run {number}: {sent} delivered in {seconds:.2f} s, {rates[-1]:.0f}/s", flush=True)
    print(f"median: {statistics.median(rates):.0f} deliveries/s")
    server.shutdown()


if __name__ == "__main__":
    main()
