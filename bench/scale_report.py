"""The report's figures and the dashboard at national scale: 290 members × 3,500 participants.

    python bench/scale_report.py [--members 290] [--participants 3500] [--repeat 3]
        [--database-url postgresql://…] [--quick] [--explain] [--compare]

Makes a throwaway database on the PostgreSQL server of --database-url (or
CAMPAIGN_TEST_DATABASE_URL; SQLite without either, for small sizes), fills it with the end state
of a six-month campaign by COPY (bench/scale_fill.py: about 15 mails a participant, meetings
with attendance, baseline and follow-up answers), VACUUM ANALYZEs it, checks the report's
figures against the counts filled, then times, median of --repeat: `figures.compute` (the
network's figures, which a member's dashboard computes too), the dashboard's data for the network
and for one member, and the pages through the Flask test client (the lead's dashboard and report,
a representative's dashboard). The baseline in the same run is the floor: one COUNT(*) over the
participants. The goal is under 10 s each at 1,000,000 participants.

--explain prints EXPLAIN (ANALYZE, BUFFERS) of the five slowest statements of one dashboard,
and of the dispatcher's claim of due mail. --compare first drops the indexes of migration 0032
(INDEXES below), times everything, makes them again (timed), and times everything again.
--quick is 3 members × 200 participants. The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import scale_fill  # noqa: E402 - the bench folder is not a package
from scale_fill import NOW, PASSWORD, Expected  # noqa: E402

from bench.fleet import database  # noqa: E402

# The indexes migration 0032 adds for this (dropped and made again by --compare).
INDEXES = (
    "ix_message_due",
    "ix_message_report",
    "ix_message_steps",
    "ix_message_questionnaire",
    "ix_consent_participant_id",
    "ix_invitation_participant_id",
)


@dataclass
class Run:
    """What one run found: the counts filled and the figures computed, and the medians."""

    expected: Expected
    figures: Any
    medians: dict[str, float] = field(default_factory=dict)


def main(argv: list[str] | None = None) -> Run:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=290)
    parser.add_argument("--participants", type=int, default=3500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", help="a PostgreSQL server (default: SQLite)")
    parser.add_argument("--quick", action="store_true", help="3 members × 200 participants")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN the slowest queries")
    parser.add_argument("--compare", action="store_true", help="time without the new indexes")
    parser.add_argument("--brin", action="store_true", help="measure BRIN against btree")
    args = parser.parse_args(argv)
    if args.quick:
        args.members, args.participants, args.repeat = 3, 200, 1
    server = args.database_url or os.environ.get("CAMPAIGN_TEST_DATABASE_URL")
    with tempfile.TemporaryDirectory() as folder, database(server, folder, "pgscale_bench") as url:
        return measure(url, folder, args)


def measure(url: str, folder: str, args: argparse.Namespace) -> Run:
    from campaign import create_app, db, migrations
    from campaign.timing import FixedClock, install_clock

    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": folder,
            "CAMPAIGN_DATABASE_URL": url,
            "CAMPAIGN_SECRET_KEY": "b",
        }
    )
    install_clock(app, FixedClock(NOW))
    engine = db.engine_of(app)
    migrations.upgrade(engine)
    print(f"{args.members} members × {args.participants} participants on {engine.dialect.name}")
    with db.open_session(app) as session:
        campaign, expected = fill(session, args.members, args.participants)
        run = Run(expected, check(app, session, campaign, expected))
        if args.compare:
            drop_indexes(session)
            print("without the indexes of 0032:")
            times(app, session, campaign, args.repeat)
            make_indexes(session)
            print("with them:")
        run.medians = times(app, session, campaign, args.repeat)
        if args.explain and engine.dialect.name == "postgresql":
            explain(app, session, campaign)
        if args.brin and engine.dialect.name == "postgresql":
            brin(session, campaign, args.repeat)
    engine.dispose()
    return run


def fill(session: Any, members: int, participants: int) -> tuple[Any, Expected]:
    from campaign.surveys import service

    started = time.perf_counter()
    campaign, made = scale_fill.network(session, members, participants)
    found = {q.slug: q.id for q in service.questionnaires_of(session, campaign, NOW)}
    session.commit()
    expected = scale_fill.fill_rows(
        session, made, campaign.id, (found["baseline"], found["follow-up"])
    )
    total = sum(expected.rows.values())
    took = time.perf_counter() - started
    print(f"filled {total:,} rows in {took:.0f} s ({total / took:,.0f} rows/s)")
    started = time.perf_counter()
    analyse(session)
    print(f"VACUUM ANALYZE in {time.perf_counter() - started:.0f} s")
    return campaign, expected


def analyse(session: Any) -> None:
    """VACUUM ANALYZE (what autovacuum would have done by then): statistics, visibility map."""
    bind = session.get_bind()
    session.commit()
    with bind.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        postgres = bind.dialect.name == "postgresql"
        connection.execute(text("VACUUM ANALYZE" if postgres else "ANALYZE"))


def check(app: Any, session: Any, campaign: Any, expected: Expected) -> Any:
    """Compute the figures and the dashboard's sequence progress once; check them against the
    counts filled."""
    from campaign.report.dashboard import sequence_progress
    from campaign.report.figures import compute

    figures = compute(session, campaign, NOW)
    for member in figures.members:
        org = member.organisation.id
        found = (
            member.by_status,
            member.participants,
            member.mail,
            member.trained,
            member.suppressed,
            member.outcomes.respondents,
            member.outcomes.km,
        )
        wanted = (dict(expected.by_status[org]), expected.took_part[org],
                  dict(expected.mail[org]), expected.trained[org], expected.suppressed[org],
                  expected.respondents(org), expected.km(org))  # fmt: skip
        assert found == wanted, f"member {org}: found {found}, filled {wanted}"
    with app.app_context():
        progress = sequence_progress(session, campaign, None, NOW)
    assert sum(n for _month, n in figures.mail_by_month) == figures.delivered
    for org, (found_steps,) in progress.items():
        assert dict(found_steps.had) == dict(expected.steps[org]), f"member {org}: steps"
    print(f"figures checked: {figures.participants:,} took part, {figures.delivered:,} mails"
          f" delivered, {figures.trained:,} trained, {figures.outcomes.km:,} km")  # fmt: skip
    return figures


def times(app: Any, session: Any, campaign: Any, repeat: int) -> dict[str, float]:
    """Time each thing `repeat` times; print and return the medians, in seconds."""
    from campaign.enrolment.models import Participant
    from campaign.report.figures import compute

    lead, rep = signed_in(app, "lead@m0.se"), signed_in(app, "rep@m1.se")
    member = rep_org(session)
    base = f"/campaigns/{campaign.slug}"
    own = f"{base}/organisations/{member.slug}/dashboard"
    things: dict[str, Callable[[], object]] = {
        "floor: COUNT(*) of the participants": lambda: session.scalar(
            select(text("count(*)")).select_from(Participant)
        ),
        "figures.compute (network)": lambda: compute(session, campaign, NOW),
        "dashboard data, network": lambda: dashboard(app, session, campaign, None),
        "dashboard data, one member": lambda: dashboard(app, session, campaign, member.id),
        "GET dashboard (lead)": lambda: page(lead, f"{base}/dashboard"),
        "GET report (lead)": lambda: page(lead, f"{base}/report"),
        "GET member dashboard (rep)": lambda: page(rep, own),
    }
    medians = {}
    for name, thing in things.items():
        took = []
        for _ in range(repeat):
            started = time.perf_counter()
            thing()
            took.append(time.perf_counter() - started)
            session.rollback()
        medians[name] = statistics.median(took)
        floor = medians["floor: COUNT(*) of the participants"]
        print(f"  {name}: median {medians[name]:.3f} s ({medians[name] / floor:,.0f}× the floor)",
              flush=True)  # fmt: skip
    return medians


def dashboard(app: Any, session: Any, campaign: Any, org_id: int | None) -> object:
    """The dashboard's data (in an app context of its own: the pages' requests push theirs)."""
    from campaign.report.dashboard import build

    with app.app_context():
        return build(session, campaign, org_id, NOW, "sv")


def rep_org(session: Any) -> Any:
    from campaign.accounts.models import User

    return session.scalar(select(User).where(User.email == "rep@m1.se")).organisation


def signed_in(app: Any, email: str) -> Any:
    """A test client signed in with the form, as a browser does."""
    import re

    client = app.test_client()
    page_text = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page_text)
    assert token, "no CSRF token on /login"
    answer = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return client


def page(client: Any, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 200, (path, answer.status_code)


def drop_indexes(session: Any) -> None:
    for name in INDEXES:
        session.execute(text(f"DROP INDEX IF EXISTS {name}"))
    session.commit()
    analyse(session)


def make_indexes(session: Any) -> None:
    from campaign.schema import metadata

    wanted = {i.name: i for t in metadata.tables.values() for i in t.indexes}
    for name in INDEXES:
        started = time.perf_counter()
        wanted[name].create(session.connection())
        session.commit()
        print(f"  made {name} in {time.perf_counter() - started:.1f} s")
    analyse(session)


def brin(session: Any, campaign: Any, repeat: int) -> None:
    """The one query of the service over a short span of the outbox's dates (the campaign's
    per-minute limit: mail sent in the last minute, outbox/limits.py), timed with what 0032
    gives, with a btree on sent_at, and with a BRIN on sent_at once the table is in the order
    an outbox fills (by sent_at: CLUSTER)."""
    from campaign.outbox.limits import _counted

    def timed(label: str) -> None:
        took = []
        for _ in range(max(repeat, 3)):
            started = time.perf_counter()
            _counted(session, [campaign.id], NOW - timedelta(days=60), "bench")
            took.append(time.perf_counter() - started)
            session.rollback()
        print(f"  mail sent in one minute, {label}: median {statistics.median(took) * 1000:.1f} ms")

    def size(index: str) -> str:
        return session.scalar(text(f"SELECT pg_size_pretty(pg_relation_size('{index}'))"))

    print("BRIN or btree on sent_at (the per-minute limit's count):")
    timed("indexes of 0032")
    for statement in ("CREATE INDEX bench_sent_at ON message (sent_at)", "ANALYZE message"):
        session.execute(text(statement))
    session.commit()
    timed(f"btree on sent_at ({size('bench_sent_at')})")
    for statement in (
        "CLUSTER message USING bench_sent_at",
        "DROP INDEX bench_sent_at",
        "CREATE INDEX bench_brin ON message USING brin (sent_at)",
        "ANALYZE message",
    ):
        session.execute(text(statement))  # fmt: skip
    session.commit()
    timed(f"BRIN on sent_at, table in sent_at order ({size('bench_brin')})")


def explain(app: Any, session: Any, campaign: Any) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) the five slowest statements of the network's dashboard, and
    the dispatcher's pick of due mail as the claim runs it."""
    from campaign.outbox.claims import _candidates, _held, _waiting
    from campaign.outbox.policy import policy_of

    found = captured(session, lambda: dashboard(app, session, campaign, None))
    for took, statement, parameters in sorted(found, key=lambda s: -s[0])[:5]:
        print(f"\n--- {took:.3f} s:\n{statement}")
        plan(session, statement, parameters)
    held = _held(session, NOW, policy_of(app))
    pick = _candidates(_waiting(NOW), 100, held)
    for took, statement, parameters in captured(session, lambda: session.execute(pick).all()):
        print(f"\n--- the claim's pick of 100 due mails, {took * 1000:.1f} ms:\n{statement}")
        plan(session, statement, parameters)


def captured(session: Any, work: Callable[[], object]) -> list[tuple[float, str, Any]]:
    """Run `work`; return each statement it sent with its parameters and time."""
    statements: list[tuple[float, str, Any]] = []
    bind = session.get_bind()

    def before(conn: Any, _cursor: Any, _statement: str, *_rest: Any) -> None:
        conn.info["started"] = time.perf_counter()

    def after(conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        statements.append((time.perf_counter() - conn.info["started"], statement, parameters))

    event.listen(bind, "before_cursor_execute", before)
    event.listen(bind, "after_cursor_execute", after)
    try:
        work()
    finally:
        event.remove(bind, "before_cursor_execute", before)
        event.remove(bind, "after_cursor_execute", after)
        session.rollback()
    return statements


def plan(session: Any, statement: str, parameters: Any) -> None:
    cursor = session.connection().connection.driver_connection.cursor()
    cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters)
    print("\n".join(row[0] for row in cursor.fetchall()))
    session.rollback()


if __name__ == "__main__":
    main()
