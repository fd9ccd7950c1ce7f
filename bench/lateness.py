"""Lateness: how long after its due moment a mail leaves, in a steady stream of mail coming due.

    python bench/lateness.py [--rate 200] [--seconds 60] [--workers N] [--database-url URL]
                             [--quick]

Queues RATE x SECONDS messages whose due moments are spread evenly over SECONDS on the real
clock, starting a few seconds after the queueing, then lets real `campaign worker` processes
(1 on SQLite, 4 on PostgreSQL by default) send them to a local SMTP sink in its own process,
as the dispatch job does in production. With --database-url (a PostgreSQL server), a throwaway
database is made on it and dropped afterwards; SQLite in a temporary folder otherwise.

Prints the p50, p99 and max of sent minus due, measured at the sink (when each mail arrived
there) and as the outbox records it (Message.sent_at, the moment the dispatcher's run judged
what was due), the count sent, how many arrived later than the goal (5 s), and any never sent
or sent twice. Goal: p99 <= 5 s on SQLite with one worker and on PostgreSQL with four.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fleet import SENDER, Fleet, arrivals, percentile, running, throwaway_database  # noqa: E402

GOAL_SECONDS = 5.0
LEAD_SECONDS = 3.0  # from the end of the queueing to the first due moment


@dataclass(frozen=True)
class Outcome:
    """What one run measured (seconds, and counts of messages)."""

    due: int
    sent: int  # distinct Message-IDs that reached the sink
    duplicates: int  # arrivals beyond the first of a Message-ID
    late: int  # arrived more than GOAL_SECONDS after their due moment, or never
    offered: float  # messages coming due a second
    achieved: float  # messages arriving at the sink a second, from the first to the last
    wire: tuple[float, float, float]  # p50, p99, max of arrival minus due
    recorded: tuple[float, float, float]  # p50, p99, max of sent_at minus due_at


def main(argv: list[str] | None = None) -> Outcome:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=200.0, help="messages due a second")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long mail comes due")
    parser.add_argument("--workers", type=int, help="worker processes (1 SQLite, 4 PostgreSQL)")
    parser.add_argument("--database-url", help="a PostgreSQL server; SQLite when left out")
    parser.add_argument("--quick", action="store_true", help="50 a second for 4 s")
    args = parser.parse_args(argv)
    if args.quick:
        args.rate, args.seconds = 50.0, 4.0
    workers = args.workers or (4 if args.database_url else 1)
    with tempfile.TemporaryDirectory() as folder, _database(args.database_url, folder) as url:
        outcome = measure(Path(folder), url, args.rate, args.seconds, workers)
    _print(outcome)
    return outcome


@contextmanager
def _database(server_url: str | None, folder: str) -> Iterator[str]:
    """Yield the URL of an empty database: a throwaway one on the server, or a SQLite file."""
    if server_url is None:
        yield f"sqlite:///{Path(folder) / 'lateness.sqlite3'}"
        return
    with throwaway_database(server_url, "sim_lateness") as url:
        yield url


def measure(folder: Path, url: str, rate: float, seconds: float, workers: int) -> Outcome:
    """Queue the stream, let `workers` workers send it, and measure when each mail left."""
    app = _app(folder, url)
    count = max(1, round(rate * seconds))
    kind = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(
        f"{count} messages due, {rate:g} a second for {seconds:g} s, {workers} worker(s) on {kind}"
    )
    with running(Fleet(folder, url)) as fleet:
        fleet.start_sink()
        fleet.start_workers(workers)
        print("sink and workers started", flush=True)
        first_due = _queue(app, count, rate)
        _wait(app, count, first_due + timedelta(seconds=seconds))
    return _outcome(app, arrivals(fleet.sink_log), count, rate)


def _app(folder: Path, url: str):  # type: ignore[no-untyped-def]
    from campaign import create_app, db, migrations

    app = create_app(
        {
            "INSTANCE_PATH": str(folder / "instance"),
            "CAMPAIGN_DATABASE_URL": url,
            "CAMPAIGN_SECRET_KEY": "bench",
            "CAMPAIGN_MAIL_FROM": SENDER,
        }
    )
    migrations.upgrade(db.engine_of(app))
    return app


def _queue(app, count: int, rate: float) -> datetime:  # type: ignore[no-untyped-def]
    """Queue `count` messages due `rate` a second from a little after now; return the first due
    moment. The rows are those the outbox's enqueue writes, added in one bulk INSERT so that
    queueing a minute's stream takes less than the lead it is given."""
    from sqlalchemy import insert

    from campaign import db
    from campaign.outbox.compose import Footer, new_message_id, render
    from campaign.outbox.models import Message, MessageKind, MessageState

    rendered = render(
        "Påminnelse {{ n }}",
        "Hej!\n\n" + "Det här är en påminnelse om provgruppen för resfria möten. " * 10,
        {"n": 1},
        language="sv",
        footer=Footer("Du är med i provgruppen.", "https://k.example.se/u/x"),
    )
    queued_at = datetime.now(UTC)
    first_due = queued_at + timedelta(seconds=LEAD_SECONDS + count / 20_000)
    rows = [
        {
            "source_key": f"lateness:{n}",
            "recipient": f"p{n}@example.se",
            "kind": MessageKind.TEST,
            "subject": rendered.subject,
            "text_body": rendered.text,
            "html_body": rendered.html,
            "headers": {},
            "message_id": new_message_id(SENDER),
            "due_at": first_due + timedelta(seconds=n / rate),
            "state": MessageState.QUEUED,
            "attempts": 0,
            "created_at": queued_at,
        }
        for n in range(count)
    ]
    with db.open_session(app) as session:
        session.execute(insert(Message), rows)
        session.commit()
    print(f"queued in {(datetime.now(UTC) - queued_at).total_seconds():.1f} s", flush=True)
    return first_due


def _wait(app, count: int, last_due: datetime) -> None:  # type: ignore[no-untyped-def]
    """Print progress until every message is sent, or a minute after the last due moment."""
    from sqlalchemy import func, select

    from campaign import db
    from campaign.outbox.models import Message, MessageState

    started, shown = time.monotonic(), 0.0
    while True:
        with db.open_session(app) as session:
            sent = session.scalar(
                select(func.count()).where(Message.state == MessageState.SENT)
            )  # fmt: skip
        now = datetime.now(UTC)
        if sent == count or now > last_due + timedelta(seconds=60):
            break
        if time.monotonic() - shown >= 5:
            shown = time.monotonic()
            print(f"  {shown - started:5.0f} s: {sent} of {count} sent", flush=True)
        time.sleep(0.2)


def _outcome(app, received: list, count: int, rate: float) -> Outcome:  # type: ignore[no-untyped-def,type-arg]
    """Compare when each mail arrived (and was recorded as sent) with when it was due."""
    from sqlalchemy import select

    from campaign import db
    from campaign.outbox.models import Message

    with db.open_session(app) as session:
        rows = session.execute(select(Message.message_id, Message.due_at, Message.sent_at)).all()
    first: dict[str, float] = {}
    for arrival in received:
        first.setdefault(arrival.message_id, arrival.wall)
    due = {row.message_id: _aware(row.due_at).timestamp() for row in rows}
    wire = [first[m] - due[m] for m in due if m in first]
    recorded = [
        (_aware(r.sent_at) - _aware(r.due_at)).total_seconds() for r in rows if r.sent_at
    ]  # fmt: skip
    copies = Counter(a.message_id for a in received)
    return Outcome(
        due=count,
        sent=len(set(first) & set(due)),
        duplicates=sum(n - 1 for n in copies.values()),
        late=count - sum(1 for seconds in wire if seconds <= GOAL_SECONDS),
        wire=_spread(wire),
        recorded=_spread(recorded),
        offered=rate,
        achieved=_rate([a.wall for a in received]),
    )


def _rate(moments: list[float]) -> float:
    """Return how many arrived a second between the first arrival and the last."""
    if len(moments) < 2:
        return 0.0
    return (len(moments) - 1) / max(max(moments) - min(moments), 1e-9)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _spread(values: list[float]) -> tuple[float, float, float]:
    return percentile(values, 0.5), percentile(values, 0.99), max(values, default=0.0)


def _print(outcome: Outcome) -> None:
    print(f"sent: {outcome.sent} of {outcome.due} (duplicates at the sink: {outcome.duplicates})")
    print(
        f"arriving at the sink: {outcome.achieved:.0f} msg/s against {outcome.offered:g} coming due"
        f" (ratio {outcome.achieved / outcome.offered:.2f}: below 1 the backlog grows)"
    )
    print(
        "sent - due at the sink:     p50 {:6.2f} s, p99 {:6.2f} s, max {:6.2f} s".format(
            *outcome.wire
        )
    )
    print(
        "sent_at - due_at (outbox):  p50 {:6.2f} s, p99 {:6.2f} s, max {:6.2f} s".format(
            *outcome.recorded
        )
    )
    print(
        f"not sent within {GOAL_SECONDS:g} s of due: {outcome.late}"
        f" (goal: p99 <= {GOAL_SECONDS:g} s)"
    )


if __name__ == "__main__":
    main()
