"""The rows of an import: what each says, and what confirming it would do.

`parse_row` reads a row's cells into an address, a name, a title and a language, or the reason
they cannot be used; `classify` compares a batch of rows with the enrolments of the campaign.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.db import among
from campaign.enrolment.erasure import erased_among
from campaign.enrolment.lifecycle import STOPPED
from campaign.enrolment.models import Participant, PilotGroup, RowOutcome
from campaign.outbox.models import Suppression
from campaign.plaintext import one_line

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

LANGUAGE_VALUES = {
    "sv": "sv", "svenska": "sv", "swedish": "sv", "se": "sv",
    "en": "en", "engelska": "en", "english": "en", "eng": "en",
}  # fmt: skip

# A plain ASCII dot-atom local part, which email-validator always accepts; anything else
# (quoted, internationalised) takes the full check.
_PLAIN_LOCAL = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")


@functools.lru_cache(maxsize=4096)
def _checked_domain(domain: str) -> str:
    """Return the domain as email-validator normalises it; raise EmailNotValidError if bad."""
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


@dataclass(slots=True)
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
    if not any(map(str.strip, cells)):
        return None
    cell = _cells(cells, columns)
    name = cell.get("name") or " ".join(
        filter(None, (cell.get("first_name"), cell.get("last_name")))
    )
    written_language = cell.get("language", "")
    language = LANGUAGE_VALUES.get(written_language.lower())
    parsed = Parsed(number, cell.get("email", ""), name, cell.get("title", ""), language)
    _check(parsed, written_language)
    return parsed


def _cells(cells: list[str], columns: dict[str, int]) -> dict[str, str]:
    """Return the row's cell in each named column it reaches, on one line (a control character
    becomes a space)."""
    return {name: one_line(cells[i]) for name, i in columns.items() if i < len(cells)}


def _check(parsed: Parsed, written_language: str) -> None:
    """Give the row the reason its values cannot be used, if any; else normalise its address."""
    if not parsed.email:
        parsed.reason = "missing_email"
    elif written_language and parsed.language is None:
        parsed.reason, parsed.detail = "unknown_language", written_language
    elif len(parsed.name) > MAX_NAME or len(parsed.title) > MAX_NAME:
        parsed.reason = "too_long"
    else:
        try:
            parsed.email = normalise_address(parsed.email)
        except EmailNotValidError as error:
            parsed.reason, parsed.detail = "invalid_email", str(error)


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
    """Return the import_row values for a batch: what confirming would do with each row.

    `seen` maps each address read so far in the file to its first row; it grows with the batch.
    """
    known = _known(db_session, target, {p.email for p in batch if not p.reason})
    rows = []
    for p in batch:
        row = _rejected(p, target)
        rows.append(row)
        if not p.reason:
            _decide(row, p, seen, known, target)
    return rows


@dataclass(frozen=True)
class _Known:
    """What the campaign knows of a batch's addresses."""

    enrolled: dict[str, Any]  # address -> the participant's row (see _enrolled)
    suppressed: set[str]
    erased: set[str]


def _known(db_session: Session, target: Target, emails: set[str]) -> _Known:
    """Look the addresses up among the enrolled, the suppressed and the erased."""
    enrolled = _enrolled(db_session, target, emails)
    suppressed = set(
        db_session.scalars(
            select(Suppression.email).where(among(db_session, Suppression.email, emails))
        )
    )
    erased = erased_among(db_session, target.campaign_id, emails - set(enrolled))
    return _Known(enrolled, suppressed, erased)


def _decide(
    row: dict[str, Any], p: Parsed, seen: dict[str, int], known: _Known, target: Target
) -> None:
    """Decide a usable row: a repeated or a stopped address is rejected, the rest compared."""
    if p.email in seen:
        row["reason"], row["detail"] = "duplicate_in_file", str(seen[p.email])
        return
    seen[p.email] = p.row_number
    found = known.enrolled.get(p.email)
    if p.email in known.suppressed or (found is not None and found.status in STOPPED):
        row["reason"] = "suppressed"
    elif p.email in known.erased:
        row["reason"] = "erased"  # only the person can undo an erasure (see erasure.py)
    else:
        _compare(row, p, found, target)


def _enrolled(db_session: Session, target: Target, emails: set[str]) -> dict[str, Any]:
    """The campaign's participants with these addresses (and their group's name), by address."""
    return {
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
            .where(
                Participant.campaign_id == target.campaign_id,
                among(db_session, Participant.email, emails),
            )
        )
    }


def _rejected(p: Parsed, target: Target) -> dict[str, Any]:
    """The row's import_row values, rejected until classify finds what to do with it."""
    return {
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


def _compare(row: dict[str, Any], p: Parsed, found: Any, target: Target) -> None:
    """Decide a usable row by the participant already enrolled with its address, if any."""
    if found is None:
        row["outcome"] = RowOutcome.ADD
    elif found.organisation_id != target.organisation_id:
        row["reason"] = "other_member"  # which member is not said: that is theirs to know
    elif found.pilot_group_id != target.pilot_group_id:
        row["reason"], row["detail"] = "other_group", found.group_name or ""
    else:
        _compare_details(row, p, found)


def _compare_details(row: dict[str, Any], p: Parsed, found: Any) -> None:
    """Decide a row of a participant already in the group: update what the file changes (an
    empty cell keeps what is there), or leave them unchanged."""
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
