"""Dispatch throughput against raw smtplib, to the same local aiosmtpd sink, in the same run.

    python bench/dispatch.py [--count 10000] [--repeat 3] [--connections 2] [--dkim]
                             [--latency SECONDS] [--quick]

Queues COUNT messages in a fresh SQLite database, sends them with the real dispatcher
(claim, compose, send over a pool of CONNECTIONS sessions, record each outcome), and sends the
same messages, pre-built, with raw smtplib over one persistent connection. The sink runs in its
own process; each measurement in a fresh child process, in turns. Prints the median rate of
each and their ratio; with --dkim, the dispatcher's rate with DKIM signing on (a 2048-bit RSA
key); and the memory the dispatching itself takes (the peak resident set size while sending,
less the resident set size before it) for COUNT and 5 x COUNT messages. With --latency the sink
answers each mail that much later, as a relay does (0.004: a 4 ms relay).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

SENDER = "Kampanj <kampanj@kungalv.se>"


def sink(port: int, latency: float = 0.0) -> None:
    """Run an aiosmtpd server that accepts and discards everything (its own process), answering
    each message after `latency` seconds, as a relay that hands it on first does."""
    import asyncio

    from aiosmtpd.controller import Controller

    class Discard:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            if latency:
                await asyncio.sleep(latency)
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


def _dkim_key(folder: Path) -> tuple[str, str, bytes]:
    """A fresh 2048-bit RSA key, as a DKIM setting (selector, domain, PEM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return "kampanj", "kungalv.se", pem


def _resident() -> dict[str, int]:
    """This process's resident set size now and at its peak (VmRSS, VmHWM), in bytes."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) * 1024
    return values


def ours(count: int, port: int, connections: int = 2, dkim: bool = False) -> dict[str, float]:
    """Queue and dispatch `count` messages in this (fresh) process."""
    from campaign import db
    from campaign.outbox.dispatch import Settings, dispatch
    from campaign.outbox.policy import policy_of
    from campaign.outbox.transports import SMTPTransport

    with tempfile.TemporaryDirectory() as folder:
        app = _app(Path(folder), port)
        queue_seconds = _queue(app, count)
        settings = Settings(
            sender=SENDER,
            batch_size=500,
            time_budget_seconds=3600,
            connections=connections,
            dkim=_dkim_key(Path(folder)) if dkim else None,
        )
        transport = SMTPTransport.from_url(f"smtp://127.0.0.1:{port}?starttls=off")
        Path("/proc/self/clear_refs").write_text("5")  # the peak starts again from here
        before = _resident()["VmRSS"]
        started = time.perf_counter()
        with app.app_context(), db.open_session(app) as session:
            now = datetime.now(UTC)
            report = dispatch(session, now, transport, settings, policy_of(app))
        seconds = time.perf_counter() - started
        rise = _resident()["VmHWM"] - before
    assert report.sent == count, report
    return {
        "rate": count / seconds,
        "seconds": seconds,
        "queue_seconds": queue_seconds,
        "rise_mib": rise / 2**20,
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


def _child(kind: str, count: int, port: int, *options: str) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--count", str(count), "--port", str(port)]
        + list(options),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument("--dkim", action="store_true", help="also measure with DKIM signing")
    parser.add_argument("--quick", action="store_true", help="100 messages, one run")
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds the sink takes to answer each mail"
    )
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--child", choices=["ours", "ours-dkim", "raw", "sink"])
    args = parser.parse_args(argv)
    if args.quick:
        args.count, args.repeat = 100, 1
    if args.child == "sink":
        sink(args.port, args.latency)
        return {}
    if args.child:
        if args.child == "raw":
            result = raw(args.count, args.port)
        else:
            result = ours(args.count, args.port, args.connections, args.child == "ours-dkim")
        print(json.dumps(result))
        return result
    with _sink_process(args.latency) as port:
        return _compare(args, port)


@contextlib.contextmanager
def _sink_process(latency: float) -> Iterator[int]:
    """Run the sink in its own process for the duration of the block; yield its port."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, __file__, "--child", "sink", "--port", str(port)]
        + ["--latency", str(latency)]
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        server.wait()


def _compare(args: argparse.Namespace, port: int) -> dict[str, float]:
    """Measure each in turns and print the medians and ratios."""
    pool = ("--connections", str(args.connections))
    print(
        f"{args.count} messages, {args.repeat} runs each, {args.connections} connections, "
        f"sink in its own process answering after {args.latency * 1000:.0f} ms, "
        f"{os.cpu_count()} cores",
        flush=True,
    )
    our_runs, raw_runs, dkim_runs = [], [], []
    for run in range(1, args.repeat + 1):
        our_runs.append(_child("ours", args.count, port, *pool))
        raw_runs.append(_child("raw", args.count, port))
        line = (
            f"  run {run}: dispatcher {our_runs[-1]['rate']:7.0f} msg/s, "
            f"raw smtplib {raw_runs[-1]['rate']:7.0f} msg/s"
        )
        if args.dkim:
            dkim_runs.append(_child("ours-dkim", args.count, port, *pool))
            line += f", dispatcher with DKIM {dkim_runs[-1]['rate']:7.0f} msg/s"
        print(line, flush=True)
    figures = {
        "ours": statistics.median(r["rate"] for r in our_runs),
        "raw": statistics.median(r["rate"] for r in raw_runs),
        "queue": statistics.median(args.count / r["queue_seconds"] for r in our_runs),
    }
    figures["ratio"] = figures["ours"] / figures["raw"]
    print(f"dispatcher (claim, compose, send, record): median {figures['ours']:7.0f} msg/s")
    print(f"raw smtplib, one persistent connection:    median {figures['raw']:7.0f} msg/s")
    print(f"ratio dispatcher / raw:                     {figures['ratio']:.2f}")
    if dkim_runs:
        figures["dkim"] = statistics.median(r["rate"] for r in dkim_runs)
        print(f"dispatcher with DKIM (RSA 2048, OpenSSL):  median {figures['dkim']:7.0f} msg/s")
    print(f"queueing into the outbox:                  median {figures['queue']:7.0f} msg/s")
    big = _child("ours", args.count * 5, port, *pool)
    figures["rise"], figures["rise_5x"] = our_runs[0]["rise_mib"], big["rise_mib"]
    print(
        f"memory the sending takes, {args.count} messages: {figures['rise']:.1f} MiB; "
        f"{args.count * 5} messages: {figures['rise_5x']:.1f} MiB "
        f"(dispatch {big['rate']:.0f} msg/s)"
    )
    return figures


if __name__ == "__main__":
    main()
