"""Enrolling one person and moving them to another pilot group.

Their lifecycle after that (pause, resume, unsubscribe, erasure) is in `lifecycle`; the export
of their personal data, which gathers rows from every domain, in campaign/report/personal_data.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campaign.enrolment.consent import source_of
from campaign.enrolment.erasure import erased_at
from campaign.enrolment.importing import start_date
from campaign.enrolment.lifecycle import record_change
from campaign.enrolment.models import (
    Consent,
    ConsentMethod,
    Participant,
    ParticipantStatus,
    PilotGroup,
)
from campaign.i18n import load_catalog
from campaign.network.models import Campaign, Organisation
from campaign.network.retention import kept_until, long_date
from campaign.outbox.models import Suppression


class EnrolmentConflict(Exception):
    """The address cannot be enrolled; `reason` is a key of importing.REASONS."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Newcomer:
    """The person being enrolled, as they gave themself or staff entered them."""

    email: str
    name: str
    title: str
    language: str


def conflict_for(
    db_session: Session,
    campaign_id: int,
    organisation_id: int,
    email: str,
    *,
    asked_at: datetime | None = None,
) -> str | None:
    """Return why `email` cannot be enrolled by this member now, or None if it can.

    An erased address (`erased`) can come back only by the person's own request: `asked_at`,
    when they asked to join themself, must be after the erasure; staff give no `asked_at`.
    """
    if db_session.scalar(select(Suppression.id).where(Suppression.email == email)):
        return "suppressed"
    found = db_session.scalar(
        select(Participant).where(
            Participant.campaign_id == campaign_id, Participant.email == email
        )
    )
    if found is None:
        return _erased_conflict(db_session, campaign_id, email, asked_at)
    if found.organisation_id != organisation_id:
        return "other_member"
    return "already_enrolled"


def _erased_conflict(
    db_session: Session, campaign_id: int, email: str, asked_at: datetime | None
) -> str | None:
    """Return "erased" when the address was erased and the person has not asked since."""
    erased = erased_at(db_session, campaign_id, email)
    if erased is not None and (asked_at is None or asked_at <= erased):
        return "erased"
    return None


def enrol(
    db_session: Session,
    *,
    campaign: Campaign,
    group: PilotGroup,
    newcomer: Newcomer,
    consent: tuple[ConsentMethod, str, str],
    now: datetime,
    actor: Any = None,
    asked_at: datetime | None = None,
) -> Participant:
    """Add an active participant with their consent (method, source, text); the caller commits.

    Raises EnrolmentConflict when the address is suppressed, erased or already enrolled;
    `asked_at` is when the person asked to join themself (see conflict_for).
    """
    reason = conflict_for(
        db_session, campaign.id, group.organisation_id, newcomer.email, asked_at=asked_at
    )
    if reason:
        raise EnrolmentConflict(reason)
    person = _participant(campaign, group, newcomer, now)
    person.consents.append(_consent(consent, now))
    _add(db_session, person)
    audited = {"group": group.name, "method": consent[0].value}
    record_change(db_session, actor, "participant.enrolled", person, now, **audited)
    return person


def _consent(consent: tuple[ConsentMethod, str, str], now: datetime) -> Consent:
    """Return the record of a consent given now: how, where (at most 300 characters), to what."""
    method, source, text = consent
    return Consent(method=method, given_at=now, source=source[:300], text=text)


def _participant(
    campaign: Campaign, group: PilotGroup, newcomer: Newcomer, now: datetime
) -> Participant:
    """Return a new active participant of the group, starting on the group's start date."""
    return Participant(
        campaign_id=campaign.id,
        organisation_id=group.organisation_id,
        pilot_group_id=group.id,
        email=newcomer.email,
        name=newcomer.name,
        title=newcomer.title,
        language=newcomer.language,
        status=ParticipantStatus.ACTIVE,
        starts_on=start_date(group, campaign, now),
        created_at=now,
        updated_at=now,
    )


def _add(db_session: Session, person: Participant) -> None:
    """Add and flush the participant; EnrolmentConflict if the address was enrolled meanwhile."""
    db_session.add(person)
    try:
        with db_session.begin_nested():
            db_session.flush()
    except IntegrityError:  # enrolled a moment ago by someone else
        raise EnrolmentConflict("already_enrolled") from None


def self_enrolment_consent(
    language: str, organisation: Organisation, group: PilotGroup, campaign: Campaign
) -> str:
    """The text a person agrees to on the self-enrolment form, in their language."""
    _ = load_catalog(language).gettext
    return _(
        "I want to take part in the pilot group %(group)s of %(organisation)s in %(campaign)s."
        " I agree that my name, title and e-mail address are used to send me the group's"
        " e-mails, calendar invitations and questionnaires until the campaign ends on %(end)s,"
        " and are kept until %(kept)s and then deleted. My answers are reported together"
        " with others'. I can stop at any time with the link in every e-mail, and ask"
        " %(organisation)s to see or erase my data."
    ) % {
        "group": group.name,
        "organisation": organisation.name,
        "campaign": campaign.name,
        "end": long_date(campaign.ends_on, language),
        "kept": long_date(kept_until(campaign), language),
    }


def staff_consent(by: str, group: PilotGroup) -> tuple[ConsentMethod, str, str]:
    """The consent of a person staff enrol one by one (the form, the API): `by`, the staff
    member's address, confirmed that the person agreed; the text in the request's language."""
    text = gettext(
        "%(user)s confirmed that the person has agreed to take part in the pilot group %(group)s.",
        user=by,
        group=group.name,
    )
    return ConsentMethod.STAFF_FORM, source_of(by=by), text


def move(
    db_session: Session, person: Participant, group: PilotGroup, actor: Any, now: datetime
) -> bool:
    """Move a participant to another pilot group of their organisation; False if no change."""
    if group.organisation_id != person.organisation_id or group.id == person.pilot_group_id:
        return False
    old = person.pilot_group.name if person.pilot_group else ""
    person.pilot_group_id = group.id
    person.pilot_group = group
    person.updated_at = now
    moved = {"from_group": old, "to_group": group.name}
    record_change(db_session, actor, "participant.moved", person, now, **moved)
    return True
