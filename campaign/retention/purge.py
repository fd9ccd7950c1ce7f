"""The purge: a campaign's personal data erased in one go, its counts and figures kept.

Set-based (one UPDATE or DELETE per kind of row, `WHERE` the campaign), so that 100,000
participants take seconds (bench/purge.py), and in the caller's one transaction, so that an
interrupted purge leaves everything as it was and the next run does it all again. What goes:

- participants' names, titles and addresses (the row, its status and its moments stay, so
  every count of the report stays the same);
- consent records, self-enrolment requests (and their mails), imports' rows and files;
- free-text answers (the numbers and choices stay: the report's outcomes are made of them);
- the contents and addresses of every mail of the campaign, calendar parts and the servers'
  answers; unsent mail is cancelled;
- suppressions that exist only because of this campaign: an address no other campaign's
  participant and no staff account has. The list is per address across campaigns, so an
  address another campaign still holds stays suppressed for it; each participant keeps the
  moment their address went on the list, which is what the report counts;
- the addresses in audit records (a lifted suppression names its address).

What stays: the rows the report counts (participants by status, mail by state and moment,
invitations and attendance, answers' numbers, receipts), erasure tombstones (keyed hashes,
never addresses), staff accounts and the members' facts and contact persons, which are the
organisations' and belong to the report.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    CursorResult,
    Select,
    String,
    case,
    delete,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy import update as sql_update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.dml import Delete, Update

from campaign.accounts.models import User
from campaign.audit import AuditEvent, record
from campaign.enrolment.erasure import drop_requests
from campaign.enrolment.models import (
    Consent,
    ImportRow,
    ImportState,
    JoinRequest,
    Participant,
    ParticipantImport,
    ParticipantStatus,
    PilotGroup,
)
from campaign.network.models import Campaign
from campaign.outbox.inbound import InboundMessage
from campaign.outbox.models import Message, MessageState, Suppression
from campaign.outbox.queue import OPEN_STATES
from campaign.surveys.models import Questionnaire, Response
from campaign.surveys.stored import definition_of

PURGED_ADDRESS = "purged@purged.invalid"  # every mail's recipient once its campaign is purged
CANCELLED = "cancelled: the campaign's personal data was purged"


def purge(db_session: Session, campaign: Campaign, now: datetime) -> dict[str, int]:
    """Erase the campaign's personal data (see the module), mark it purged and audit it with
    the counts of rows touched, which it returns; the caller commits. Once purged, nothing."""
    if campaign.purged_at is not None:
        return {}
    counts = _addresses(db_session, campaign.id)
    counts |= _enrolment(db_session, campaign.id, now)
    counts["answers"] = _free_texts(db_session, campaign.id)
    counts |= _mail(db_session, campaign.id)
    counts["inbound"] = _count(
        db_session, delete(InboundMessage).where(InboundMessage.campaign_id == campaign.id)
    )  # mail that came back is kept whole (raw bytes): none of it outlives the purge
    counts["participants"] = _participants(db_session, campaign.id, now)
    campaign.purged_at = now
    record(
        db_session, None, "campaign.purged", now=now, target=f"campaign:{campaign.slug}",
        campaign_id=campaign.id, **counts,
    )  # fmt: skip
    return counts


def _count(db_session: Session, statement: Update | Delete) -> int:
    """Run an UPDATE or DELETE on the rows of the database only; return how many it touched."""
    result = db_session.execute(statement.execution_options(synchronize_session=False))
    return cast(CursorResult[Any], result).rowcount  # an UPDATE or DELETE gives a cursor result


def _ours(campaign_id: int) -> Select[int]:
    """The campaign's participants, by id."""
    return select(Participant.id).where(Participant.campaign_id == campaign_id)


# Addresses, first: what finds them is the participants' addresses, blanked last. -------------


def _only_ours(campaign_id: int, address: Any) -> ColumnElement[bool]:
    """Whether `address` is a participant's of this campaign and nobody else's: no other
    campaign's participant and no staff account has it."""
    return (
        address.in_(select(Participant.email).where(Participant.campaign_id == campaign_id))
        & address.not_in(select(Participant.email).where(Participant.campaign_id != campaign_id))
        & address.not_in(select(User.email))
    )


def _addresses(db_session: Session, campaign_id: int) -> dict[str, int]:
    """Keep each participant's suppression moment, then drop the suppressions and the audit
    records' addresses that only this campaign has."""
    audited = (
        sql_update(AuditEvent)
        .where(AuditEvent.action == "suppression.removed")
        .where(_only_ours(campaign_id, AuditEvent.target))
        .values(target="address:purged")
    )
    return {
        "audit_events": _count(db_session, audited),
        "suppression_moments": _keep_suppression_moments(db_session, campaign_id),
        "suppressions": _count(
            db_session, delete(Suppression).where(_only_ours(campaign_id, Suppression.email))
        ),
    }


def _keep_suppression_moments(db_session: Session, campaign_id: int) -> int:
    """Give each participant whose address is suppressed the moment it was (the report's count)."""
    moment = (
        select(Suppression.created_at)
        .where(Suppression.email == Participant.email)
        .scalar_subquery()
    )
    return _count(
        db_session,
        sql_update(Participant)
        .where(Participant.campaign_id == campaign_id, Participant.suppressed_at.is_(None))
        .where(Participant.email.in_(select(Suppression.email)))
        .values(suppressed_at=moment),
    )


# Enrolment: consents, self-enrolment requests, imports, open links. -----------------------


def _enrolment(db_session: Session, campaign_id: int, now: datetime) -> dict[str, int]:
    """Drop consents, join requests and imports' rows and files; close enrolment links."""
    imports = select(ParticipantImport.id).where(ParticipantImport.campaign_id == campaign_id)
    consents = delete(Consent).where(Consent.participant_id.in_(_ours(campaign_id)))
    counts = {
        "consents": _count(db_session, consents),
        "join_requests": drop_requests(
            db_session, "purged", JoinRequest.campaign_id == campaign_id
        ),
        "import_rows": _count(
            db_session, delete(ImportRow).where(ImportRow.import_id.in_(imports))
        ),
    }
    _close_imports(db_session, campaign_id, now)
    _count(
        db_session,
        sql_update(PilotGroup)
        .where(PilotGroup.campaign_id == campaign_id, PilotGroup.enrolment_key.is_not(None))
        .values(enrolment_key=None),
    )
    return counts


def _close_imports(db_session: Session, campaign_id: int, now: datetime) -> None:
    """Drop every import's uploaded file; one still waiting is discarded."""
    of_campaign = ParticipantImport.campaign_id == campaign_id
    waiting = ParticipantImport.state.in_((ImportState.READING, ImportState.READY))
    _count(
        db_session,
        sql_update(ParticipantImport)
        .where(of_campaign, waiting)
        .values(state=ImportState.DISCARDED, finished_at=now),
    )
    _count(
        db_session,
        sql_update(ParticipantImport)
        .where(of_campaign, ParticipantImport.content.is_not(None))
        .values(content=None),
    )


# Answers: the free texts go, numbers and choices stay. ------------------------------------


def _free_texts(db_session: Session, campaign_id: int) -> int:
    """Remove the free-text answers of the campaign's questionnaires; return responses changed.

    A questionnaire whose definition is gone (neither stored nor shipped) has no questions left
    to say which answers are free text; its answers go whole (no figure can be made of them).
    """
    changed = 0
    for questionnaire in db_session.scalars(
        select(Questionnaire).where(Questionnaire.campaign_id == campaign_id)
    ):
        definition = definition_of(db_session, questionnaire)
        if definition is None:
            changed += _empty_answers(db_session, questionnaire.id)
            continue
        texts = [q.id for q in definition.questions if q.type == "text"]
        changed += _without_keys(db_session, questionnaire.id, texts) if texts else 0
    return changed


def _empty_answers(db_session: Session, questionnaire_id: int) -> int:
    """Empty every response of the questionnaire."""
    of_questionnaire = Response.questionnaire_id == questionnaire_id
    return _count(db_session, sql_update(Response).where(of_questionnaire).values(answers={}))


def _without_keys(db_session: Session, questionnaire_id: int, keys: list[str]) -> int:
    """Remove the answers to `keys` from the questionnaire's responses that hold any of them."""
    holding = or_(*(Response.answers[key].as_string().is_not(None) for key in keys))
    return _count(
        db_session,
        sql_update(Response)
        .where(Response.questionnaire_id == questionnaire_id, holding)
        .values(answers=_removed(db_session, keys)),
    )


def _removed(db_session: Session, keys: list[str]) -> Any:
    """The responses' answers without `keys`, in SQL (JSON functions differ by database)."""
    if db_session.get_bind().dialect.name == "postgresql":
        without = sql_cast(Response.answers, postgresql.JSONB).op("-")(postgresql.array(keys))
        return sql_cast(without, JSON)
    return func.json_remove(Response.answers, *(f'$."{key}"' for key in keys))


# Mail: contents and addresses go; kind, state and moments stay (the report counts them). ----


def _mail(db_session: Session, campaign_id: int) -> dict[str, int]:
    """Empty every mail of the campaign, and cancel those not sent yet."""
    of_campaign = Message.campaign_id == campaign_id
    emptied = _count(
        db_session,
        sql_update(Message)
        .where(of_campaign)
        .values(
            recipient=PURGED_ADDRESS, subject="", text_body="", html_body="", headers={},
            calendar=None,
            # A server's answer may quote the address; a cancellation's reason is ours.
            last_answer=case(
                (Message.state == MessageState.CANCELLED, Message.last_answer), else_=None
            ),
        ),
    )  # fmt: skip
    cancelled = _count(
        db_session,
        sql_update(Message)
        .where(of_campaign, Message.state.in_(OPEN_STATES))
        .values(state=MessageState.CANCELLED, last_answer=CANCELLED),
    )
    return {"mails": emptied, "mails_cancelled": cancelled}


# Participants, last. ----------------------------------------------------------------------


def _participants(db_session: Session, campaign_id: int, now: datetime) -> int:
    """Blank the names, titles and addresses of the campaign's participants (the erased are
    blank already); each gets a placeholder address of their own."""
    placeholder = literal("purged-") + sql_cast(Participant.id, String) + "@purged.invalid"
    return _count(
        db_session,
        sql_update(Participant)
        .where(
            Participant.campaign_id == campaign_id,
            Participant.status != ParticipantStatus.ERASED,
        )
        .values(email=placeholder, name="", title="", updated_at=now),
    )
