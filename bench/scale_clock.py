"""The driver of bench/scale.py: moves the shared clock, runs the queueing jobs at each step,
waits while the workers drain what is due, and sums up each simulated week."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench.fleet import SENDER, Fleet, percentile, postgres_cpu_seconds

STEP = timedelta(minutes=15)  # the clock's step while mail keeps coming due
MOST = timedelta(hours=1)  # the longest jump over quiet time
WEEK = timedelta(weeks=1)
STUCK_SECONDS = 120.0  # a drain that sends nothing for this long is given up
QUEUEING = "dispatch"  # the one job the driver leaves to the workers


def write(path: Path, at: datetime, rate: float = 1.0) -> None:
    """Set the shared clock to `at`, running at `rate` from now on."""
    from campaign.timing import write_shared_moment

    write_shared_moment(path, at, rate)


def driver_app(folder: Path, url: str, clock_file: Path):  # type: ignore[no-untyped-def]
    """Return the driver's app on the shared clock, with the schema the migrations create."""
    from campaign import create_app, db, migrations

    app = create_app(
        {
            "INSTANCE_PATH": str(folder / "instance"),
            "CAMPAIGN_DATABASE_URL": url,
            "CAMPAIGN_SECRET_KEY": "bench",
            "CAMPAIGN_MAIL_FROM": SENDER,
            "CAMPAIGN_CLOCK_FILE": str(clock_file),
        }
    )
    migrations.upgrade(db.engine_of(app))
    return app


@dataclass(frozen=True)
class Week:
    """One simulated week: the mail that became due in it, how much of it reached the sink and
    how late (seconds), and what the week cost in wall time."""

    number: int
    due: int
    sent: int
    lateness: tuple[float, float, float]  # p50, p99, max
    wall_seconds: float
    simulated: timedelta  # a week, or less for the last one of a run that ends mid-week

    @property
    def real_time_factor(self) -> float:
        return self.simulated.total_seconds() / max(self.wall_seconds, 1e-9)


@dataclass
class Simulation:
    """The simulated weeks of one run: the clock's jumps, the jobs' last runs, the arrivals."""

    app: Any
    fleet: Fleet
    start: datetime
    longest_jump: timedelta = MOST
    jumps: list[tuple[datetime, datetime]] = field(default_factory=list)
    last_runs: dict[str, datetime] = field(default_factory=dict)
    arrived: dict[str, datetime] = field(default_factory=dict)  # Message-ID -> first arrival
    arrival_count: int = 0
    spent: dict[str, float] = field(default_factory=lambda: {"steps": 0, "jobs": 0.0, "drain": 0.0})
    job_seconds: dict[str, float] = field(default_factory=dict)  # wall seconds in each job
    counted: set[str] = field(default_factory=set)
    _log_offset: int = 0
    _postgres: dict[int, float] = field(default_factory=dict)

    def run(self, end: datetime) -> list[Week]:
        """Simulate from the start to `end`; return the weeks, each printed as it ends."""
        weeks: list[Week] = []
        moment, week_start, wall = self.start, self.start, time.perf_counter()
        began_at = wall
        write(self.fleet.clock_file, moment)  # type: ignore[arg-type]
        while moment < end:
            began = time.perf_counter()
            self._run_jobs(moment)
            ran = time.perf_counter()
            self._drain()
            self._note_step(began, ran, time.perf_counter())
            following = self._next_moment(moment, end)
            while week_start < end and following >= min(week_start + WEEK, end):
                weeks.append(
                    self._week(len(weeks) + 1, week_start, min(week_start + WEEK, end), wall)
                )
                week_start, wall = week_start + WEEK, time.perf_counter()
            if following.date() != moment.date():
                self._progress(following, began_at)
            moment = self._jump(following)
        return weeks

    def _progress(self, moment: datetime, began_at: float) -> None:
        """Print a line as each simulated day begins: the mail sent so far, the wall time."""
        print(
            f"  {moment:%a %Y-%m-%d}: {self.sent():,} sent so far,"
            f" {time.perf_counter() - began_at:.0f} s wall",
            flush=True,
        )

    def _note_step(self, began: float, ran: float, drained: float) -> None:
        """Add a step's wall time to the totals: running the jobs, then the workers' drain."""
        self.spent["steps"] += 1
        self.spent["jobs"] += ran - began
        self.spent["drain"] += drained - ran

    def _run_jobs(self, moment: datetime) -> None:
        """Run each queueing job whose interval has passed in simulated time, for `moment`."""
        from campaign import jobs

        for job in jobs.JOBS:
            last = self.last_runs.get(job.name)
            if job.name == QUEUEING or (
                last and moment - last < timedelta(seconds=job.every_seconds)
            ):
                continue
            began = time.perf_counter()
            jobs.run_job(self.app, job, moment)
            self.last_runs[job.name] = moment
            self.job_seconds[job.name] = self.job_seconds.get(job.name, 0.0) + (
                time.perf_counter() - began
            )

    def _drain(self) -> None:
        """Let the clock run at 1x until nothing due at its moment is left unsent. Meanwhile the
        queueing jobs run at their intervals on the clock, as the scheduler runs them: a job
        that stops at its time budget (a fan-out, the questionnaires) goes on while the workers
        send, not once a step."""
        from campaign import timing

        left, since, arrived = self._pending(), time.monotonic(), self._sink_size()
        while left:
            time.sleep(0.05)
            self._run_jobs(timing.clock_of(self.app).now())
            # Progress is mail reaching the sink: while a fan-out queues, what is due may grow.
            left, now_arrived = self._pending(), self._sink_size()
            if now_arrived > arrived:
                since, arrived = time.monotonic(), now_arrived
            elif time.monotonic() - since > STUCK_SECONDS:
                print(f"  {left} due mails, none sent for {STUCK_SECONDS:g} s", flush=True)
                return

    def _sink_size(self) -> int:
        """Return the size of the sink's log, which grows with each mail that reaches it."""
        return self.fleet.sink_log.stat().st_size if self.fleet.sink_log.exists() else 0

    def _pending(self) -> int:
        """Return how many mails are due at the shared clock's moment and not yet sent."""
        from sqlalchemy import and_, func, or_, select

        from campaign import db, timing
        from campaign.outbox.models import Message, MessageState

        now = timing.clock_of(self.app).now()
        waiting = and_(
            Message.state.in_((MessageState.QUEUED, MessageState.RETRY)),
            Message.due_at <= now,
            or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now),
        )
        due = or_(Message.state == MessageState.SENDING, waiting)
        with db.open_session(self.app) as session:
            return int(session.scalar(select(func.count()).select_from(Message).where(due)) or 0)

    def _next_moment(self, moment: datetime, end: datetime) -> datetime:
        """Return the next step: 15 minutes on while mail comes due, else straight to the next
        moment something is known to come due (at most an hour on), never before the clock."""
        from sqlalchemy import func, select

        from campaign import db, timing
        from campaign.enrolment.models import Participant
        from campaign.outbox.models import Message, MessageState

        now = timing.clock_of(self.app).now()
        with db.open_session(self.app) as session:
            known = [
                session.scalar(select(func.min(Participant.next_step_at))),
                session.scalar(
                    select(func.min(Message.due_at)).where(Message.state == MessageState.QUEUED)
                ),
                _next_reminder(session, moment),
            ]
        soonest = min([k for k in known if k is not None] + [moment + self.longest_jump])
        return min(end, max(moment + STEP, soonest, now))

    def _jump(self, moment: datetime) -> datetime:
        """Move the shared clock on to `moment` (noting the jump), running at 1x from there."""
        from campaign import timing

        now = timing.clock_of(self.app).now()
        if moment > now:
            self.jumps.append((now, moment))
            write(self.fleet.clock_file, moment)  # type: ignore[arg-type]
        return max(moment, now)

    def _week(self, number: int, start: datetime, end: datetime, wall: float) -> Week:
        """Sum up the mail that became due in [start, end), a week; print the line."""
        self._read_arrivals()
        became = self._became_due(start, end)
        late = [
            max(0.0, (self.arrived[m] - due).total_seconds())
            for m, due in became.items()
            if m in self.arrived
        ]
        self.counted.update(became)
        week = Week(
            number=number,
            due=len(became),
            sent=len(late),
            lateness=(percentile(late, 0.5), percentile(late, 0.99), max(late, default=0.0)),
            wall_seconds=time.perf_counter() - wall,
            simulated=end - start,
        )
        _print_week(week, self.cpu_seconds())
        return week

    def _became_due(self, start: datetime, end: datetime) -> dict[str, datetime]:
        """Return each mail to be sent that became due in [start, end): Message-ID -> moment."""
        from sqlalchemy import or_, select

        from campaign import db
        from campaign.outbox.models import Message, MessageState

        with db.open_session(self.app) as session:
            rows = session.execute(
                select(Message.message_id, Message.due_at, Message.created_at)
                .where(Message.state != MessageState.CANCELLED)
                .where(Message.due_at < end, Message.created_at < end)
                .where(
                    or_(Message.due_at >= start - timedelta(days=1), Message.created_at >= start)
                )
            ).all()
        became = {r.message_id: max(self._after_jumps(r.due_at), r.created_at) for r in rows}
        return {m: at for m, at in became.items() if start <= at < end and m not in self.counted}

    def _after_jumps(self, due: datetime) -> datetime:
        """Return the moment the clock first showed `due` or later: a jump over it ends later."""
        for before, after in self.jumps:
            if before < due <= after:
                return after
        return due

    def _read_arrivals(self) -> None:
        """Note the sink's new lines: each Message-ID's first arrival, in simulated time."""
        with self.fleet.sink_log.open("rb") as log:
            log.seek(self._log_offset)
            chunk = log.read()
        whole = chunk[: chunk.rfind(b"\n") + 1]
        self._log_offset += len(whole)
        for line in whole.decode().splitlines():
            message_id, _wall, simulated = line.split("\t")
            self.arrival_count += 1
            self.arrived.setdefault(message_id, datetime.fromisoformat(simulated))

    def cpu_seconds(self) -> float:
        """Return the CPU time spent so far by this driver, the fleet and PostgreSQL's backends."""
        from campaign import db

        backends = postgres_cpu_seconds(db.engine_of(self.app), self._postgres)
        return time.process_time() + self.fleet.cpu_seconds() + backends

    def sent(self) -> int:
        """Return how many distinct mails reached the sink."""
        self._read_arrivals()
        return len(self.arrived)

    def recorded(self) -> dict[str, int]:
        """Return how many mails the outbox holds of each kind in each state."""
        from sqlalchemy import func, select

        from campaign import db
        from campaign.outbox.models import Message

        with db.open_session(self.app) as session:
            counted = session.execute(
                select(Message.kind, Message.state, func.count()).group_by(
                    Message.kind, Message.state
                )
            )
            return {f"{kind.value} {state.value}": int(n) for kind, state, n in counted}


def _next_reminder(session: Any, moment: datetime) -> datetime | None:
    """Return the next moment after `moment` a reminder of a coming meeting is due, if any."""
    from sqlalchemy import select

    from campaign.events.models import Event
    from campaign.events.reminders import parse_reminders

    coming = session.execute(
        select(Event.starts_at, Event.reminders).where(
            Event.starts_at > moment, Event.is_cancelled.is_(False)
        )
    )
    moments = [
        starts - offset
        for starts, reminders in coming
        for offset in parse_reminders(reminders)
        if starts - offset > moment
    ]
    return min(moments, default=None)


def _print_week(week: Week, cpu: float) -> None:
    p50, p99, most = week.lateness
    print(
        f"week {week.number:2}: due {week.due:9,}  sent {week.sent:9,}  lateness p50 {p50:5.1f} s"
        f" p99 {p99:5.1f} s max {most:6.1f} s  wall {week.wall_seconds:6.0f} s"
        f"  {week.real_time_factor:6.0f}x real time  (CPU so far {cpu:.0f} s)",
        flush=True,
    )
