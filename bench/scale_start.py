"""The start of a national campaign, written into PostgreSQL with COPY, for bench/scale.py.

One campaign (no rate limit: the relay's own limit is the dispatcher's business), MEMBERS
member municipalities with their memberships, a pilot group each following the shipped
pilot-group sequence (their first days spread over the weekdays of the first week, as a
national rollout staggers its start), and PARTICIPANTS active participants each, every one with
the consent an import records. Nobody has been looked at by the drip yet (next_step_at unset),
so the first run of `materialize` reads everyone, as after a real import.
"""

from __future__ import annotations

import enum
import json
import sys
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Table

SEQUENCE = "pilot-group"
CONSENT_TEXT = "Jag vill vara med i provgruppen och få mejl om den."


def fill(engine: Engine, members: int, participants: int, start: datetime) -> None:
    """Write the campaign's start into the (migrated, empty) database of `engine`."""
    from campaign.enrolment.models import Consent, Participant, PilotGroup
    from campaign.network.models import Campaign, Membership, Organisation

    created = start - timedelta(days=30)
    raw = engine.raw_connection()
    try:
        with raw.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
            copy_rows(cursor, _table(Organisation), _organisations(members, created))
            copy_rows(cursor, _table(Campaign), [_campaign(start, created)])
            copy_rows(cursor, _table(Membership), _memberships(members, created))
            copy_rows(cursor, _table(PilotGroup), _groups(members, start.date(), created))
            for member in range(members):
                people = range(member * participants + 1, (member + 1) * participants + 1)
                copy_rows(cursor, _table(Participant), _people(member, people, created))
                copy_rows(cursor, _table(Consent), _consents(people, created))
                _progress(member, members, participants)
            for table in ("organisation", "campaign", "membership", "pilot_group", "participant"):
                _follow_on(cursor, table)
            _follow_on(cursor, "consent")
            cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


def copy_rows(cursor: Any, table: Table, rows: Iterable[dict[str, Any]]) -> None:
    """COPY `rows` into `table`; a column a row leaves out gets the model's scalar default."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return
    columns = [
        c
        for c in table.columns
        if c.name in first or (c.default is not None and c.default.is_scalar)
    ]
    names = ", ".join(f'"{c.name}"' for c in columns)
    defaults = {c.name: c.default.arg if c.default is not None else None for c in columns}
    with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in _chained(first, rows):
            copy.write_row([_stored(row.get(name, defaults[name])) for name in defaults])


def _chained(first: dict[str, Any], rest: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield first
    yield from rest


def _stored(value: Any) -> Any:
    """Return a value as COPY writes it: an enum by its value, a dict as JSON."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


def _organisations(members: int, created: datetime) -> Iterator[dict[str, Any]]:
    from campaign.network.models import OrganisationKind

    for n in range(members):
        yield {
            "id": n + 1,
            "slug": f"m{n}",
            "name": f"Kommun {n}",
            "short_name": f"K{n}",
            "kind": OrganisationKind.MUNICIPALITY,
            "email_domains": f"m{n}.se",
            "created_at": created,
        }


def _campaign(start: datetime, created: datetime) -> dict[str, Any]:
    return {
        "id": 1,
        "slug": "nationell",
        "name": "Resfria möten i hela landet",
        "lead_organisation_id": 1,
        "starts_on": start.date(),
        "ends_on": start.date() + timedelta(weeks=52),
        "rate_limit_per_minute": None,
        "created_at": created,
    }


def _memberships(members: int, created: datetime) -> Iterator[dict[str, Any]]:
    for n in range(members):
        yield {
            "id": n + 1,
            "campaign_id": 1,
            "organisation_id": n + 1,
            "meeting_software": "Teams",
            "contact_name": "Kim Svensson",
            "contact_email": f"it@m{n}.se",
            "created_at": created,
            "updated_at": created,
        }


def _groups(members: int, first_day: date, created: datetime) -> Iterator[dict[str, Any]]:
    from campaign.enrolment.models import PilotGroupKind

    for n in range(members):
        yield {
            "id": n + 1,
            "campaign_id": 1,
            "organisation_id": n + 1,
            "name": "Provgruppen",
            "kind": PilotGroupKind.VOLUNTEERS,
            "starts_on": first_day + timedelta(days=n % 5),  # Monday to Friday
            "sequence_name": SEQUENCE,
            "created_at": created,
        }


def _people(member: int, ids: range, created: datetime) -> Iterator[dict[str, Any]]:
    from campaign.enrolment.models import ParticipantStatus

    for pid in ids:
        yield {
            "id": pid,
            "campaign_id": 1,
            "organisation_id": member + 1,
            "pilot_group_id": member + 1,
            "email": f"p{pid}@m{member}.se",
            "name": f"Deltagare {pid}",
            "title": "Handläggare",
            "language": "sv",
            "status": ParticipantStatus.ACTIVE,
            "created_at": created,
            "updated_at": created,
        }


def _consents(ids: range, created: datetime) -> Iterator[dict[str, Any]]:
    from campaign.enrolment.models import ConsentMethod

    for pid in ids:
        yield {
            "id": pid,
            "participant_id": pid,
            "method": ConsentMethod.IMPORT,
            "given_at": created,
            "source": "import: provgruppen.csv",
            "text": CONSENT_TEXT,
        }


def _follow_on(cursor: Any, table: str) -> None:
    """Move the table's id sequence past the ids COPY wrote, so the app's inserts follow on."""
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'),"
        f' (SELECT coalesce(max(id), 1) FROM "{table}"))'
    )


def _progress(member: int, members: int, participants: int) -> None:
    if (member + 1) % max(1, members // 10) == 0 or member + 1 == members:
        done = (member + 1) * participants
        print(f"  filled {member + 1} of {members} members ({done:,} participants)", flush=True)
        sys.stdout.flush()
