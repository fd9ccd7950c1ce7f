"""The end state of a six-month national campaign, written with COPY: bench/scale_report.py's fill.

Not a script of its own. One campaign of N members, M participants each: a pilot group and two
meetings per member (a training, a practice meeting), and for each participant a consent, about
15 mails in the outbox (eight sequence steps, a calendar invitation and two reminders, two
questionnaires, two announcements; a confirmation only for those still invited), invitations
with attendance, baseline and follow-up answers with their receipts, and the suppression list.
Every mail is sent but a few in a thousand (failed, cancelled, waiting for a retry or queued and
overdue), plus one in ten participants with an announcement queued for after the end.

The rows are made from the participant's number alone, so `Expected` counts what the report
must find without reading the database back. On PostgreSQL each table is one COPY (psycopg's
`cursor.copy()`); on SQLite, batches of Core inserts (small sizes only).
"""

from __future__ import annotations

import itertools
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # a Monday
NOW = datetime(2026, 7, 3, 12, 0, tzinfo=UTC)  # six months later: the end state
TEXT = "Hej! Det här är ett steg i provgruppens utskick om resfria möten, med en länk. " * 2
HTML = "<p>Hej! Det här är <strong>ett steg</strong> i provgruppens utskick.</p>" * 3
PASSWORD = "bench password of the national campaign"
STEPS = 8  # the pilot-group sequence's steps
TRAINED = (0, 1, 2)  # pid % 5: came to the training
MAIL_STATES = ("failed", "cancelled", "retry", "queued")  # h % 1000 == 0..3: not sent (yet)


def status_of(pid: int) -> str:
    """The participant's status at the end, by their number."""
    bucket = pid % 100
    named = {0: "invited", 1: "bounced", 2: "erased", 3: "unsubscribed", 4: "unsubscribed"}
    if bucket in named:
        return named[bucket]
    return "paused" if bucket < 8 else "completed" if bucket < 13 else "active"


@dataclass
class Member:
    """The rows of one member made before the COPYs: ids that the participants' rows name."""

    org_id: int
    group_id: int
    training_id: int
    practice_id: int
    first: int  # the first participant id
    count: int


@dataclass
class Expected:
    """What the report must count, per organisation id, from what was filled."""

    by_status: dict[int, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    took_part: Counter[int] = field(default_factory=Counter)
    mail: dict[int, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    trained: Counter[int] = field(default_factory=Counter)
    suppressed: Counter[int] = field(default_factory=Counter)
    follow_ups: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))  # km
    steps: dict[int, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    rows: Counter[str] = field(default_factory=Counter)  # per table

    def respondents(self, org_id: int) -> int:
        answers = len(self.follow_ups[org_id])
        return answers - answers % 5

    def km(self, org_id: int) -> int:
        return sum(self.follow_ups[org_id][: self.respondents(org_id)])


class Loader:
    """Writes rows of one table: COPY on PostgreSQL, batched inserts on SQLite; prints the rate."""

    def __init__(self, db_session: Session, expected: Expected) -> None:
        self.db_session = db_session
        self.expected = expected
        self.postgres = db_session.get_bind().dialect.name == "postgresql"

    def load(self, table: Any, columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> None:
        started = time.perf_counter()
        counted = self._progress(table.name, rows, started)
        if self.postgres:
            made = self._drop_indexes(table.name)
            self._copy(table.name, columns, counted)
            self._make_indexes(table.name, made)
        else:
            self._insert(table, columns, counted)
        took = time.perf_counter() - started
        n = self.expected.rows[table.name]
        print(f"  {table.name}: {n:,} rows in {took:.1f} s ({n / max(took, 1e-9):,.0f} rows/s)")

    def _progress(self, name: str, rows: Iterable[tuple[Any, ...]], started: float) -> Iterator:
        for n, row in enumerate(rows, 1):
            if n % 2_000_000 == 0:
                took = time.perf_counter() - started
                print(f"    {name}: {n:,} rows, {n / took:,.0f} rows/s", flush=True)
            self.expected.rows[name] = n
            yield row

    def _drop_indexes(self, name: str) -> list[str]:
        """Drop the table's indexes that are not constraints (a bulk load makes them after);
        return their definitions."""
        found = self.db_session.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :t AND indexname"
                " NOT IN (SELECT conname FROM pg_constraint)"
            ),
            {"t": name},
        ).all()
        for index, _definition in found:
            self.db_session.execute(text(f'DROP INDEX "{index}"'))
        return [definition for _index, definition in found]

    def _make_indexes(self, name: str, definitions: list[str]) -> None:
        started = time.perf_counter()
        self.db_session.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
        for definition in definitions:
            # Escaped: text() would read ':e' in a LIKE pattern as a bind parameter.
            self.db_session.execute(text(definition.replace(":", "\\:")))
        if definitions:
            took = time.perf_counter() - started
            print(f"    {name}: {len(definitions)} indexes made again in {took:.1f} s")

    def _copy(self, name: str, columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> None:
        from psycopg.types.json import Json

        connection = self.db_session.connection().connection.driver_connection
        with connection.cursor() as cursor:  # type: ignore[union-attr]
            # The rows are whole by construction: no foreign key trigger per row (a superuser's
            # setting, for this transaction only).
            cursor.execute("SET LOCAL session_replication_role = replica")
            with cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([Json(v) if isinstance(v, dict) else v for v in row])

    def _insert(self, table: Any, columns: tuple[str, ...], rows: Iterable[tuple]) -> None:
        batches = iter(lambda: list(itertools.islice(rows, 5000)), [])
        for batch in batches:
            self.db_session.execute(
                insert(table), [dict(zip(columns, r, strict=True)) for r in batch]
            )


def pids(members: list[Member]) -> Iterator[tuple[Member, int]]:
    for member in members:
        for pid in range(member.first, member.first + member.count):
            yield member, pid


def participants(members: list[Member], campaign_id: int, expected: Expected) -> Iterator:
    for member, pid in pids(members):
        status = status_of(pid)
        expected.by_status[member.org_id][status] += 1
        expected.took_part[member.org_id] += status not in ("invited", "bounced", "erased")
        created = START + timedelta(days=pid % 28, seconds=pid % 3600)
        yield (pid, campaign_id, member.org_id, member.group_id, f"p{pid}@m{member.org_id}.se",
               "", "", "sv", status, created, created)  # fmt: skip


PARTICIPANT_COLUMNS = ("id", "campaign_id", "organisation_id", "pilot_group_id", "email", "name",
                       "title", "language", "status", "created_at", "updated_at")  # fmt: skip


def consents(members: list[Member]) -> Iterator:
    for _member, pid in pids(members):
        given = START + timedelta(days=pid % 28)
        yield pid, "import", given, "import of the member's list", "Jag vill delta."


def suppressions(members: list[Member], expected: Expected) -> Iterator:
    reasons = {1: "hard_bounce", 3: "unsubscribed", 4: "unsubscribed"}
    for member, pid in pids(members):
        if pid % 100 in reasons:
            expected.suppressed[member.org_id] += 1
            yield f"p{pid}@m{member.org_id}.se", reasons[pid % 100], "", START + timedelta(days=60)


def mails_of(member: Member, pid: int, questionnaires: tuple[int, int]) -> list[tuple]:
    """(source key, kind, due) of each mail of one participant."""
    created = START + timedelta(days=pid % 28, seconds=pid % 3600)
    if status_of(pid) == "invited":
        return [(f"c:p{pid}", "confirmation", created)]
    day = timedelta(days=1)
    baseline, follow_up = questionnaires
    event = member.training_id
    return [
        *[(f"p:{pid}:seq:pilot-group/{k:02d}", "sequence_step", created + 14 * k * day)
          for k in range(1, STEPS + 1)],
        (f"e:{event}:p{pid}:invitation", "invitation", START + 20 * day),
        (f"e:{event}:p{pid}:reminder:24h", "reminder", START + 34 * day),
        (f"e:{event}:p{pid}:reminder:1h", "reminder", START + 35 * day - timedelta(hours=1)),
        (f"q:{baseline}:p{pid}", "questionnaire", created + day),
        (f"q:{follow_up}:p{pid}", "questionnaire", START + 150 * day),
        (f"a:1:p{pid}", "announcement", START + 60 * day + timedelta(seconds=pid % 7200)),
        (f"a:2:p{pid}", "announcement", START + 120 * day + timedelta(seconds=pid % 7200)),
    ]  # fmt: skip


def messages(
    members: list[Member], campaign_id: int, questionnaires: tuple[int, int], expected: Expected
) -> Iterator:
    for member, pid in pids(members):
        mails = mails_of(member, pid, questionnaires)
        if pid % 10 == 0:  # an announcement queued for after the end
            mails.append((f"a:3:p{pid}", "announcement", NOW + timedelta(days=pid % 7 + 1)))
        for k, (key, kind, due) in enumerate(mails):
            h = (pid * 16 + k) % 1000
            state = MAIL_STATES[h] if h < len(MAIL_STATES) else "sent"
            if due > NOW:
                state = "queued"
            else:
                expected.mail[member.org_id][state] += 1
            if kind == "sequence_step" and state == "sent":
                expected.steps[member.org_id][key[-2:]] += 1
            yield _message(member, pid, key, kind, due, state, campaign_id)


def _message(
    member: Member, pid: int, key: str, kind: str, due: datetime, state: str, campaign_id: int
) -> tuple:
    sent = due + timedelta(seconds=30) if state == "sent" else None
    attempts = {"sent": 1, "failed": 5, "retry": 2}.get(state, 0)
    retry_at = NOW - timedelta(minutes=1) if state == "retry" else None
    return (key, campaign_id, member.org_id, pid, f"p{pid}@m{member.org_id}.se", kind,
            "Resfria möten", TEXT, HTML, {}, f"<{key}@bench.example>", due, state, attempts,
            retry_at, sent, due - timedelta(days=1))  # fmt: skip


MESSAGE_COLUMNS = ("source_key", "campaign_id", "organisation_id", "participant_id",
                   "recipient", "kind", "subject", "text_body", "html_body", "headers",
                   "message_id", "due_at", "state", "attempts", "next_attempt_at", "sent_at",
                   "created_at")  # fmt: skip


def invitations(members: list[Member], expected: Expected) -> Iterator:
    for member, pid in pids(members):
        if status_of(pid) == "invited":
            continue
        came = pid % 5 in TRAINED
        expected.trained[member.org_id] += came
        rsvp = "accepted" if pid % 10 < 8 else "declined"
        yield member.training_id, pid, rsvp, came, START + timedelta(days=20)
        if pid % 2 == 0:
            yield member.practice_id, pid, rsvp, pid % 5 == 0, START + timedelta(days=80)


def responses(
    members: list[Member], questionnaires: tuple[int, int], expected: Expected
) -> Iterator:
    baseline, follow_up = questionnaires
    for member, pid in pids(members):
        if status_of(pid) == "invited":
            continue
        if pid % 10 < 7:
            at = START + timedelta(days=pid % 28 + 2, seconds=pid % 3600)
            yield baseline, pid, member.org_id, {"trips_per_month": pid % 12}, at, at
        if pid % 10 < 5:
            km = pid * 7 % 3000
            expected.follow_ups[member.org_id].append(km)
            answers = {"trips_replaced": pid % 30, "km_avoided": km, "hours_saved": pid % 50,
                       "satisfaction": pid % 5 + 1}  # fmt: skip
            at = START + timedelta(days=150, seconds=pid)
            yield follow_up, pid, member.org_id, answers, at, at


def receipts(members: list[Member], questionnaires: tuple[int, int]) -> Iterator:
    baseline, follow_up = questionnaires
    for _member, pid in pids(members):
        if status_of(pid) == "invited":
            continue
        if pid % 10 < 7:
            yield baseline, pid, (START + timedelta(days=pid % 28 + 2)).date()
        if pid % 10 < 5:
            yield follow_up, pid, (START + timedelta(days=150)).date()


def fill_rows(
    db_session: Session,
    members: list[Member],
    campaign_id: int,
    questionnaires: tuple[int, int],
) -> Expected:
    """COPY every participant's rows; return what the report must count."""
    from campaign.enrolment.models import Consent, Participant
    from campaign.events.models import Invitation
    from campaign.outbox.models import Message, Suppression
    from campaign.surveys.models import Receipt, Response

    expected = Expected()
    loader = Loader(db_session, expected)
    loader.load(
        Participant.__table__, PARTICIPANT_COLUMNS, participants(members, campaign_id, expected)
    )
    loader.load(
        Consent.__table__,
        ("participant_id", "method", "given_at", "source", "text"),
        consents(members),
    )
    loader.load(
        Suppression.__table__,
        ("email", "reason", "detail", "created_at"),
        suppressions(members, expected),
    )
    loader.load(
        Message.__table__, MESSAGE_COLUMNS, messages(members, campaign_id, questionnaires, expected)
    )
    loader.load(
        Invitation.__table__,
        ("event_id", "participant_id", "rsvp", "has_attended", "created_at"),
        invitations(members, expected),
    )
    loader.load(
        Response.__table__,
        (
            "questionnaire_id",
            "participant_id",
            "organisation_id",
            "answers",
            "submitted_at",
            "updated_at",
        ),
        responses(members, questionnaires, expected),
    )
    loader.load(Receipt.__table__, ("questionnaire_id", "participant_id", "answered_on"),
                receipts(members, questionnaires))  # fmt: skip
    if loader.postgres:
        db_session.execute(text("SELECT setval('participant_id_seq', max(id)) FROM participant"))
    db_session.commit()
    return expected


def network(db_session: Session, members: int, participants: int) -> tuple[Any, list[Member]]:
    """The campaign, its members with a pilot group and two meetings each, and two accounts:
    the lead administrator (of the first member) and a representative of the second."""
    from werkzeug.security import generate_password_hash

    from campaign.accounts.models import Role, User
    from campaign.enrolment.models import PilotGroup, PilotGroupKind
    from campaign.network.models import Campaign, Membership, Organisation, OrganisationKind

    orgs = [
        Organisation(slug=f"m{n}", name=f"Kommun {n}", short_name=f"K{n:03d}",
                     kind=OrganisationKind.MUNICIPALITY, created_at=START)
        for n in range(members)
    ]  # fmt: skip
    campaign = Campaign(slug="national", name="Resfria möten i hela landet",
                        lead_organisation=orgs[0], starts_on=START.date(),
                        ends_on=date(2026, 12, 31), created_at=START)  # fmt: skip
    db_session.add(campaign)
    db_session.add_all(
        [Membership(campaign=campaign, organisation=o, created_at=START, updated_at=START)
         for o in orgs]
    )  # fmt: skip
    db_session.flush()
    groups = [
        PilotGroup(campaign_id=campaign.id, organisation_id=o.id, name="Alla",
                   kind=PilotGroupKind.VOLUNTEERS, sequence_name="pilot-group",
                   starts_on=START.date(), created_at=START)
        for o in orgs
    ]  # fmt: skip
    db_session.add_all(groups)
    hashed = generate_password_hash(PASSWORD, method="scrypt:1024:8:1")  # cheap to sign in
    accounts = [User(email="lead@m0.se", name="Lead", role=Role.LEAD_ADMIN, organisation=orgs[0],
                     password_hash=hashed, created_at=START),
                User(email="rep@m1.se", name="Rep", role=Role.MEMBER_REP,
                     organisation=orgs[min(1, members - 1)], password_hash=hashed,
                     created_at=START)]  # fmt: skip
    db_session.add_all(accounts)
    db_session.flush()
    events = [_meetings(db_session, campaign.id, o.id) for o in orgs]
    return campaign, [
        Member(o.id, g.id, training, practice, 1 + n * participants, participants)
        for n, (o, g, (training, practice)) in enumerate(zip(orgs, groups, events, strict=True))
    ]


def _meetings(db_session: Session, campaign_id: int, org_id: int) -> tuple[int, int]:
    """A member's training (five weeks in) and practice meeting (twelve weeks in)."""
    from campaign.events.models import Audience, Event, EventKind

    made = []
    for kind, days in ((EventKind.TRAINING, 35), (EventKind.PRACTICE_MEETING, 84)):
        starts = START + timedelta(days=days)
        event = Event(campaign_id=campaign_id, organisation_id=org_id, kind=kind,
                      audience=Audience.ORGANISATION, title="Utbildning", starts_at=starts,
                      ends_at=starts + timedelta(hours=2), timezone="Europe/Stockholm",
                      uid=f"scale-{org_id}-{days}@bench", sequence=0, created_at=START,
                      updated_at=START)  # fmt: skip
        db_session.add(event)
        made.append(event)
    db_session.flush()
    return made[0].id, made[1].id
