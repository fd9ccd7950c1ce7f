"""The dispatcher's pool of SMTP sessions: several messages on the wire at once, each on its
own session, a relay that takes fewer sessions than asked, and a batch slower than its lease."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign import db
from campaign.enrolment.holds import ParticipantHolds
from campaign.network.models import Campaign
from campaign.outbox.claims import claim
from campaign.outbox.dispatch import Settings, dispatch
from campaign.outbox.models import Message, MessageState
from campaign.outbox.pool import Pool
from campaign.outbox.transports import ConnectFailed, MemoryTransport, SMTPTransport
from tests.conftest import START, Network
from tests.outbox_helpers import SENDER, participant, queue_welcome
from tests.smtp import Sink, smtp_server

HOLDS = ParticipantHolds()


def _queue(app: Flask, session: Session, network: Network, count: int) -> set[str]:
    session.get(Campaign, network.campaign.id).rate_limit_per_minute = None
    with app.app_context():
        for n in range(count):
            queue_welcome(session, participant(session, network, f"p{n}@alpha.se"), START)
        session.commit()
    return set(session.scalars(select(Message.message_id)))


def _sent(session: Session) -> int:
    session.expire_all()
    query = select(func.count()).where(Message.state == MessageState.SENT)
    return session.scalar(query) or 0


@pytest.mark.parametrize("connections", [1, 3])
def test_messages_go_over_as_many_sessions_as_configured_each_once(
    app: Flask, session: Session, network: Network, connections: int
) -> None:
    queued = _queue(app, session, network, 12)
    sink = Sink(latency=0.02)  # each answer takes a while, so the sessions overlap
    settings = Settings(sender=SENDER, batch_size=50, connections=connections)
    with smtp_server(sink) as port, app.app_context():
        transport = SMTPTransport.from_url(f"smtp://127.0.0.1:{port}?starttls=off")
        report = dispatch(session, START, transport, settings, HOLDS)
    assert report.sent == 12 and _sent(session) == 12
    assert Counter(sink.message_ids()) == Counter(queued)  # each exactly once
    assert len({r.peer for r in sink.received}) == connections


class _Relay(MemoryTransport):
    """A relay that takes two sessions from one client and refuses a third."""

    opened: int = 0

    def connect(self) -> MemoryTransport:
        if self.opened == 2:
            raise ConnectFailed("421 4.7.0 too many connections from your host")
        self.opened += 1
        return self


def test_a_relay_that_takes_fewer_sessions_than_asked_still_gets_everything(
    app: Flask, session: Session, network: Network
) -> None:
    _queue(app, session, network, 10)
    relay = _Relay()
    settings = Settings(sender=SENDER, batch_size=50, connections=5)
    with app.app_context():
        report = dispatch(session, START, relay, settings, HOLDS)
    assert report.sent == 10 and report.connect_error is None
    assert relay.opened == 2 and len(relay.sent) == 10
    with Pool(_Relay(), 5) as pool:
        pool.open(5)
        assert pool.size == pool.idle == 2


def test_no_session_at_all_hands_the_batch_back(
    app: Flask, session: Session, network: Network
) -> None:
    _queue(app, session, network, 3)
    relay = _Relay()
    relay.opened = 2  # refuses from the first
    with app.app_context():
        report = dispatch(session, START, relay, Settings(sender=SENDER), HOLDS)
    assert report.connect_error and report.connect_error.startswith("421")
    session.expire_all()
    states = set(session.scalars(select(Message.state)))
    assert states == {MessageState.QUEUED}  # handed back, no attempt counted


def test_a_batch_slower_than_its_lease_renews_it_so_no_one_else_takes_it(
    app: Flask, session: Session, network: Network
) -> None:
    queued = _queue(app, session, network, 24)
    sink = Sink(latency=0.1)  # 24 messages on one session: about 2.4 s against a 1 s lease
    settings = Settings(sender=SENDER, batch_size=50, connections=1, lease=timedelta(seconds=1))
    taken: list[int] = []

    def another_dispatcher() -> None:
        """Tries to claim once the first lease would have run out without renewal."""
        threading.Event().wait(1.6)
        with db.open_session(app) as other:
            later = START + timedelta(seconds=1.6)
            taken.extend(
                row.id for row in claim(other, START, 50, timedelta(seconds=1), HOLDS, later)
            )

    with smtp_server(sink) as port, app.app_context():
        transport = SMTPTransport.from_url(f"smtp://127.0.0.1:{port}?starttls=off")
        rival = threading.Thread(target=another_dispatcher)
        rival.start()
        report = dispatch(session, START, transport, settings, HOLDS)
        rival.join()
    assert taken == []  # the lease was renewed in time
    assert report.sent == 24
    assert Counter(sink.message_ids()) == Counter(queued)
