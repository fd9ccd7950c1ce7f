"""Confirming an import: all of it is written in one transaction, or nothing; and tidying up.

`apply_import` writes the rows previewed in import_row with INSERT ... SELECT, or raises
PlanChanged if the enrolments changed since the preview; `discard` and `tidy` drop previews and
the personal data they hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Subquery,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campaign.audit import record
from campaign.enrolment.consent import source_of
from campaign.enrolment.erasure import address_hash
from campaign.enrolment.lifecycle import STOPPED
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
from campaign.network.retention import kept_until, long_date
from campaign.outbox.models import Suppression
from campaign.timing import local_date
from campaign.webhooks.bulk import emit_each
from campaign.webhooks.emit import emit


def start_date(group: PilotGroup, campaign: Campaign, now: datetime) -> date:
    """Return when a person enrolled now starts: the group's start, or today if it has begun."""
    return max(group.starts_on, local_date(now, campaign.timezone))


@dataclass
class Applied:
    """How many people an applied import added and updated."""

    added: int
    updated: int


class PlanChanged(Exception):
    """The enrolments changed since the preview; it has to be read again before confirming."""


def apply_import(db_session: Session, job: ParticipantImport, actor: Any, now: datetime) -> Applied:
    """Write the import as previewed, all of it or nothing; raise PlanChanged if it is stale."""
    if job.state is not ImportState.READY or _stale(db_session, job):
        raise PlanChanged
    group = db_session.get(PilotGroup, job.pilot_group_id)
    campaign = db_session.get(Campaign, job.campaign_id)
    assert group is not None and campaign is not None
    _insert_added(db_session, job, start_date(group, campaign, now), now)
    text = consent_for_import(job, group, campaign)
    _insert_consents(db_session, job, _consent_source(job, actor), text, now)
    _update_changed(db_session, job, now)
    _emit_enrolled(db_session, job, now)
    applied = _close(db_session, job, group, actor, now)
    db_session.commit()
    return applied


def _consent_source(job: ParticipantImport, actor: Any) -> str:
    """Say which import, of which file and by whom, the consent was given in."""
    return source_of(import_id=job.id, file=job.filename[:150], by=getattr(actor, "email", None))


def _stale(db_session: Session, job: ParticipantImport) -> bool:
    """Whether the enrolments changed since the preview, so that it would no longer be true."""
    rows = select(ImportRow).where(ImportRow.import_id == job.id).subquery()
    return (
        _taken(db_session, job, rows)
        or _gone(db_session, job, rows)
        or _erased_since(db_session, job)
    )


def _taken(db_session: Session, job: ParticipantImport, rows: Subquery) -> bool:
    """Whether an address to add was enrolled or suppressed since the preview."""
    adds = select(rows).where(rows.c.outcome == RowOutcome.ADD).subquery()
    enrolled = select(Participant.id).where(
        Participant.campaign_id == job.campaign_id, Participant.email == adds.c.email
    )
    suppressed = select(Suppression.id).where(Suppression.email == adds.c.email)
    query = select(func.count()).select_from(adds).where(enrolled.exists() | suppressed.exists())
    return bool(db_session.scalar(query))


def _gone(db_session: Session, job: ParticipantImport, rows: Subquery) -> bool:
    """Whether a participant to update or leave unchanged left the group, or stopped."""
    still_there = select(Participant.id).where(
        Participant.id == rows.c.participant_id,
        Participant.pilot_group_id == job.pilot_group_id,
        Participant.status.not_in(STOPPED),
    )
    query = (
        select(func.count())
        .select_from(rows)
        .where(rows.c.outcome.in_([RowOutcome.UPDATE, RowOutcome.UNCHANGED]))
        .where(~still_there.exists())
    )
    return bool(db_session.scalar(query))


def _insert_added(
    db_session: Session, job: ParticipantImport, starts_on: date, now: datetime
) -> None:
    """Enrol the rows to add, active from `starts_on`; PlanChanged if one was enrolled meanwhile."""
    statement = insert(Participant).from_select(_ADDED, _added(job, starts_on, now))
    try:
        db_session.execute(statement)
    except IntegrityError:  # someone enrolled one of the addresses a moment ago
        db_session.rollback()
        raise PlanChanged from None


# The columns of a participant an import fills, in the order of `_added`.
_ADDED = [
    "campaign_id", "organisation_id", "pilot_group_id", "email", "name", "title", "language",
    "status", "starts_on", "created_at", "updated_at",
]  # fmt: skip


def _added(job: ParticipantImport, starts_on: date, now: datetime) -> Select[Any]:
    """A query of the new participants' values, one row for each row to add."""
    table = Participant.__table__
    return select(
        literal(job.campaign_id),
        literal(job.organisation_id),
        literal(job.pilot_group_id),
        ImportRow.email,
        ImportRow.name,
        ImportRow.title,
        ImportRow.language,
        literal(ParticipantStatus.ACTIVE, table.c.status.type),
        literal(starts_on, table.c.starts_on.type),
        literal(now, table.c.created_at.type),
        literal(now, table.c.updated_at.type),
    ).where(_rows_to(job, RowOutcome.ADD))


def _rows_to(job: ParticipantImport, outcome: RowOutcome) -> ColumnElement[bool]:
    """The condition on import_row of the import's rows with this outcome."""
    return (ImportRow.import_id == job.id) & (ImportRow.outcome == outcome)


def _insert_consents(
    db_session: Session, job: ParticipantImport, source: str, text: str, now: datetime
) -> None:
    """Record the consent the representative confirmed for every person added."""
    consents = Consent.__table__
    db_session.execute(
        insert(Consent).from_select(
            ["participant_id", "method", "given_at", "source", "text"],
            select(
                Participant.id,
                literal(ConsentMethod.IMPORT, consents.c.method.type),
                literal(now, consents.c.given_at.type),
                literal(source[:300]),
                literal(text),
            )
            .join(ImportRow, ImportRow.email == Participant.email)
            .where(_rows_to(job, RowOutcome.ADD), Participant.campaign_id == job.campaign_id),
        )
    )


def _emit_enrolled(db_session: Session, job: ParticipantImport, now: datetime) -> None:
    """Tell the member's webhook receivers of each person added, with the import's id."""
    added = (
        select(Participant.id)
        .join(ImportRow, ImportRow.email == Participant.email)
        .where(_rows_to(job, RowOutcome.ADD), Participant.campaign_id == job.campaign_id)
    )
    data = {
        "organisation_id": job.organisation_id, "pilot_group_id": job.pilot_group_id,
        "import_id": job.id,
    }  # fmt: skip
    emit_each(
        db_session, campaign_id=job.campaign_id, organisation_id=job.organisation_id,
        event_type="participant.enrolled", data=data, each=("participant_id", added), now=now,
    )  # fmt: skip


def _update_changed(db_session: Session, job: ParticipantImport, now: datetime) -> None:
    """Give the participants of the rows to update their new name, title and language."""
    changes = _rows_to(job, RowOutcome.UPDATE)
    db_session.execute(
        update(Participant)
        .where(Participant.id.in_(select(ImportRow.participant_id).where(changes)))
        .values(
            name=_new(changes, ImportRow.name),
            title=_new(changes, ImportRow.title),
            language=_new(changes, ImportRow.language),
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )


def _new(changes: ColumnElement[bool], column: Any) -> Any:
    """The value of `column` in the participant's row to update, as a subquery."""
    return (
        select(column).where(changes, ImportRow.participant_id == Participant.id).scalar_subquery()
    )


def _close(
    db_session: Session, job: ParticipantImport, group: PilotGroup, actor: Any, now: datetime
) -> Applied:
    """Mark the import applied, drop its rows and file, and audit it."""
    # The checks above make these exact (drivers differ in reporting INSERT ... SELECT counts).
    added, updated = job.counts.get("add", 0), job.counts.get("update", 0)
    db_session.execute(delete(ImportRow).where(ImportRow.import_id == job.id))
    job.state, job.content, job.finished_at = ImportState.APPLIED, None, now
    job.counts = {**job.counts, "added": added, "updated": updated}
    record(
        db_session, actor, "participants.imported", now=now, campaign_id=job.campaign_id,
        organisation_id=job.organisation_id,
        target=f"import:{job.id}", group=group.name, added=added, updated=updated,
        rejected=job.counts.get("reject", 0),
    )  # fmt: skip
    _emit_applied(db_session, job, added, updated, now)
    return Applied(added, updated)


def _emit_applied(
    db_session: Session, job: ParticipantImport, added: int, updated: int, now: datetime
) -> None:
    """Tell the member's webhook receivers how many the import added and updated."""
    data = {
        "import_id": job.id, "organisation_id": job.organisation_id,
        "pilot_group_id": job.pilot_group_id, "added": added, "updated": updated,
        "rejected": job.counts.get("reject", 0),
    }  # fmt: skip
    emit(
        db_session, campaign_id=job.campaign_id, organisation_id=job.organisation_id,
        event_type="import.applied", data=data, now=now,
    )  # fmt: skip


def _erased_since(db_session: Session, job: ParticipantImport) -> bool:
    """Whether an address the import would add was erased after the file was uploaded."""
    recent = _erased_hashes_since(db_session, job)
    if not recent:
        return False  # the usual case: nobody erased since, no address needs hashing
    adds = db_session.scalars(
        select(ImportRow.email).where(
            ImportRow.import_id == job.id, ImportRow.outcome == RowOutcome.ADD
        )
    )
    return any(address_hash(email) in recent for email in adds)


def _erased_hashes_since(db_session: Session, job: ParticipantImport) -> set[str]:
    """Return the tombstones left in the import's campaign since its file was uploaded."""
    return set(
        db_session.scalars(
            select(ErasedAddress.address_hash).where(
                ErasedAddress.campaign_id == job.campaign_id,
                ErasedAddress.erased_at >= job.created_at,
            )
        )
    )


def consent_for_import(job: ParticipantImport, group: PilotGroup, campaign: Campaign) -> str:
    """The statement a representative makes by confirming an import, stored with each person."""
    from campaign.i18n import load_catalog

    language = campaign.language
    return load_catalog(language).gettext(
        "The representative confirmed that the people in %(file)s have agreed to take part in"
        " the pilot group %(group)s and to receive its e-mails, invitations and questionnaires"
        " until they unsubscribe or the campaign ends, and that their data is kept until"
        " %(kept)s and then deleted."
    ) % {
        "file": job.filename,
        "group": group.name,
        "kept": long_date(kept_until(campaign), language),
    }


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
    stale = _left_behind(db_session, now)
    for job in stale:
        if job.state is ImportState.READING:
            _fail_interrupted(db_session, job)
        else:
            discard(db_session, job, now)
    return len(stale)


def _left_behind(db_session: Session, now: datetime) -> list[ParticipantImport]:
    """Return the previews left unconfirmed too long and the readings cut off by a restart."""
    query = select(ParticipantImport).where(
        (
            (ParticipantImport.state == ImportState.READY)
            & (ParticipantImport.created_at < now - UNCONFIRMED_LIFETIME)
        )
        | (
            (ParticipantImport.state == ImportState.READING)
            & (ParticipantImport.created_at < now - READING_LIFETIME)
        )
    )
    return list(db_session.scalars(query))


def _fail_interrupted(db_session: Session, job: ParticipantImport) -> None:
    """Mark an import whose reading was cut off failed, dropping what was read and its file."""
    db_session.execute(delete(ImportRow).where(ImportRow.import_id == job.id))
    job.state, job.content = ImportState.FAILED, None
    job.error = "interrupted"
