"""The API's participants of a member: listed (a page at a time, with filters) and shown."""

from __future__ import annotations

from datetime import date, datetime

from flask import g
from pydantic import BaseModel, Field
from spectree import Response
from sqlalchemy import select

from campaign import db
from campaign.accounts.scope import Access, of_member
from campaign.api.core import PageQuery, bp, operation, page, tagged
from campaign.enrolment.models import Participant as Row
from campaign.enrolment.models import ParticipantStatus


class Participant(BaseModel):
    """A pilot user of a member: the personal data the member holds of them, and where they
    are in the campaign."""

    id: int
    member: str = Field(description="The member organisation's slug.")
    pilot_group_id: int | None
    email: str
    name: str
    title: str
    language: str = Field(description="sv or en: the language of their mail.")
    status: str = Field(
        description="invited, active, paused, unsubscribed, bounced or completed.",
        json_schema_extra={
            "enum": [s.value for s in ParticipantStatus if s is not ParticipantStatus.ERASED]
        },
    )
    starts_on: date | None
    paused_until: date | None
    created_at: datetime
    updated_at: datetime


class ParticipantPage(BaseModel):
    items: list[Participant]
    next_cursor: str | None = Field(
        description="Give it as `cursor` for the next page; null on the last."
    )


class ParticipantQuery(PageQuery):
    status: ParticipantStatus | None = Field(None, description="Only those of this status.")
    pilot_group_id: int | None = Field(None, description="Only those of this pilot group.")


def describe(person: Row) -> Participant:
    """Return the participant as the API shows them."""
    return Participant(
        id=person.id,
        member=g.organisation.slug,
        pilot_group_id=person.pilot_group_id,
        email=person.email,
        name=person.name,
        title=person.title,
        language=person.language,
        status=person.status.value,
        starts_on=person.starts_on,
        paused_until=person.paused_until,
        created_at=person.created_at,
        updated_at=person.updated_at,
    )


@bp.get("/members/<org>/participants")
@operation(Access.ORGANISATION, "participants", query=ParticipantQuery,
           resp=Response(HTTP_200=ParticipantPage))  # fmt: skip
def list_participants(query: ParticipantQuery) -> ParticipantPage:
    """List a member's participants (erased people excepted), in the order they were added."""
    statement = select(Row).where(of_member(Row), Row.status != ParticipantStatus.ERASED)
    if query.status is not None:
        statement = statement.where(Row.status == query.status)
    if query.pilot_group_id is not None:
        statement = statement.where(Row.pilot_group_id == query.pilot_group_id)
    rows, cursor = page(statement, Row.id, query)
    return ParticipantPage(items=[describe(p) for p in rows], next_cursor=cursor)


def participant_or_404(participant_id: int) -> Row:
    """Return the member's participant with this id (not an erased one), or answer 404."""
    return db.first_or_404(
        select(Row).where(
            Row.id == participant_id, of_member(Row), Row.status != ParticipantStatus.ERASED
        )
    )


@bp.get("/members/<org>/participants/<int:participant_id>")
@operation(Access.ORGANISATION, "participants", resp=Response(HTTP_200=Participant))
def show_participant(participant_id: int) -> tuple[BaseModel, int, dict[str, str]]:
    """Show one participant, with the ETag to send as If-Match when changing them."""
    return tagged(describe(participant_or_404(participant_id)))
