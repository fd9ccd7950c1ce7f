"""The processes of a sending simulation, for bench/lateness.py and bench/scale.py: a local SMTP
sink in its own process that notes each Message-ID and when it arrived, real `campaign worker`
processes, a throwaway PostgreSQL database, and the CPU time of them all.

    python bench/fleet.py sink --port PORT --log FILE [--clock FILE]

runs the sink alone (the scripts start it so). Each line of its log is a Message-ID, the wall
time it arrived (Unix seconds) and, with a shared clock file, the simulated moment it arrived.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SENDER = "Kampanj <kampanj@kungalv.se>"
MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_sink(port: int, log: Path, clock_file: Path | None) -> None:
    """Accept every mail on `port` and note its Message-ID and arrival in `log` (this process)."""
    import asyncio

    from aiosmtpd.controller import Controller

    from campaign.timing import SharedClock

    clock = SharedClock(clock_file) if clock_file else None
    out = log.open("a", encoding="utf-8", buffering=1)

    class Noting:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            found = MESSAGE_ID.search(envelope.original_content)
            message_id = found.group(1).decode() if found else "-"
            simulated = clock.now().isoformat() if clock else "-"
            out.write(f"{message_id}\t{time.time():.6f}\t{simulated}\n")
            return "250 OK"

    controller = Controller(Noting(), hostname="127.0.0.1", port=port, decode_data=False)
    controller.start()
    try:
        asyncio.run(asyncio.sleep(10**7))
    finally:
        controller.stop()


@dataclass(frozen=True)
class Arrival:
    message_id: str
    wall: float  # Unix seconds
    simulated: datetime | None  # the shared clock's moment, in a simulation


def arrivals(log: Path) -> list[Arrival]:
    """Return what the sink received, in order."""
    found = []
    for line in log.read_text(encoding="utf-8").splitlines():
        message_id, wall, simulated = line.split("\t")
        moment = datetime.fromisoformat(simulated) if simulated != "-" else None
        found.append(Arrival(message_id, float(wall), moment))
    return found


@dataclass
class Fleet:
    """The sink and the workers of one run, in `folder`; stopped on leaving `running()`."""

    folder: Path
    database_url: str
    clock_file: Path | None = None
    port: int = field(default_factory=free_port)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    seen_cpu: dict[int, float] = field(default_factory=dict)

    @property
    def sink_log(self) -> Path:
        return self.folder / "sink.log"

    def environment(self) -> dict[str, str]:
        """Return the settings a worker runs with: this database, the sink, the clock."""
        environment = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGN_")}
        environment.update(
            CAMPAIGN_DATABASE_URL=self.database_url,
            CAMPAIGN_SMTP_URL=f"smtp://127.0.0.1:{self.port}?starttls=off&timeout=30",
            CAMPAIGN_MAIL_FROM=SENDER,
            CAMPAIGN_SECRET_KEY="bench",
            CAMPAIGN_INSTANCE_PATH=str(self.folder / "instance"),
        )
        if self.clock_file:
            environment["CAMPAIGN_CLOCK_FILE"] = str(self.clock_file)
        return environment

    def start_sink(self) -> None:
        """Start the sink in its own process and wait until it answers."""
        command = [sys.executable, __file__, "sink", "--port", str(self.port)]
        command += ["--log", str(self.sink_log)]
        command += ["--clock", str(self.clock_file)] if self.clock_file else []
        self.sink_log.touch()
        self.processes.append(subprocess.Popen(command, cwd=ROOT))
        _wait_for(lambda: _answers(self.port), 30, "the sink did not start")

    def start_workers(self, count: int, only: tuple[str, ...] = ()) -> None:
        """Start `count` real `campaign worker` processes and wait until each runs its jobs."""
        logs = [self.folder / f"worker{n}.log" for n in range(count)]
        options = [word for name in only for word in ("--only", name)]
        for log in logs:
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "campaign", "worker", *options],
                    env=self.environment(),
                    cwd=self.folder,
                    stdout=log.open("w"),
                    stderr=subprocess.STDOUT,
                )
            )
        _wait_for(lambda: all(_started(log) for log in logs), 60, "a worker did not start")

    def cpu_seconds(self) -> float:
        """Return the CPU time the sink and the workers have used so far (as last seen)."""
        for process in self.processes:
            seen = self.seen_cpu.get(process.pid, 0.0)
            self.seen_cpu[process.pid] = max(seen, process_cpu_seconds(process.pid))
        return sum(self.seen_cpu.values())

    def stop(self) -> None:
        """Stop every process of the fleet, the workers first."""
        for process in reversed(self.processes):
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def running(fleet: Fleet) -> Iterator[Fleet]:
    """Yield the fleet, stopping its processes however the block ends."""
    try:
        yield fleet
    finally:
        fleet.stop()


def process_cpu_seconds(pid: int) -> float:
    """Return the user and system CPU time of a running process (Linux); 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _started(log: Path) -> bool:
    return "The scheduler is running" in log.read_text(encoding="utf-8", errors="replace")


def _wait_for(condition, seconds: float, failure: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(failure)
        time.sleep(0.1)


@contextmanager
def throwaway_database(server_url: str, prefix: str) -> Iterator[str]:
    """Create an empty database named `prefix_...` on the PostgreSQL server `server_url` names
    (connecting to its `postgres` database only to create and drop it); yield its URL."""
    from sqlalchemy import create_engine, make_url, text

    server = make_url(server_url)
    if server.drivername == "postgresql":
        server = server.set(drivername="postgresql+psycopg")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def database(server: str | None, folder: str | Path, prefix: str) -> Iterator[str]:
    """Yield the URL of an empty database: SQLite in `folder`, or a throwaway PostgreSQL one
    on the server `server` names (dropped afterwards)."""
    if not server:
        yield f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        return
    with throwaway_database(server, prefix) as url:
        yield url


def postgres_cpu_seconds(engine, seen: dict[int, float]) -> float:  # type: ignore[no-untyped-def]
    """Note the CPU time of every PostgreSQL backend serving `engine`'s database now (in `seen`,
    by process id: a backend's last reading counts once it has gone); return the sum."""
    from sqlalchemy import text

    with engine.connect() as connection:
        pids = connection.scalars(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        ).all()
    for pid in pids:
        seen[pid] = max(seen.get(pid, 0.0), process_cpu_seconds(pid))
    return sum(seen.values())


def percentile(values: list[float], share: float) -> float:
    """Return the value below which `share` of `values` lie (nearest rank); 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("role", choices=["sink"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--clock", type=Path)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    run_sink(args.port, args.log, args.clock)


if __name__ == "__main__":
    main()
