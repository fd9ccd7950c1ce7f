"""A national campaign in simulated time: the real jobs and workers on PostgreSQL, week by week.

    python bench/scale.py [--members 290] [--participants 3500] [--weeks 26] [--workers 4]
                          --database-url postgresql://USER:PASSWORD@HOST/postgres [--quick]

Makes a throwaway database on the server (dropped afterwards; the `postgres` database itself is
only used to create and drop it), lets the app's migrations create the schema, and fills the
start of a national campaign with COPY (bench/scale_start.py: a pilot group and a practice
meeting per member, everyone invited). Then WEEKS simulated weeks pass on a clock every process
shares (CAMPAIGN_CLOCK_FILE, campaign/timing.py's SharedClock):

- the driver moves the clock in steps of 15 simulated minutes, or straight to the next moment
  something is known to come due (a participant's next step, a queued mail, a meeting's
  reminder), at most an hour on; at each step it runs the queueing jobs of campaign/jobs.py
  (materialize, reminders, invitations, announcements, questionnaires, ...) for that moment,
  each as often in simulated time as the scheduler runs it in real time;
- WORKERS real `campaign worker --only dispatch` processes send what is due to a local SMTP sink
  in its own process, which notes each Message-ID and the simulated moment it arrived;
- after each step the clock runs at 1x while the workers drain what is due, and the queueing
  jobs run meanwhile at their intervals on it (a fan-out or the questionnaires, which stop at
  a time budget, carry on as they would); it jumps on only when nothing due is left unsent.

Prints per simulated week: mails due, sent, lateness (p50/p99/max of arrival at the sink minus
the moment the mail became due: its due_at, the moment it was queued, or the moment a jump of
the clock passed it, whichever is latest), wall time and the real-time factor (simulated time /
wall time; goal >= 10x). At the end, the cost per 1,000 mails sent: wall seconds, and CPU seconds
of all processes (driver, workers, sink, and the PostgreSQL backends of the database), so that
runs of different sizes can be compared (goal: flat within 20 %).
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import scale_clock  # noqa: E402
from bench.fleet import Fleet, running, throwaway_database  # noqa: E402
from bench.scale_clock import Week  # noqa: E402
from bench.scale_start import MEETING_AFTER, fill  # noqa: E402

START = datetime(2027, 2, 1, tzinfo=UTC)  # a Monday; the first weeks hold no Swedish holiday


@dataclass(frozen=True)
class Result:
    """A whole run: its weeks, the mail at the sink, and what the simulation cost."""

    weeks: list[Week]
    sent: int  # distinct Message-IDs at the sink
    arrivals: int  # every mail the sink received
    states: dict[str, int]  # how many mails of each kind the outbox holds in each state
    wall_seconds: float
    cpu_seconds: float
    spent: dict[str, float]  # the driver's steps, and its wall seconds in the jobs and drains
    job_seconds: dict[str, float]  # the driver's wall seconds in each queueing job


def main(argv: list[str] | None = None) -> Result:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=290)
    parser.add_argument("--participants", type=int, default=3500, help="per member")
    parser.add_argument("--weeks", type=float, default=26.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--database-url", required=True, help="a PostgreSQL server")
    parser.add_argument(
        "--longest-jump-hours",
        type=float,
        default=1.0,
        help="how far the clock may jump over quiet time (the queueing jobs run at each step)",
    )
    parser.add_argument(
        "--meeting-after",
        type=int,
        default=MEETING_AFTER,
        help="days from a group's first day to its practice meeting",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="3 members of 30, 2 days, 1 worker, 6-hour jumps, meetings the day after the start",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.members, args.participants, args.weeks, args.workers = 3, 30, 2 / 7, 1
        args.longest_jump_hours, args.meeting_after = 6.0, 1
    total = args.members * args.participants
    print(
        f"{args.members} members x {args.participants:,} participants = {total:,},"
        f" {args.weeks:g} simulated weeks, {args.workers} workers",
        flush=True,
    )
    with (
        tempfile.TemporaryDirectory() as folder,
        throwaway_database(args.database_url, "sim_scale") as url,
    ):
        result = run(Path(folder), url, args)
    _print_cost(result)
    return result


def run(folder: Path, url: str, args: argparse.Namespace) -> Result:
    """Fill the database, start the sink and the workers, and simulate the weeks."""
    from campaign import db

    clock_file = folder / "clock.json"
    scale_clock.write(clock_file, START, rate=0.0)
    app = scale_clock.driver_app(folder, url, clock_file)
    started = time.perf_counter()
    fill(db.engine_of(app), args.members, args.participants, START, args.meeting_after)
    print(f"filled with COPY in {time.perf_counter() - started:.1f} s", flush=True)
    with running(Fleet(folder, url, clock_file)) as fleet:
        fleet.start_sink()
        fleet.start_workers(args.workers, only=("dispatch",))
        print(f"sink and {args.workers} workers started", flush=True)
        quiet = timedelta(hours=args.longest_jump_hours)
        simulation = scale_clock.Simulation(app, fleet, START, longest_jump=quiet)
        weeks = simulation.run(START + timedelta(weeks=args.weeks))
        cpu = simulation.cpu_seconds()
    return Result(
        weeks=weeks,
        sent=simulation.sent(),
        arrivals=simulation.arrival_count,
        states=simulation.recorded(),
        wall_seconds=sum(w.wall_seconds for w in weeks),
        cpu_seconds=cpu,
        spent=simulation.spent,
        job_seconds=simulation.job_seconds,
    )


def _print_cost(result: Result) -> None:
    per = 1000 / max(1, result.sent)
    print(
        f"in all: {result.sent:,} mails at the sink ({result.arrivals - result.sent} duplicates);"
        f" the outbox: {', '.join(f'{n:,} {what}' for what, n in sorted(result.states.items()))}"
    )
    print(
        f"the driver: {result.spent['steps']:.0f} steps, {result.spent['jobs']:.0f} s running"
        f" the queueing jobs, {result.spent['drain']:.0f} s waiting while the workers sent"
    )
    slowest = sorted(result.job_seconds.items(), key=lambda item: -item[1])[:5]
    print("  the slowest jobs: " + ", ".join(f"{name} {s:.0f} s" for name, s in slowest))
    print(
        f"cost per 1,000 mails sent: {result.wall_seconds * per:.2f} s wall,"
        f" {result.cpu_seconds * per:.2f} s CPU (driver, workers, sink, PostgreSQL)"
    )


if __name__ == "__main__":
    # A stopped run still drops its database and stops its processes (the `finally` blocks).
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(1))
    main()
