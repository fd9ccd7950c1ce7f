"""Dispatch throughput against raw smtplib, to the same local aiosmtpd sink, in the same run.

    python bench/dispatch.py [--count 10000] [--repeat 3]

Queues COUNT messages in a fresh SQLite database, sends them with the real dispatcher
(claim, compose, send over one connection, record each outcome), and sends the same messages,
pre-built, with raw smtplib over one persistent connection. The sink runs in its own process.
Prints the median rate of each, their ratio, and the dispatcher's peak memory for COUNT and
5 x COUNT messages (each measured in a fresh child process).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

SENDER = "Kampanj <kampanj@kungalv.se>"


def sink(port: int) -> None:
    """Run an aiosmtpd server that accepts and discards everything (its own process)."""
    import asyncio

    from aiosmtpd.controller import Controller

    class Discard:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            return "250 OK"

    controller = Controller(Discard(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        asyncio.run(asyncio.sleep(10**6))
    finally:
        controller.stop()


def _app(folder: Path, port: int):  # type: ignore[no-untyped-def]
    from campaign import create_app, db, migrations

    app = create_app(
        {
            "INSTANCE_PATH": str(folder),
            "CAMPAIGN_DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
            "CAMPAIGN_SMTP_URL": f"smtp://127.0.0.1:{port}?starttls=off",
            "CAMPAIGN_MAIL_FROM": SENDER,
            "CAMPAIGN_SECRET_KEY": "bench",
        }
    )
    migrations.upgrade(db.engine_of(app))
    return app


def _queue(app, count: int) -> float:  # type: ignore[no-untyped-def]
    from campaign import db
    from campaign.outbox.compose import Footer, render
    from campaign.outbox.models import MessageKind
    from campaign.outbox.queue import enqueue

    body = "Hej {{ name }}!\n\n" + "Välkommen till provgruppen för resfria möten. " * 20
    rendered = render(
        "Välkommen, {{ name }}",
        body,
        {"name": "Åsa Öberg"},
        language="sv",
        footer=Footer("Du är med i provgruppen.", "https://k.example.se/u/x"),
    )
    due = datetime.now(UTC) - timedelta(minutes=1)
    started = time.perf_counter()
    with app.app_context(), db.open_session(app) as session:
        for n in range(count):
            enqueue(
                session,
                now=due,
                source_key=f"bench:{n}",
                recipient=f"p{n}@example.se",
                kind=MessageKind.TEST,
                rendered=rendered,
                due_at=due,
                sender=SENDER,
            )
        session.commit()
    return time.perf_counter() - started


def ours(count: int, port: int) -> dict[str, float]:
    """Queue and dispatch `count` messages in this (fresh) process."""
    from campaign import db
    from campaign.outbox.dispatch import Settings, dispatch
    from campaign.outbox.policy import policy_of
    from campaign.outbox.transports import SMTPTransport

    with tempfile.TemporaryDirectory() as folder:
        app = _app(Path(folder), port)
        queue_seconds = _queue(app, count)
        settings = Settings(sender=SENDER, batch_size=500, time_budget_seconds=3600)
        transport = SMTPTransport.from_url(f"smtp://127.0.0.1:{port}?starttls=off")
        started = time.perf_counter()
        with app.app_context(), db.open_session(app) as session:
            now = datetime.now(UTC)
            report = dispatch(session, now, transport, settings, policy_of(app))
        seconds = time.perf_counter() - started
    assert report.sent == count, report
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "rate": count / seconds,
        "seconds": seconds,
        "queue_seconds": queue_seconds,
        "peak_mib": peak_kib / 1024,
    }


def raw(count: int, port: int) -> dict[str, float]:
    """Send the same messages, built beforehand from the same rows, with plain smtplib."""
    from sqlalchemy import select

    from campaign import db
    from campaign.outbox.compose import compose, envelope_address
    from campaign.outbox.models import Message

    with tempfile.TemporaryDirectory() as folder:
        app = _app(Path(folder), port)
        _queue(app, count)
        now = datetime.now(UTC)
        with db.open_session(app) as session:
            messages = [
                (
                    m.recipient,
                    compose(
                        sender=SENDER,
                        recipient=m.recipient,
                        subject=m.subject,
                        text=m.text_body,
                        html=m.html_body,
                        message_id=m.message_id,
                        date=now,
                        headers=m.headers,
                    ),
                )
                for m in session.scalars(select(Message).order_by(Message.id))
            ]
    sender = envelope_address(SENDER)
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for recipient, data in messages:
            smtp.sendmail(sender, [recipient], data)
    seconds = time.perf_counter() - started
    return {"rate": count / seconds, "seconds": seconds, "bytes": len(messages[0][1])}


def _child(kind: str, count: int, port: int) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--count", str(count), "--port", str(port)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--child", choices=["ours", "raw", "sink"])
    args = parser.parse_args()
    if args.child == "sink":
        sink(args.port)
        return
    if args.child:
        result = (ours if args.child == "ours" else raw)(args.count, args.port)
        print(json.dumps(result))
        return

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, __file__, "--child", "sink", "--port", str(port)])
    try:
        time.sleep(1.5)
        print(
            f"{args.count} messages, {args.repeat} runs each, sink in its own process, "
            f"{os.cpu_count()} cores",
            flush=True,
        )
        our_runs, raw_runs = [], []
        for run in range(1, args.repeat + 1):
            our_runs.append(_child("ours", args.count, port))
            raw_runs.append(_child("raw", args.count, port))
            print(
                f"  run {run}: dispatcher {our_runs[-1]['rate']:7.0f} msg/s, "
                f"raw smtplib {raw_runs[-1]['rate']:7.0f} msg/s",
                flush=True,
            )
        ours_median = statistics.median(r["rate"] for r in our_runs)
        raw_median = statistics.median(r["rate"] for r in raw_runs)
        queue_median = statistics.median(args.count / r["queue_seconds"] for r in our_runs)
        big = _child("ours", args.count * 5, port)
        print(f"dispatcher (claim, compose, send, record): median {ours_median:7.0f} msg/s")
        print(f"raw smtplib, one persistent connection:    median {raw_median:7.0f} msg/s")
        print(f"ratio dispatcher / raw:                     {ours_median / raw_median:.2f}")
        print(f"queueing into the outbox:                  median {queue_median:7.0f} msg/s")
        print(
            f"peak RSS, {args.count} messages: {our_runs[0]['peak_mib']:.0f} MiB; "
            f"{args.count * 5} messages: {big['peak_mib']:.0f} MiB "
            f"(dispatch {big['rate']:.0f} msg/s)"
        )
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
