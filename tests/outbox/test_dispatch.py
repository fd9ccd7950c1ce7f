"""Dispatch to a real SMTP server on 127.0.0.1: delivery, retries, failures, outages."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign import outbox
from campaign.enrolment.holds import ParticipantHolds
from campaign.enrolment.models import Participant, ParticipantStatus
from campaign.network.models import Campaign
from campaign.outbox.claims import claim
from campaign.outbox.dispatch import Settings, dispatch
from campaign.outbox.models import Message, MessageState, Suppression, SuppressionReason
from campaign.outbox.outcomes import MAX_ATTEMPTS, retry_delay
from campaign.outbox.transports import SMTPTransport
from campaign.timing import FixedClock, clock_of
from tests.conftest import START, Network
from tests.outbox_helpers import SENDER, participant, queue_welcome
from tests.smtp import Sink, free_port, smtp_server

SETTINGS = Settings(sender=SENDER, batch_size=50)
HOLDS = ParticipantHolds()


def _clock(app: Flask) -> FixedClock:
    clock = clock_of(app)
    assert isinstance(clock, FixedClock)
    return clock


def _states(session: Session) -> dict[MessageState, int]:
    session.expire_all()
    return dict(session.execute(select(Message.state, func.count()).group_by(Message.state)).all())


def _queue(app: Flask, session: Session, network: Network, count: int, prefix: str = "p") -> None:
    with app.app_context():
        for n in range(count):
            person = participant(session, network, f"{prefix}{n}@alpha.se", name=f"Öberg {n}")
            queue_welcome(session, person, START)
        session.commit()


def test_delivers_both_parts_with_headers(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    _queue(app, session, network, 3)
    with app.app_context():
        report = dispatch(session, _clock(app).now(), transport, SETTINGS, HOLDS)
    assert report.sent == 3 and _states(session) == {MessageState.SENT: 3}
    session.expire_all()
    # Two sessions send side by side, so the server may see the three in any order.
    (first,) = [r for r in server.received if r.recipients == ["p0@alpha.se"]]
    mail = first.parsed()
    assert first.sender.startswith("bounces+")  # its own return address (VERP)
    assert first.sender.endswith("@kungalv.se")
    assert mail["Subject"] == "Välkommen till provgruppen, Öberg 0!"
    assert mail.get_content_type() == "multipart/alternative"
    plain, html = mail.get_payload()
    assert "Välkommen till **provgruppen** för resfria möten i Öckerö." in plain.get_content()
    assert "<strong>provgruppen</strong>" in html.get_content()
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["List-Unsubscribe"].startswith("<https://kampanj.example.se/u/")
    assert "<mailto:kampanj@kungalv.se?subject=unsubscribe>" in mail["List-Unsubscribe"]
    stored = session.scalars(select(Message).order_by(Message.id)).first()
    assert stored.message_id == mail["Message-ID"]
    assert stored.last_answer == "250 Message accepted" and stored.sent_at == START


def test_queueing_the_same_source_twice_keeps_one(
    app: Flask, session: Session, network: Network
) -> None:
    with app.app_context():
        person = participant(session, network, "a@alpha.se")
        queue_welcome(session, person, START)
        with pytest.raises(AssertionError):  # the helper insists on a new row
            queue_welcome(session, person, START)
    assert session.scalar(select(func.count()).select_from(Message)) == 1


@pytest.mark.parametrize("answer", ["421 4.7.0 Try again later", "451 4.3.0 Mailbox busy"])
def test_temporary_answers_are_retried_with_the_same_message_id(
    app: Flask,
    session: Session,
    network: Network,
    sink,
    answer: str,  # type: ignore[no-untyped-def]
) -> None:
    server, transport = sink
    server.data_answers = [answer, answer]
    _queue(app, session, network, 1)
    clock = _clock(app)
    with app.app_context():
        for attempt in (1, 2):
            dispatch(session, clock.now(), transport, SETTINGS, HOLDS)
            session.expire_all()
            message = session.scalars(select(Message)).one()
            assert message.state is MessageState.RETRY and message.attempts == attempt
            assert message.last_answer == answer
            assert message.next_attempt_at == clock.now() + retry_delay(attempt)
            dispatch(
                session, clock.now(), transport, SETTINGS, HOLDS
            )  # not yet due: nothing happens
            session.refresh(message)
            assert message.attempts == attempt and server.received == []
            clock.advance(retry_delay(attempt))
        dispatch(session, clock.now(), transport, SETTINGS, HOLDS)
    assert _states(session) == {MessageState.SENT: 1}
    assert server.message_ids() == [session.scalars(select(Message.message_id)).one()]
    assert retry_delay(1) == timedelta(minutes=1) and retry_delay(3) == timedelta(minutes=4)
    assert retry_delay(20) == timedelta(hours=2)


def test_gives_up_after_the_last_attempt(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    server.data_answers = ["451 busy"] * MAX_ATTEMPTS
    _queue(app, session, network, 1)
    with app.app_context():
        for _ in range(MAX_ATTEMPTS):
            dispatch(session, _clock(app).now(), transport, SETTINGS, HOLDS)
            _clock(app).advance(timedelta(hours=3))
    session.expire_all()
    message = session.scalars(select(Message)).one()
    assert message.state is MessageState.FAILED and message.attempts == MAX_ATTEMPTS


def test_550_fails_and_suppresses_the_address(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    server.rcpt_answers = {"p0@alpha.se": ["550 5.1.1 No such user"]}
    _queue(app, session, network, 2)
    with app.app_context():
        report = dispatch(session, _clock(app).now(), transport, SETTINGS, HOLDS)
    assert report.sent == 1 and report.failed == 1
    session.expire_all()
    failed = session.scalars(select(Message).where(Message.recipient == "p0@alpha.se")).one()
    assert failed.state is MessageState.FAILED and failed.last_answer == "550 5.1.1 No such user"
    suppression = session.scalars(select(Suppression)).one()
    assert suppression.email == "p0@alpha.se"
    assert suppression.reason is SuppressionReason.HARD_BOUNCE
    # Every later send respects the suppression list.
    with app.app_context():
        queue_welcome(session, session.get(Participant, failed.participant_id), START, step="02")
        session.commit()
        report = dispatch(session, _clock(app).now(), transport, SETTINGS, HOLDS)
    assert report.suppressed == 1 and [r.recipients for r in server.received] == [["p1@alpha.se"]]


def test_hang_up_mid_batch_loses_nothing(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    server.hang_up_after = 4  # the 5th message arrives but its answer never does
    _queue(app, session, network, 10)
    with app.app_context():
        report = dispatch(session, _clock(app).now(), transport, SETTINGS, HOLDS)
        assert report.sent == 9 and report.retried == 1
        _clock(app).advance(retry_delay(1))
        dispatch(session, _clock(app).now(), transport, SETTINGS, HOLDS)
    assert _states(session) == {MessageState.SENT: 10}
    ids = server.message_ids()
    queued = set(session.scalars(select(Message.message_id)))
    assert set(ids) == queued and len(ids) == 11  # one duplicate, with the same Message-ID


def test_server_down_leaves_the_backlog_queued_until_it_returns(
    app: Flask, session: Session, network: Network
) -> None:
    port = free_port()
    transport = SMTPTransport.from_url(f"smtp://127.0.0.1:{port}?starttls=off&timeout=2")
    _queue(app, session, network, 5)
    with app.app_context():
        for _ in range(3):
            report = dispatch(session, _clock(app).now(), transport, SETTINGS, HOLDS)
            assert report.sent == 0 and "127.0.0.1" in (report.connect_error or "")
    assert _states(session) == {MessageState.QUEUED: 5}
    assert set(session.scalars(select(Message.attempts))) == {0}  # an outage costs no attempts
    sink = Sink()
    with smtp_server(sink, port), app.app_context():
        report = dispatch(session, _clock(app).now(), transport, SETTINGS, HOLDS)
    assert report.sent == 5 and len(sink.received) == 5


def test_rate_limit_per_campaign(app: Flask, session: Session, network: Network, sink) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    session.get(Campaign, network.campaign.id).rate_limit_per_minute = 4
    session.commit()
    _queue(app, session, network, 10)
    clock = _clock(app)
    with app.app_context():
        first = dispatch(session, clock.now(), transport, SETTINGS, HOLDS)
        assert first.sent == 4 and first.deferred == 6
        clock.advance(timedelta(seconds=30))
        assert (
            dispatch(session, clock.now(), transport, SETTINGS, HOLDS).sent == 0
        )  # the minute is not over
        clock.advance(timedelta(seconds=31))
        assert dispatch(session, clock.now(), transport, SETTINGS, HOLDS).sent == 4
        clock.advance(timedelta(seconds=61))
        assert dispatch(session, clock.now(), transport, SETTINGS, HOLDS).sent == 2
    assert len(server.received) == 10


def test_rate_limit_counts_what_other_dispatchers_are_sending(
    app: Flask,
    session: Session,
    network: Network,
    sink,  # type: ignore[no-untyped-def]
) -> None:
    server, transport = sink
    session.get(Campaign, network.campaign.id).rate_limit_per_minute = 4
    session.commit()
    _queue(app, session, network, 10)
    clock = _clock(app)
    other = claim(
        session, clock.now(), 3, timedelta(minutes=5), HOLDS
    )  # another worker is sending 3
    clock.advance(timedelta(seconds=1))
    with app.app_context():
        report = dispatch(session, clock.now(), transport, SETTINGS, HOLDS)
    assert len(other) == 3 and report.sent == 1 and report.deferred == 6  # 4 - 3 in flight
    assert len(server.received) == 1


def test_paused_participants_wait_and_expired_leases_are_reclaimed(
    app: Flask,
    session: Session,
    network: Network,
    sink,  # type: ignore[no-untyped-def]
) -> None:
    server, transport = sink
    _queue(app, session, network, 2)
    people = session.scalars(select(Message.participant_id).order_by(Message.id)).all()
    session.get(Participant, people[0]).status = ParticipantStatus.PAUSED
    session.commit()
    clock = _clock(app)
    claimed = claim(
        session, clock.now(), 10, timedelta(minutes=5), HOLDS
    )  # a worker that then dies
    assert [session.get(Message, row.id).participant_id for row in claimed] == [people[1]]
    with app.app_context():
        assert (
            dispatch(session, clock.now(), transport, SETTINGS, HOLDS).sent == 0
        )  # leased elsewhere
        clock.advance(timedelta(minutes=5, seconds=1))
        assert dispatch(session, clock.now(), transport, SETTINGS, HOLDS).sent == 1  # lease expired
        session.get(Participant, people[0]).status = ParticipantStatus.ACTIVE
        session.commit()
        assert dispatch(session, clock.now(), transport, SETTINGS, HOLDS).sent == 1
    assert len(server.received) == 2


def test_sends_what_is_due_at_the_moment_it_is_given_not_the_clock(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    later = START + timedelta(days=2)
    with app.app_context():
        queue_welcome(session, participant(session, network, "a@alpha.se"), later)
        session.commit()
        assert dispatch(session, START, transport, SETTINGS, HOLDS).sent == 0  # not yet due
        report = dispatch(session, later, transport, SETTINGS, HOLDS)
    assert report.sent == 1 and _clock(app).now() == START
    session.expire_all()
    assert session.scalars(select(Message.sent_at)).one() == later
    assert server.received[0].parsed()["Date"].datetime == later


def test_a_spent_time_budget_sends_nothing(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    _queue(app, session, network, 2)
    spent = Settings(sender=SENDER, time_budget_seconds=0)
    with app.app_context():
        assert dispatch(session, START, transport, spent, HOLDS).sent == 0
    assert _states(session) == {MessageState.QUEUED: 2} and server.received == []


def test_mail_to_a_participant_who_has_stopped_is_cancelled(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    _queue(app, session, network, 2)
    people = session.scalars(select(Message.participant_id).order_by(Message.id)).all()
    session.get(Participant, people[0]).status = ParticipantStatus.ERASED  # address not suppressed
    session.commit()
    with app.app_context():
        report = dispatch(session, START, transport, SETTINGS, HOLDS)
    assert report.sent == 1 and report.suppressed == 1
    session.expire_all()
    stopped = session.scalars(select(Message).where(Message.participant_id == people[0])).one()
    assert stopped.state is MessageState.CANCELLED
    assert stopped.last_answer == "not sent: the participant gets no more mail"
    assert [r.recipients for r in server.received] == [["p1@alpha.se"]]


def test_the_dispatcher_knows_no_participants_or_members() -> None:
    """It is handed its policy (campaign/enrolment/holds.py) from above."""
    package = Path(outbox.__file__).parent
    for name in ("dispatch", "claims", "limits", "outcomes", "policy"):
        tree = ast.parse((package / f"{name}.py").read_text(encoding="utf-8"))
        imported = {
            node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        } | {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        assert not {
            m for m in imported if m.startswith(("campaign.enrolment", "campaign.network"))
        }, name


def test_a_lease_runs_from_the_moment_the_run_has_reached(
    app: Flask, session: Session, network: Network
) -> None:
    _queue(app, session, network, 2)
    lease, later = timedelta(minutes=5), START + timedelta(minutes=6)
    first = claim(session, START, 1, lease, HOLDS)  # a worker that then dies
    assert session.get(Message, first[0].id).lease_until == START + lease
    # A run that began at START and has spent six minutes: due is judged at START, leases at
    # the moment reached, so the dead worker's message is taken over and leased from then on.
    taken = claim(session, START, 10, lease, HOLDS, leased_at=later)
    assert {row.id for row in taken} >= {first[0].id} and len(taken) == 2
    session.expire_all()
    assert {m.lease_until for m in session.scalars(select(Message))} == {later + lease}
