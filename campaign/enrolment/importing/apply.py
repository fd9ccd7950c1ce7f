"""Confirming an import: all of it is written in one transaction, or nothing; and tidying up.

`apply_import` writes the rows previewed in import_row with INSERT ... SELECT, or raises
PlanChanged if the enrolments changed since the preview; `discard` and `tidy` drop previews and
the personal data they hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campaign.audit import record
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
from campaign.outbox.models import Suppression
from campaign.timing import local_date


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
    if job.state is not ImportState.READY or _stale(db_session, job):
        raise PlanChanged
    group = db_session.get(PilotGroup, job.pilot_group_id)
    campaign = db_session.get(Campaign, job.campaign_id)
    assert group is not None and campaign is not None
    _insert_added(db_session, job, start_date(group, campaign, now), now)
    by = getattr(actor, "email", None) or "the command line"
    source = f"import #{job.id} of {job.filename[:150]} by {by}"
    _insert_consents(
        db_session, job, source, consent_for_import(job, group, campaign.language), now
    )
    _update_changed(db_session, job, now)
    applied = _close(db_session, job, group, actor, now)
    db_session.commit()
    return applied


def _stale(db_session: Session, job: ParticipantImport) -> bool:
    """Whether the enrolments changed since the preview, so that it would no longer be true."""
    rows = select(ImportRow).where(ImportRow.import_id == job.id).subquery()
    adds = select(rows).where(rows.c.outcome == RowOutcome.ADD).subquery()
    taken = db_session.scalar(
        select(func.count())
        .select_from(adds)
        .where(
            select(Participant.id)
            .where(Participant.campaign_id == job.campaign_id, Participant.email == adds.c.email)
            .exists()
            | select(Suppression.id).where(Suppression.email == adds.c.email).exists()
        )
    )
    gone = taken or db_session.scalar(
        select(func.count())
        .select_from(rows)
        .where(rows.c.outcome.in_([RowOutcome.UPDATE, RowOutcome.UNCHANGED]))
        .where(
            ~select(Participant.id)
            .where(
                Participant.id == rows.c.participant_id,
                Participant.pilot_group_id == job.pilot_group_id,
                Participant.status.not_in(STOPPED),
            )
            .exists()
        )
    )
    return bool(gone) or _erased_since(db_session, job)


def _insert_added(
    db_session: Session, job: ParticipantImport, starts_on: date, now: datetime
) -> None:
    """Enrol the rows to add, active from `starts_on`; PlanChanged if one was enrolled meanwhile."""
    table = Participant.__table__
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
                    literal(starts_on, table.c.starts_on.type),
                    literal(now, table.c.created_at.type),
                    literal(now, table.c.updated_at.type),
                ).where(_rows_to(job, RowOutcome.ADD)),
            )
        )
    except IntegrityError:  # someone enrolled one of the addresses a moment ago
        db_session.rollback()
        raise PlanChanged from None


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


def _update_changed(db_session: Session, job: ParticipantImport, now: datetime) -> None:
    """Give the participants of the rows to update their new name, title and language."""
    changes = _rows_to(job, RowOutcome.UPDATE)

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
        db_session,
        actor,
        "participants.imported",
        now=now,
        organisation_id=job.organisation_id,
        target=f"import:{job.id}",
        group=group.name,
        added=added,
        updated=updated,
        rejected=job.counts.get("reject", 0),
    )
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
