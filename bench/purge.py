"""The retention purge of one campaign of 100,000 participants.

    python bench/purge.py [--participants 100000] [--mails 6] [--repeat 3] [--database-url URL]

Fills a fresh SQLite database (or a throwaway database on the PostgreSQL server of
--database-url or CAMPAIGN_TEST_DATABASE_URL) with one campaign of 20 members: N participants
with a consent each, `--mails` delivered mails per participant (sequence steps, one a calendar
invitation, one a questionnaire; a few hundred bytes of text and HTML each), 30 % invited to a
training, 70 % baseline answers (40 % of them with a free text) and 50 % follow-up answers (30 %
with a free text), 2 % of the addresses suppressed, 200 pending self-enrolments and a pending
import of 1,000 rows. Then times `campaign.retention.purge.purge` (one transaction, committed)
on a fresh copy each run, and prints the median and the rows it touched. Compared in the same
run: the floor (the one raw UPDATE that empties the same mails, most of the work) and the
per-participant erasure (`lifecycle.erase`) of a sample, scaled to N.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, make_url, select, text

NOW = datetime(2016, 4, 1, 0, 5, tzinfo=UTC)
START = datetime(2014, 3, 3, 8, 0, tzinfo=UTC)
MEMBERS = 20
TEXT = "Hej! Det här är steg {k} i provgruppens utskick om resfria möten. " * 8
HTML = "<p>Hej! Det här är <strong>steg {k}</strong> i provgruppens utskick.</p>" * 14
CALENDAR = (
    "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\n" + "X-PAD:resfria möten\r\n" * 30 + "END:VCALENDAR"
)


def fill(session: Any, participants: int, mails: int) -> int:
    """Fill the database; return the campaign's id."""
    campaign, groups = _network(session)
    rng = random.Random(2016)
    per_member = participants // MEMBERS
    for org_id, group_id in groups:
        ids = _participants(session, campaign, org_id, group_id, per_member)
        _consents(session, ids)
        _mails(session, campaign, org_id, ids, mails)
        _answers(session, campaign, org_id, ids, rng)
        session.commit()
    _suppressions_and_pending(session, campaign, groups[0])
    session.commit()
    return campaign.id


def _network(session: Any) -> tuple[Any, list[tuple[int, int]]]:
    from campaign.enrolment.models import PilotGroup, PilotGroupKind
    from campaign.network.models import Campaign, Membership, Organisation, OrganisationKind

    orgs = [
        Organisation(
            slug=f"m{n}",
            name=f"Medlem {n}",
            short_name=f"M{n}",
            kind=OrganisationKind.OTHER,
            created_at=START,
        )  # fmt: skip
        for n in range(MEMBERS)
    ]
    campaign = Campaign(
        slug="bench", name="Resfria möten", lead_organisation=orgs[0],
        starts_on=date(2014, 1, 1), ends_on=date(2015, 3, 31), created_at=START,
        retention_warned_at=datetime(2016, 3, 2, tzinfo=UTC),
    )  # fmt: skip
    session.add(campaign)
    session.add_all(
        [Membership(campaign=campaign, organisation=o, created_at=START, updated_at=START)
         for o in orgs]
    )  # fmt: skip
    session.flush()
    groups = [
        PilotGroup(
            campaign_id=campaign.id,
            organisation_id=o.id,
            name="Alla",
            kind=PilotGroupKind.VOLUNTEERS,
            sequence_name="pilot-group",
            starts_on=START.date(),
            enrolment_key="k" * 32,
            created_at=START,
        )  # fmt: skip
        for o in orgs
    ]
    session.add_all(groups)
    session.flush()
    return campaign, [(g.organisation_id, g.id) for g in groups]


def _participants(session: Any, campaign: Any, org_id: int, group_id: int, n: int) -> list[int]:
    from campaign.enrolment.models import Participant, ParticipantStatus

    session.execute(
        insert(Participant),
        [
            {
                "campaign_id": campaign.id,
                "organisation_id": org_id,
                "pilot_group_id": group_id,
                "email": f"person.{k}@m{org_id}.example.se",
                "name": f"Förnamn Efternamn {k}",
                "title": "Handläggare",
                "language": "sv",
                "status": ParticipantStatus.ACTIVE,
                "created_at": START,
                "updated_at": START,
            }  # fmt: skip
            for k in range(n)
        ],
    )
    query = select(Participant.id).where(Participant.organisation_id == org_id)
    return list(session.scalars(query))


def _consents(session: Any, ids: list[int]) -> None:
    from campaign.enrolment.models import Consent, ConsentMethod

    session.execute(
        insert(Consent),
        [
            {
                "participant_id": pid,
                "method": ConsentMethod.SELF_ENROLMENT,
                "given_at": START,
                "source": "self-enrolment from 192.0.2.44, confirmed from 198.51.100.7",
                "text": "Jag vill vara med i provgruppen … och sedan raderas.",
            }  # fmt: skip
            for pid in ids
        ],
    )


def _mails(session: Any, campaign: Any, org_id: int, ids: list[int], mails: int) -> None:
    from campaign.outbox.models import Message, MessageKind, MessageState

    kinds = [MessageKind.SEQUENCE_STEP] * max(mails - 2, 0) + [
        MessageKind.INVITATION, MessageKind.QUESTIONNAIRE,
    ]  # fmt: skip
    session.execute(
        insert(Message),
        [
            {
                "source_key": f"p:{pid}:b:{k}",
                "campaign_id": campaign.id,
                "organisation_id": org_id,
                "participant_id": pid,
                "recipient": f"person.{pid}@example.se",
                "kind": kind,
                "subject": f"Steg {k}: resfria möten",
                "text_body": TEXT.format(k=k),
                "html_body": HTML.format(k=k),
                "headers": {"List-Unsubscribe": "<https://kampanj.example.se/u/x>"},
                "calendar": CALENDAR if kind is MessageKind.INVITATION else None,
                "message_id": f"<{pid}.{k}@example.se>",
                "due_at": START + timedelta(weeks=k),
                "state": MessageState.SENT,
                "sent_at": START + timedelta(weeks=k),
                "attempts": 1,
                "last_answer": "250 2.0.0 Ok: queued",
                "created_at": START,
            }  # fmt: skip
            for pid in ids
            for k, kind in enumerate(kinds[:mails])
        ],
    )


def _answers(session: Any, campaign: Any, org_id: int, ids: list[int], rng: random.Random) -> None:
    from campaign.surveys import service
    from campaign.surveys.models import Response

    found = {q.slug: q.id for q in service.questionnaires_of(session, campaign, START)}
    rows = []
    for pid in ids:
        if rng.random() < 0.7:
            answers = {"trips_per_month": rng.randint(0, 12), "expectation": 4}
            if rng.random() < 0.4:
                answers["hopes"] = "Att resa mindre och ändå träffa kollegorna i regionen."
            rows.append(_response(found["baseline"], pid, org_id, answers))
        if rng.random() < 0.5:
            answers = {"trips_replaced": rng.randint(0, 30), "km_avoided": rng.randint(0, 3000),
                       "hours_saved": rng.randint(0, 50), "satisfaction": 4}  # fmt: skip
            if rng.random() < 0.3:
                answers["tips"] = "Börja med någon du känner."
            rows.append(_response(found["follow-up"], pid, org_id, answers))
    session.execute(insert(Response), rows)


def _response(questionnaire_id: int, pid: int, org_id: int, answers: dict[str, Any]) -> dict:  # type: ignore[type-arg]
    return {
        "questionnaire_id": questionnaire_id, "participant_id": pid, "organisation_id": org_id,
        "answers": answers, "submitted_at": START + timedelta(weeks=27),
        "updated_at": START + timedelta(weeks=27),
    }  # fmt: skip


def _suppressions_and_pending(session: Any, campaign: Any, group: tuple[int, int]) -> None:
    from campaign.enrolment.models import Participant
    from campaign.outbox.models import Suppression, SuppressionReason

    emails = session.scalars(select(Participant.email).where(Participant.id % 50 == 0))
    session.execute(
        insert(Suppression),
        [{"email": e, "reason": SuppressionReason.UNSUBSCRIBED, "created_at": START}
         for e in emails],
    )  # fmt: skip
    _pending(session, campaign, group)


def _pending(session: Any, campaign: Any, group: tuple[int, int]) -> None:
    from campaign.enrolment.models import (
        ImportRow,
        ImportState,
        JoinRequest,
        ParticipantImport,
        RowOutcome,
    )

    session.execute(
        insert(JoinRequest),
        [
            {
                "campaign_id": campaign.id,
                "pilot_group_id": group[1],
                "group_key": "k" * 32,
                "secret": uuid.uuid4().hex,
                "email": f"joiner.{n}@example.se",
                "name": "Jo",
                "shown_language": "sv",
                "client": "203.0.113.9",
                "requested_at": NOW,
                "expires_at": NOW + timedelta(days=7),
            }  # fmt: skip
            for n in range(200)
        ],
    )
    job = ParticipantImport(
        campaign_id=campaign.id, organisation_id=group[0], pilot_group_id=group[1],
        filename="lista.csv", content=b"E-post;Namn\n" * 1000, state=ImportState.READY,
        created_at=NOW,
    )  # fmt: skip
    session.add(job)
    session.flush()
    session.execute(
        insert(ImportRow),
        [
            {"import_id": job.id, "row_number": n, "outcome": RowOutcome.ADD,
             "email": f"ny.{n}@example.se", "name": "Ny Person"}
            for n in range(1000)
        ],
    )  # fmt: skip


# Databases: a filled one, and a fresh copy of it per run. ---------------------------------


@contextmanager
def databases(database_url: str | None, folder: Path) -> Iterator[tuple[str, Any]]:
    """Yield the filled database's URL and a function that makes a fresh copy's URL."""
    if not database_url:
        source = folder / "filled.sqlite3"

        def sqlite_copy(n: int) -> str:
            shutil.copyfile(source, folder / f"run{n}.sqlite3")
            return f"sqlite:///{folder / f'run{n}.sqlite3'}"

        yield f"sqlite:///{source}", sqlite_copy
        return
    with _postgresql(database_url) as made:
        yield made


@contextmanager
def _postgresql(server_url: str) -> Iterator[tuple[str, Any]]:
    """A throwaway database on the server, copied per run with CREATE DATABASE … TEMPLATE."""
    server = make_url(server_url).set(drivername="postgresql+psycopg")
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    prefix = f"campaign_bench_{uuid.uuid4().hex[:8]}"
    names = [f"{prefix}_filled"]

    def run(sql: str) -> None:
        with admin.connect() as connection:
            connection.execute(text(sql))

    def pg_copy(n: int) -> str:
        names.append(f"{prefix}_run{n}")
        run(f'CREATE DATABASE "{names[-1]}" TEMPLATE "{names[0]}"')
        return server.set(database=names[-1]).render_as_string(hide_password=False)

    run(f'CREATE DATABASE "{names[0]}"')
    try:
        yield server.set(database=names[0]).render_as_string(hide_password=False), pg_copy
    finally:
        for name in names:
            run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _app(url: str, folder: Path) -> Any:
    from campaign import create_app

    return create_app(
        {"INSTANCE_PATH": str(folder), "CAMPAIGN_DATABASE_URL": url, "CAMPAIGN_SECRET_KEY": "b"}
    )


def timed_purge(url: str, folder: Path, campaign_id: int) -> tuple[float, dict[str, int]]:
    """Purge the campaign on the database at `url` and commit; return the time and counts."""
    from campaign import db
    from campaign.network.models import Campaign
    from campaign.retention.purge import purge

    app = _app(url, folder)
    with app.app_context(), db.open_session(app) as session:
        campaign = session.get(Campaign, campaign_id)
        started = time.perf_counter()
        counts = purge(session, campaign, NOW)
        session.commit()
        took = time.perf_counter() - started
    db.engine_of(app).dispose()
    return took, counts


def timed_floor(url: str, campaign_id: int) -> float:
    """Time the floor: the one UPDATE that empties the campaign's mails, as raw SQL, committed."""
    engine = create_engine(make_url(url).set(drivername=_driver(url)))
    emptied = (
        "UPDATE message SET recipient = 'x@x.invalid', subject = '', text_body = '',"
        " html_body = '', headers = '{}', calendar = NULL, last_answer = NULL"
        " WHERE campaign_id = :campaign"
    )
    with engine.connect() as connection:
        started = time.perf_counter()
        connection.execute(text(emptied), {"campaign": campaign_id})
        connection.commit()
        took = time.perf_counter() - started
    engine.dispose()
    return took


def _driver(url: str) -> str:
    return "postgresql+psycopg" if url.startswith("postgresql") else "sqlite"


def timed_erasures(url: str, folder: Path, sample: int) -> float:
    """Erase `sample` participants one by one (lifecycle.erase); return the time per person."""
    from campaign import db
    from campaign.enrolment import lifecycle
    from campaign.enrolment.models import Participant

    app = _app(url, folder)
    with app.app_context(), db.open_session(app) as session:
        people = session.scalars(select(Participant).limit(sample)).all()
        started = time.perf_counter()
        for person in people:
            lifecycle.erase(session, person, None, NOW)
        session.commit()
        took = time.perf_counter() - started
    db.engine_of(app).dispose()
    return took / sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=100_000)
    parser.add_argument("--mails", type=int, default=6, help="delivered mails per participant")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sample", type=int, default=20, help="people erased one by one")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("CAMPAIGN_TEST_DATABASE_URL"),
        help="a PostgreSQL server to make throwaway databases on (default: SQLite)",
    )
    args = parser.parse_args()
    from campaign import db, migrations

    with tempfile.TemporaryDirectory() as name, databases(args.database_url, Path(name)) as made:
        folder = Path(name)
        url, fresh_copy = made
        app = _app(url, folder)
        migrations.upgrade(db.engine_of(app))
        with app.app_context(), db.open_session(app) as session:
            started = time.perf_counter()
            campaign_id = fill(session, args.participants, args.mails)
            print(f"filled {args.participants:,} participants, {args.participants * args.mails:,}"
                  f" mails on {db.engine_of(app).dialect.name} in"
                  f" {time.perf_counter() - started:.1f} s")  # fmt: skip
        db.engine_of(app).dispose()
        runs = [timed_purge(fresh_copy(n), folder, campaign_id) for n in range(args.repeat)]
        times = [took for took, _counts in runs]
        counts = runs[-1][1]
        floor = timed_floor(fresh_copy(args.repeat), campaign_id)
        each = timed_erasures(fresh_copy(args.repeat + 1), folder, args.sample)
    print(f"purge: median {statistics.median(times):.2f} s over {args.repeat} runs"
          f" ({', '.join(f'{t:.2f}' for t in times)}), one transaction")  # fmt: skip
    touched = ", ".join(f"{k} {v:,}" for k, v in counts.items())
    print(f"rows touched: {sum(counts.values()):,} ({touched})")
    print(f"floor: the one raw UPDATE that empties the same mails takes {floor:.2f} s")
    print(f"baseline: erasing one by one (lifecycle.erase) takes {each * 1000:.0f} ms a person,"
          f" {each * args.participants / 60:.0f} min for {args.participants:,}")  # fmt: skip


if __name__ == "__main__":
    main()
