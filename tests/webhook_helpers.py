"""Building blocks for the webhook tests: a receiver of Alpha's with one delivery, and a local
receiver on 127.0.0.1 that answers as a test tells it to."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy.orm import Session

from campaign.webhooks import signing
from campaign.webhooks.emit import queue
from campaign.webhooks.models import WebhookSubscription
from tests.conftest import START, Network

EVERY_EVENT = (
    "participant.enrolled participant.confirmed participant.paused participant.unsubscribed"
    " participant.bounced participant.erased rsvp.changed attendance.marked"
    " questionnaire.answered message.failed import.applied campaign.phase_changed"
)


def subscription(
    session: Session, network: Network, organisation_id: int | None, url: str, **values: object
) -> WebhookSubscription:
    """Add an enabled subscription to every event (written straight in: no address check)."""
    made = WebhookSubscription(
        campaign_id=network.campaign.id,
        organisation_id=organisation_id,
        url=url,
        event_types=EVERY_EVENT,
        secret=signing.new_secret(),
        is_enabled=True,
        disabled_reason="",
        failures_in_a_row=0,
        created_by_id=network.rep_alpha.id if organisation_id else network.lead.id,
        created_at=START,
        updated_at=START,
        **values,
    )
    session.add(made)
    session.flush()
    return made


def webhook_objects(session: Session, network: Network) -> dict[str, str]:
    """Give Alpha a receiver with one delivery; return their ids by URL parameter."""
    made = subscription(
        session, network, network.alpha.id, "https://hooks.alpha.se/ALPHA-SECRET-TIP"
    )
    delivery = queue(
        session,
        made,
        "test",
        {"campaign_id": network.campaign.id, "subscription_id": made.id},
        START,
    )
    session.commit()
    return {"webhook_id": str(made.id), "webhook_delivery_id": str(delivery.id)}


@dataclass
class Received:
    """What the local receiver got: each request's headers and body."""

    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A receiver on 127.0.0.1: answers `status` (or hangs for `hang` seconds first)."""

    port: int = 0
    status: int = 200
    hang: float = 0.0
    received: list[Received] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


@contextmanager
def local_receiver(status: int = 200) -> Iterator[Receiver]:
    """Run a threaded HTTP server on 127.0.0.1 for the test's length."""
    receiver = Receiver(status=status)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            receiver.received.append(
                Received({k.lower(): v for k, v in self.headers.items()}, body)
            )
            if receiver.hang:
                time.sleep(receiver.hang)
            self.send_response(receiver.status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
