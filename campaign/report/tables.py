"""The tables of the final bundle beside the report's figures: the members' facts, the audit
log and the questionnaires as the campaign used them. Headers and labels in the language the
caller has forced; instants in the campaign's own time zone, to the second."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from campaign.audit import AuditEvent
from campaign.labels import label
from campaign.network.members import swedish_sort_key
from campaign.network.models import Campaign, Membership, Organisation
from campaign.surveys.definitions import Definition
from campaign.surveys.models import Questionnaire

Table = tuple[list[str], Iterable[list[Any]]]
# The facts a member reports, in the order of its facts form.
FACTS = (
    "meeting_software", "software_comment", "enrolment_target", "people_reached",
    "people_with_access", "starting_point_md", "work_done_md", "tips_md", "contact_name",
    "contact_title", "contact_email", "guide_url",
)  # fmt: skip


def local(instant: datetime | None, campaign: Campaign) -> str:
    """Return an instant in the campaign's zone to the second, as Excel reads it ('' for none)."""
    if instant is None:
        return ""
    return instant.astimezone(ZoneInfo(campaign.timezone)).strftime("%Y-%m-%d %H:%M:%S")


def member_facts(db_session: Session, campaign: Campaign) -> Table:
    """Every member of the campaign with its status and the facts it reported, by name."""
    header = [
        _("Member"), _("Full name"), _("Kind"), _("Status"), _("Web meeting software"),
        _("Who has the software"), _("Enrolment target"), _("People reached by information"),
        _("People given access to the software"), _("Starting point"), _("What we have done"),
        _("Tips for others"), _("Contact person"), _("Contact person's title"),
        _("Contact person's e-mail"), _("Link to your guide"),
    ]  # fmt: skip
    return header, (_facts_row(m) for m in _memberships(db_session, campaign))


def _memberships(db_session: Session, campaign: Campaign) -> list[Membership]:
    """Return the campaign's memberships, by the organisations' names in Swedish order."""
    found = db_session.scalars(select(Membership).where(Membership.campaign_id == campaign.id))
    return sorted(found, key=lambda m: swedish_sort_key(m.organisation))


def _facts_row(membership: Membership) -> list[Any]:
    organisation = membership.organisation
    return [
        organisation.short_name, organisation.name, label(organisation.kind),
        label(membership.status), *(getattr(membership, name) for name in FACTS),
    ]  # fmt: skip


def audit_log(db_session: Session, campaign: Campaign) -> Table:
    """The campaign's audit log, oldest first, read from the database a page at a time."""
    header = [_("When"), _("Who"), _("Action"), _("Member"), _("What"), _("Details")]
    rows = db_session.execute(_events_of(campaign).execution_options(yield_per=1000))
    return header, (_audit_row(event, short, campaign) for event, short in rows)


def _events_of(campaign: Campaign) -> Select[AuditEvent, str]:
    """The audit events of the campaign, oldest first, with the short name of their member."""
    return (
        select(AuditEvent, Organisation.short_name)
        .outerjoin(Organisation, Organisation.id == AuditEvent.organisation_id)
        .where(AuditEvent.campaign_id == campaign.id)
        .order_by(AuditEvent.occurred_at, AuditEvent.id)
    )


def _audit_row(event: AuditEvent, member: str | None, campaign: Campaign) -> list[Any]:
    details = json.dumps(event.details, ensure_ascii=False, sort_keys=True, default=str)
    return [
        local(event.occurred_at, campaign), event.actor_label, event.action, member or "",
        event.target, details,
    ]  # fmt: skip


def questionnaires(
    used: list[tuple[Questionnaire, Definition | None]], campaign: Campaign, language: str
) -> Table:
    """The campaign's questionnaires: title, kind, definition file, anonymous, closing time."""
    header = [_("Questionnaire"), _("Kind"), _("File"), _("Anonymous"), _("Closes")]
    return header, (_questionnaire_row(q, d, campaign, language) for q, d in used)


def _questionnaire_row(
    questionnaire: Questionnaire, definition: Definition | None, campaign: Campaign, language: str
) -> list[Any]:
    title = definition.title[language] if definition else questionnaire.slug
    return [
        title, label(questionnaire.kind), f"{questionnaire.slug}.yaml",
        _("Yes") if questionnaire.is_anonymous else _("No"),
        local(questionnaire.closes_at, campaign),
    ]  # fmt: skip
