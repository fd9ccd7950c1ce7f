"""The start of a national campaign, written into PostgreSQL with COPY, for bench/scale.py.

One campaign (no rate limit: the relay's own limit is the dispatcher's business), MEMBERS
member municipalities with their memberships, a pilot group each following the shipped
pilot-group sequence (their first days spread over the weekdays of the first week, as a
national rollout staggers its start), and PARTICIPANTS active participants each, every one with
the consent an import records. Nobody has been looked at by the drip yet (next_step_at unset),
so the first run of `materialize` reads everyone, as after a real import.

Each member also has a practice meeting for its pilot group, MEETING_AFTER days after the
group's first day at 09:00 in Stockholm, with reminders a day and an hour before. Everyone is
invited, and the calendar mail waits in a fan-out for the campaign's start, as when a
representative invites the group before it (the `invitations` job sends it, the `reminders` job
reminds, and the sequence's step anchored to a practice meeting follows the day after).
"""

from __future__ import annotations

import enum
import json
import sys
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, Table

SEQUENCE = "pilot-group"
CONSENT_TEXT = "Jag vill vara med i provgruppen och få mejl om den."
MEETING_AFTER = 7  # days from a group's first day to its practice meeting
ZONE = ZoneInfo("Europe/Stockholm")


def fill(
    engine: Engine,
    members: int,
    participants: int,
    start: datetime,
    meeting_after: int = MEETING_AFTER,
) -> None:
    """Write the campaign's start into the (migrated, empty) database of `engine`."""
    from campaign.enrolment.models import Consent, Participant, PilotGroup
    from campaign.events.models import Event, Fanout, Invitation
    from campaign.network.models import Campaign, Membership, Organisation

    created = start - timedelta(days=30)
    raw = engine.raw_connection()
    try:
        with raw.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
            copy_rows(cursor, _table(Organisation), _organisations(members, created))
            copy_rows(cursor, _table(Campaign), [_campaign(start, created)])
            copy_rows(cursor, _table(Membership), _memberships(members, created))
            copy_rows(cursor, _table(PilotGroup), _groups(members, start.date(), created))
            meetings = list(_meetings(members, start.date(), meeting_after, created))
            copy_rows(cursor, _table(Event), meetings)
            copy_rows(cursor, _table(Fanout), _fanouts(members, participants, created))
            for member in range(members):
                people = range(member * participants + 1, (member + 1) * participants + 1)
                copy_rows(cursor, _table(Participant), _people(member, people, created))
                copy_rows(cursor, _table(Consent), _consents(people, created))
                copy_rows(cursor, _table(Invitation), _invitations(member, people, created))
                _progress(member, members, participants)
            for table in ("organisation", "campaign", "membership", "pilot_group", "participant"):
                _follow_on(cursor, table)
            for table in ("consent", "event", "event_fanout", "invitation"):
                _follow_on(cursor, table)
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


def _meetings(
    members: int, first_day: date, after: int, created: datetime
) -> Iterator[dict[str, Any]]:
    """Each member's practice meeting: `after` days after its group's first day, 09:00-10:00."""
    from campaign.events.models import Audience, EventKind

    for n in range(members):
        day = first_day + timedelta(days=n % 5 + after)
        starts = datetime.combine(day, time(9, 0), ZONE)
        yield {
            "id": n + 1,
            "campaign_id": 1,
            "organisation_id": n + 1,
            "pilot_group_id": n + 1,
            "kind": EventKind.PRACTICE_MEETING,
            "audience": Audience.PILOT_GROUP,
            "title": "Prova-på-möte: ditt första webbmöte",
            "description_md": "Ta med **headset**. Vi går igenom ljud, bild och delad skärm.",
            "starts_at": starts,
            "ends_at": starts + timedelta(hours=1),
            "timezone": ZONE.key,
            "join_url": f"https://meet.m{n}.se/prova",
            "room": "Sal 3",
            "reminders": "24h,1h",
            "uid": f"prova-{n}@m{n}.se",
            "sequence": 0,
            "is_cancelled": False,
            "created_at": created,
            "updated_at": created,
        }


def _fanouts(members: int, participants: int, created: datetime) -> Iterator[dict[str, Any]]:
    """The calendar mail of each meeting, waiting for the campaign's start."""
    from campaign.events.models import FanoutKind, FanoutState

    for n in range(members):
        yield {
            "id": n + 1,
            "event_id": n + 1,
            "sequence": 0,
            "kind": FanoutKind.INVITATION,
            "state": FanoutState.QUEUED,
            "total": participants,
            "done": 0,
            "created_at": created,
        }


def _invitations(member: int, ids: range, created: datetime) -> Iterator[dict[str, Any]]:
    from campaign.events.models import Rsvp

    for pid in ids:
        yield {
            "id": pid,
            "event_id": member + 1,
            "participant_id": pid,
            "rsvp": Rsvp.PENDING,
            "has_attended": False,
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
