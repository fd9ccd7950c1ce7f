"""Importing participants from the spreadsheets representatives have: read, check, confirm.

An import is two steps. `read_import` reads the uploaded file and records, row by row, what
confirming would do (add, update, leave unchanged, or reject, with the reason) in `import_row`;
nothing else is written. `apply_import` then writes all of it in one transaction, with
INSERT ... SELECT from those rows, or nothing at all if the enrolments changed in between.

Real-world exports are expected: Excel's CSV with semicolons or commas, UTF-8 with or without a
byte-order mark, Windows-1252, UTF-16 "Unicode text", quoted fields, blank lines, and header
names in Swedish or English.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import logging
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zipfile import BadZipFile

from email_validator import EmailNotValidError, validate_email
from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campaign import db
from campaign.audit import record
from campaign.enrolment.erasure import address_hash, erased_among
from campaign.enrolment.models import (
    Consent,
    ConsentMethod,
    ErasedAddress,
    ImportRow,
    ImportState,
    Participant,
    ParticipantImport,
    ParticipantStatus,
    PilotGroup,
    RowOutcome,
)
from campaign.network.models import Campaign
from campaign.outbox.models import Suppression
from campaign.timing import current_clock, local_date

log = logging.getLogger(__name__)

BATCH = 5000
MAX_NAME = 200
# What a row can be rejected for, and the sentence a representative reads.
REASONS = {
    "missing_email": _l("No e-mail address"),
    "invalid_email": _l("Not a valid e-mail address"),
    "duplicate_in_file": _l("The same address is on an earlier row of the file"),
    "suppressed": _l("The address has unsubscribed or bounced; it gets no more mail"),
    "erased": _l(
        "The person's data was erased at their request; only they can join again, with the"
        " pilot group's self-enrolment link"
    ),
    "other_member": _l("Already enrolled by another member of the network"),
    "other_group": _l("Already enrolled in another of your pilot groups"),
    "already_enrolled": _l("Already enrolled in this pilot group, nothing to change"),
    "unknown_language": _l("Unknown language; write sv or en"),
    "too_long": _l("The name or title is longer than 200 characters"),
}

# Header names as people write them, lower-cased with everything but letters removed.
COLUMNS = {
    "email": {
        "epost", "epostadress", "email", "emailaddress", "emailadress", "mail", "mailadress",
        "mejl", "mejladress", "eadress", "emejl",
    },
    "name": {"namn", "name", "fullname", "fulltnamn", "fullstandigtnamn", "forochefternamn"},
    "first_name": {"fornamn", "firstname", "givenname", "tilltalsnamn"},
    "last_name": {"efternamn", "lastname", "surname", "familyname"},
    "title": {"titel", "title", "befattning", "yrkestitel", "jobtitle", "roll", "role"},
    "language": {"sprak", "language", "lang"},
}  # fmt: skip
LANGUAGE_VALUES = {
    "sv": "sv", "svenska": "sv", "swedish": "sv", "se": "sv",
    "en": "en", "engelska": "en", "english": "en", "eng": "en",
}  # fmt: skip
_FOLD = str.maketrans("åäöéüÅÄÖÉÜ", "aaoeuaaoeu")

# Why a whole file could not be read: stored as the key, shown in the reader's language.
FILE_ERRORS = {
    "empty": _l("The file is empty."),
    "xls": _l("This is an old Excel file (.xls). Save it as .xlsx or as CSV and try again."),
    "binary": _l("This does not look like a CSV or Excel file."),
    "no_rows": _l("The file has no rows."),
    "damaged": _l("The Excel file could not be opened; is it damaged?"),
    "no_email_column": _l(
        "No column of e-mail addresses was found. The first row must name the columns,"
        " for example E-post and Namn."
    ),
    "interrupted": _l("The reading was interrupted. Please upload the file again."),
    "broken": _l("The file could not be read because of an error in the service."),
}


# A plain ASCII dot-atom local part, which email-validator always accepts; anything else
# (quoted, internationalised) takes the full check.
_PLAIN_LOCAL = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")


@functools.lru_cache(maxsize=4096)
def _checked_domain(domain: str) -> str:
    return validate_email(f"x@{domain}", check_deliverability=False).domain


def normalise_address(text: str) -> str:
    """Return the address in lower case if it is valid; raise EmailNotValidError if not.

    A file holds thousands of addresses in a few domains, so each domain is checked once.
    """
    lowered = text.strip().lower()
    local, at, domain = lowered.rpartition("@")
    if at and len(local) <= 64 and len(lowered) <= 254 and _PLAIN_LOCAL.match(local):
        return f"{local}@{_checked_domain(domain)}"
    return validate_email(text.strip(), check_deliverability=False).normalized.lower()


class ImportFileError(Exception):
    """The file as a whole cannot be read; `reason` is a key of FILE_ERRORS."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Table:
    """The rows of a file: its header, and (row number, cells) for each row after it."""

    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    estimated_rows: int
    columns: dict[str, int] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    used: list[str] = field(default_factory=list)  # the used columns' names, as written


def header_key(cell: str) -> str:
    """Return a header cell folded for matching: 'E-post ' -> 'epost', 'Förnamn' -> 'fornamn'."""
    return re.sub(r"[^a-z]", "", cell.strip().lower().translate(_FOLD))


def decode(content: bytes) -> str:
    """Return the text of a CSV file in whichever encoding Excel or a mail system wrote it."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16")):
        if content.startswith(bom):
            return content.decode(encoding)
    if content.startswith(codecs.BOM_UTF16_BE):
        return content.decode("utf-16")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        # Excel on Swedish Windows saves "CSV (semikolonavgränsad)" in Windows-1252.
        return content.decode("cp1252", errors="replace")


def delimiter_of(text: str) -> str:
    """Return the separator of the first non-blank line: semicolon, comma or tab."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    unquoted = re.sub(r'"[^"]*"', "", first)
    counts = {d: unquoted.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_table(content: bytes, filename: str) -> Table:
    """Open a CSV or XLSX file; raise ImportFileError if it is neither or has no address column."""
    if not content.strip():
        raise ImportFileError("empty")
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError("xls")
    if content.startswith(b"PK\x03\x04"):
        records, estimated = _xlsx_records(content)
    else:
        text = decode(content)
        if "\x00" in text:
            raise ImportFileError("binary")
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter_of(text))
        records, estimated = (list(r) for r in reader), text.count("\n") + 1
    numbered = enumerate(records, start=1)
    for number, cells in numbered:
        if any(c.strip() for c in cells):
            table = _with_columns(number, cells, numbered, estimated)
            return table
    raise ImportFileError("no_rows")


def _xlsx_records(content: bytes) -> tuple[Iterator[list[str]], int]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError) as error:
        log.info("unreadable xlsx: %s", error)
        raise ImportFileError("damaged") from None
    sheet = book.worksheets[0]

    def cells() -> Iterator[list[str]]:
        for row in sheet.iter_rows(values_only=True):
            yield [_cell_text(value) for value in row]
        book.close()

    return cells(), sheet.max_row or 0


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _with_columns(
    number: int, first: list[str], rest: Iterator[tuple[int, list[str]]], estimated: int
) -> Table:
    columns: dict[str, int] = {}
    ignored = []
    for index, cell in enumerate(first):
        key = header_key(cell)
        column = next((name for name, names in COLUMNS.items() if key in names), None)
        if column and column not in columns:
            columns[column] = index
        elif cell.strip():
            ignored.append(cell.strip())
    if "email" in columns:
        table = Table(first, rest, max(estimated - number, 0), columns, ignored)
        table.used = [first[i].strip() for i in sorted(columns.values())]
        return table
    # No header row: a file of addresses, perhaps with names beside them.
    at = [i for i, cell in enumerate(first) if "@" in cell]
    if not at:
        raise ImportFileError("no_email_column")
    columns = {"email": at[0]}
    others = [i for i, cell in enumerate(first) if i != at[0] and cell.strip()]
    if len(others) == 1:
        columns["name"] = others[0]

    def again() -> Iterator[tuple[int, list[str]]]:
        yield number, first
        yield from rest

    return Table([], again(), max(estimated - number + 1, 0), columns, [])


@dataclass
class Parsed:
    """One non-blank row as read, before it is compared with the enrolments."""

    row_number: int
    email: str
    name: str
    title: str
    language: str | None  # None: the file does not say
    reason: str = ""
    detail: str = ""


def parse_row(number: int, cells: list[str], columns: dict[str, int]) -> Parsed | None:
    """Return the row's values, with a reason if they are unusable; None for a blank row."""
    if not any(c.strip() for c in cells):
        return None

    def cell(name: str) -> str:
        index = columns.get(name)
        return " ".join(cells[index].split()) if index is not None and index < len(cells) else ""

    name = cell("name") or " ".join(p for p in (cell("first_name"), cell("last_name")) if p)
    raw_language = cell("language").lower()
    language = LANGUAGE_VALUES.get(raw_language) if raw_language else None
    parsed = Parsed(number, cell("email"), name, cell("title"), language)
    if not parsed.email:
        parsed.reason = "missing_email"
    elif raw_language and language is None:
        parsed.reason, parsed.detail = "unknown_language", cell("language")
    elif len(name) > MAX_NAME or len(parsed.title) > MAX_NAME:
        parsed.reason = "too_long"
    else:
        try:
            parsed.email = normalise_address(parsed.email)
        except EmailNotValidError as error:
            parsed.reason, parsed.detail = "invalid_email", str(error)
    return parsed


@dataclass
class Target:
    """Where an import goes: one pilot group of one member, and the campaign's defaults."""

    campaign_id: int
    organisation_id: int
    pilot_group_id: int
    language: str


def classify(
    db_session: Session, target: Target, batch: list[Parsed], seen: dict[str, int]
) -> list[dict[str, Any]]:
    """Return the import_row values for a batch: what confirming would do with each row."""
    emails = {p.email for p in batch if not p.reason}
    existing = {
        row.email: row
        for row in db_session.execute(
            select(
                Participant.id,
                Participant.email,
                Participant.organisation_id,
                Participant.pilot_group_id,
                Participant.name,
                Participant.title,
                Participant.language,
                Participant.status,
                PilotGroup.name.label("group_name"),
            )
            .outerjoin(PilotGroup, PilotGroup.id == Participant.pilot_group_id)
            .where(Participant.campaign_id == target.campaign_id, Participant.email.in_(emails))
        )
    }
    suppressed = set(
        db_session.scalars(select(Suppression.email).where(Suppression.email.in_(emails)))
    )
    erased = erased_among(db_session, target.campaign_id, emails - set(existing))
    rows = []
    for p in batch:
        row: dict[str, Any] = {
            "row_number": p.row_number,
            "email": p.email[:320],
            "name": p.name[:MAX_NAME],
            "title": p.title[:MAX_NAME],
            "language": p.language or target.language,
            "reason": p.reason,
            "detail": p.detail[:300],
            "participant_id": None,
            "outcome": RowOutcome.REJECT,
        }
        rows.append(row)
        if p.reason:
            continue
        if p.email in seen:
            row["reason"], row["detail"] = "duplicate_in_file", str(seen[p.email])
            continue
        seen[p.email] = p.row_number
        found = existing.get(p.email)
        if p.email in suppressed or (
            found is not None
            and found.status in (ParticipantStatus.UNSUBSCRIBED, ParticipantStatus.BOUNCED)
        ):
            row["reason"] = "suppressed"
        elif p.email in erased:
            row["reason"] = "erased"  # only the person can undo an erasure (see erasure.py)
        elif found is None:
            row["outcome"] = RowOutcome.ADD
        elif found.organisation_id != target.organisation_id:
            row["reason"] = "other_member"  # which member is not said: that is theirs to know
        elif found.pilot_group_id != target.pilot_group_id:
            row["reason"], row["detail"] = "other_group", found.group_name or ""
        else:
            row["participant_id"] = found.id
            changes = {
                "name": p.name or found.name,
                "title": p.title or found.title,
                "language": p.language or found.language,
            }
            changed = [k for k, v in changes.items() if v != getattr(found, k)]
            row.update(changes)
            if changed:
                row["outcome"], row["detail"] = RowOutcome.UPDATE, ", ".join(changed)
            else:
                row["outcome"], row["reason"] = RowOutcome.UNCHANGED, "already_enrolled"
    return rows


Progress = Callable[[int, int], None]


def read_import(
    db_session: Session, job: ParticipantImport, progress: Progress | None = None
) -> None:
    """Read the import's file into import_row, committing each batch, and mark it ready.

    On a file that cannot be read, the import is marked failed with the reason.
    """
    db_session.execute(delete(ImportRow).where(ImportRow.import_id == job.id))
    job.state, job.rows_read, job.error, job.counts = ImportState.READING, 0, "", {}
    db_session.commit()
    try:
        table = read_table(job.content or b"", job.filename)
    except ImportFileError as error:
        job.state, job.error = ImportState.FAILED, error.reason
        job.finished_at = current_clock().now()
        db_session.commit()
        return
    campaign = db_session.get(Campaign, job.campaign_id)
    target = Target(
        job.campaign_id,
        job.organisation_id,
        job.pilot_group_id,
        campaign.language if campaign else "sv",
    )
    job.rows_total = table.estimated_rows
    counts = dict.fromkeys((o.value for o in RowOutcome), 0)
    counts["blank"] = 0
    seen: dict[str, int] = {}
    batch: list[Parsed] = []
    read = 0

    def flush() -> None:
        rows = classify(db_session, target, batch, seen)
        for row in rows:
            counts[row["outcome"].value] += 1
            row["import_id"] = job.id
        if rows:
            db_session.execute(insert(ImportRow), rows)
        job.rows_read = read
        job.rows_total = max(job.rows_total, read)
        db_session.commit()
        if progress:
            progress(read, job.rows_total)
        batch.clear()

    for number, cells in table.rows:
        read += 1
        parsed = parse_row(number, cells, table.columns)
        if parsed is None:
            counts["blank"] += 1
        else:
            batch.append(parsed)
        if len(batch) >= BATCH:
            flush()
    flush()
    job.counts = {
        **counts,
        "columns": table.used,
        "ignored_columns": table.ignored,
    }
    job.rows_total = read
    job.state = ImportState.READY
    job.finished_at = current_clock().now()
    db_session.commit()


def start_date(group: PilotGroup, campaign: Campaign, now: datetime) -> date:
    """Return when a person enrolled now starts: the group's start, or today if it has begun."""
    return max(group.starts_on, local_date(now, campaign.timezone))


@dataclass
class Applied:
    added: int
    updated: int


class PlanChanged(Exception):
    """The enrolments changed since the preview; it has to be read again before confirming."""


def apply_import(db_session: Session, job: ParticipantImport, actor: Any, now: datetime) -> Applied:
    """Write the import as previewed, all of it or nothing; raise PlanChanged if it is stale."""
    if job.state is not ImportState.READY:
        raise PlanChanged
    rows = select(ImportRow).where(ImportRow.import_id == job.id).subquery()
    adds = select(rows).where(rows.c.outcome == RowOutcome.ADD).subquery()
    stale = db_session.scalar(
        select(func.count())
        .select_from(adds)
        .where(
            select(Participant.id)
            .where(Participant.campaign_id == job.campaign_id, Participant.email == adds.c.email)
            .exists()
            | select(Suppression.id).where(Suppression.email == adds.c.email).exists()
        )
    ) or db_session.scalar(
        select(func.count())
        .select_from(rows)
        .where(rows.c.outcome.in_([RowOutcome.UPDATE, RowOutcome.UNCHANGED]))
        .where(
            ~select(Participant.id)
            .where(
                Participant.id == rows.c.participant_id,
                Participant.pilot_group_id == job.pilot_group_id,
                Participant.status.not_in(
                    [
                        ParticipantStatus.UNSUBSCRIBED,
                        ParticipantStatus.BOUNCED,
                        ParticipantStatus.ERASED,
                    ]
                ),
            )
            .exists()
        )
    )
    if stale or _erased_since(db_session, job):
        raise PlanChanged
    group = db_session.get(PilotGroup, job.pilot_group_id)
    campaign = db_session.get(Campaign, job.campaign_id)
    assert group is not None and campaign is not None
    table = Participant.__table__
    mine = (ImportRow.import_id == job.id) & (ImportRow.outcome == RowOutcome.ADD)
    try:
        db_session.execute(
            insert(Participant).from_select(
                [
                    "campaign_id",
                    "organisation_id",
                    "pilot_group_id",
                    "email",
                    "name",
                    "title",
                    "language",
                    "status",
                    "starts_on",
                    "created_at",
                    "updated_at",
                ],  # fmt: skip
                select(
                    literal(job.campaign_id),
                    literal(job.organisation_id),
                    literal(job.pilot_group_id),
                    ImportRow.email,
                    ImportRow.name,
                    ImportRow.title,
                    ImportRow.language,
                    literal(ParticipantStatus.ACTIVE, table.c.status.type),
                    literal(start_date(group, campaign, now), table.c.starts_on.type),
                    literal(now, table.c.created_at.type),
                    literal(now, table.c.updated_at.type),
                ).where(mine),
            )
        )
    except IntegrityError:  # someone enrolled one of the addresses a moment ago
        db_session.rollback()
        raise PlanChanged from None
    by = getattr(actor, "email", None) or "the command line"
    source = f"import #{job.id} of {job.filename[:150]} by {by}"
    consent_text = consent_for_import(job, group, campaign.language)
    consents = Consent.__table__
    db_session.execute(
        insert(Consent).from_select(
            ["participant_id", "method", "given_at", "source", "text"],
            select(
                Participant.id,
                literal(ConsentMethod.IMPORT, consents.c.method.type),
                literal(now, consents.c.given_at.type),
                literal(source[:300]),
                literal(consent_text),
            )
            .join(ImportRow, ImportRow.email == Participant.email)
            .where(mine, Participant.campaign_id == job.campaign_id),
        )
    )
    changes = (ImportRow.import_id == job.id) & (ImportRow.outcome == RowOutcome.UPDATE)

    def new(column: Any) -> Any:
        return (
            select(column)
            .where(changes, ImportRow.participant_id == Participant.id)
            .scalar_subquery()
        )

    db_session.execute(
        update(Participant)
        .where(Participant.id.in_(select(ImportRow.participant_id).where(changes)))
        .values(
            name=new(ImportRow.name),
            title=new(ImportRow.title),
            language=new(ImportRow.language),
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    # The checks above make these exact (drivers differ in reporting INSERT ... SELECT counts).
    added, updated = job.counts.get("add", 0), job.counts.get("update", 0)
    db_session.execute(delete(ImportRow).where(ImportRow.import_id == job.id))
    job.state, job.content, job.finished_at = ImportState.APPLIED, None, now
    job.counts = {**job.counts, "added": added, "updated": updated}
    record(
        db_session,
        actor,
        "participants.imported",
        organisation_id=job.organisation_id,
        target=f"import:{job.id}",
        group=group.name,
        added=added,
        updated=updated,
        rejected=job.counts.get("reject", 0),
    )
    db_session.commit()
    return Applied(added, updated)


def _erased_since(db_session: Session, job: ParticipantImport) -> bool:
    """Whether an address the import would add was erased after the file was uploaded."""
    recent = set(
        db_session.scalars(
            select(ErasedAddress.address_hash).where(
                ErasedAddress.campaign_id == job.campaign_id,
                ErasedAddress.erased_at >= job.created_at,
            )
        )
    )
    if not recent:
        return False  # the usual case: nobody erased since, no address needs hashing
    adds = db_session.scalars(
        select(ImportRow.email).where(
            ImportRow.import_id == job.id, ImportRow.outcome == RowOutcome.ADD
        )
    )
    return any(address_hash(email) in recent for email in adds)


def consent_for_import(job: ParticipantImport, group: PilotGroup, language: str) -> str:
    """The statement a representative makes by confirming an import, stored with each person."""
    from campaign.i18n import load_catalog

    return load_catalog(language).gettext(
        "The representative confirmed that the people in %(file)s have agreed to take part in"
        " the pilot group %(group)s and to receive its e-mails, invitations and questionnaires"
        " until they unsubscribe or the campaign ends."
    ) % {"file": job.filename, "group": group.name}


def discard(db_session: Session, job: ParticipantImport, now: datetime) -> None:
    """Drop a previewed import and the personal data it holds."""
    db_session.execute(delete(ImportRow).where(ImportRow.import_id == job.id))
    job.state, job.content, job.finished_at = ImportState.DISCARDED, None, now


# An import left unconfirmed is dropped after this, with its file; one whose reading was cut
# off by a restart is marked failed.
UNCONFIRMED_LIFETIME = timedelta(days=2)
READING_LIFETIME = timedelta(minutes=30)


def tidy(db_session: Session, now: datetime) -> int:
    """Drop stale previews and mark interrupted readings failed; return how many."""
    stale = list(
        db_session.scalars(
            select(ParticipantImport).where(
                (
                    (ParticipantImport.state == ImportState.READY)
                    & (ParticipantImport.created_at < now - UNCONFIRMED_LIFETIME)
                )
                | (
                    (ParticipantImport.state == ImportState.READING)
                    & (ParticipantImport.created_at < now - READING_LIFETIME)
                )
            )
        )
    )
    for job in stale:
        if job.state is ImportState.READING:
            db_session.execute(delete(ImportRow).where(ImportRow.import_id == job.id))
            job.state, job.content = ImportState.FAILED, None
            job.error = "interrupted"
        else:
            discard(db_session, job, now)
    return len(stale)


_workers: dict[int, threading.Thread] = {}


def read_in_background(app: Flask, import_id: int) -> None:
    """Read an import in a thread of this process; its page shows the progress meanwhile."""

    def work() -> None:
        with app.app_context(), db.open_session(app) as db_session:
            job = db_session.get(ParticipantImport, import_id)
            if job is None:
                return
            try:
                read_import(db_session, job)
            except Exception:
                log.exception("reading import %s failed", import_id)
                db_session.rollback()
                db_session.execute(delete(ImportRow).where(ImportRow.import_id == import_id))
                job.state, job.content = ImportState.FAILED, None
                job.error = "broken"
                db_session.commit()

    worker = threading.Thread(target=work, name=f"import-{import_id}", daemon=True)
    _workers[import_id] = worker
    worker.start()


def wait_for_readers(timeout: float = 120) -> None:
    """Wait until every import being read in this process is read (for tests and shutdown)."""
    for import_id, worker in list(_workers.items()):
        worker.join(timeout)
        _workers.pop(import_id, None)
