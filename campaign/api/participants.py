"""The API's participants of a member: listed (a page at a time, with filters), shown, enrolled
one by one as on the page's form, and changed (name, title, language, pilot group). Their
pauses, unsubscription, erasure and data export are in `participant_status`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from flask import g, url_for
from flask_login import current_user
from pydantic import BaseModel, Field
from spectree import Response
from sqlalchemy import select

from campaign import db
from campaign.accounts.scope import Access, of_member
from campaign.api.checks import checked, refused
from campaign.api.core import Page, PageQuery, bp, check_if_match, operation, page, tagged
from campaign.enrolment import details, importing, people, pilot_groups
from campaign.enrolment.forms import ImportForm, MoveForm, NewParticipantForm, ParticipantForm
from campaign.enrolment.models import Participant as Row
from campaign.enrolment.models import ParticipantStatus
from campaign.enrolment.models import PilotGroup as GroupRow
from campaign.timing import current_clock

Answer = tuple[BaseModel, int, dict[str, str]]
Language = Literal["sv", "en"]


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


class ParticipantPage(Page):
    items: list[Participant]


class ParticipantQuery(PageQuery):
    status: ParticipantStatus | None = Field(None, description="Only those of this status.")
    pilot_group_id: int | None = Field(None, description="Only those of this pilot group.")
    updated_since: datetime | None = Field(
        None, description="Only those changed at or after this instant (ISO 8601, with zone)."
    )


class NewParticipant(BaseModel):
    """A person to enrol in one of the member's pilot groups, as on the page's form: they
    become active at once, with your word for their consent (recorded with your address)."""

    email: str = Field(max_length=320, description="Their e-mail address.")
    name: str = Field("", max_length=200)
    title: str = Field("", max_length=200)
    language: Language | None = Field(
        None, description="The language of their mail; the campaign's when left out."
    )
    pilot_group_id: int = Field(description="One of the member's pilot groups.")
    has_agreed: bool = Field(
        description="Must be true: the person has agreed to take part and to receive the"
        " pilot group's e-mails."
    )


class ParticipantChange(BaseModel):
    """What to change of a participant: a field left out (or null) stays as it is. Send the
    ETag you read as If-Match, so that nobody's change is overwritten unseen."""

    name: str | None = Field(None, max_length=200)
    title: str | None = Field(None, max_length=200)
    language: Language | None = None
    pilot_group_id: int | None = Field(None, description="Move them to this pilot group.")


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
    if query.updated_since is not None:
        statement = statement.where(Row.updated_at >= query.updated_since)
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
def show_participant(participant_id: int) -> Answer:
    """Show one participant, with the ETag to send as If-Match when changing them."""
    return tagged(describe(participant_or_404(participant_id)))


def member_groups() -> list[GroupRow]:
    """Return the member's pilot groups in the request's campaign."""
    return pilot_groups.of_member(db.session(), g.campaign.id, g.organisation.id)


def offer_groups(form: NewParticipantForm | MoveForm | ImportForm) -> None:
    """Offer the member's pilot groups, as the page's select does."""
    form.pilot_group.choices = [(group.id, group.name) for group in member_groups()]


@bp.post("/members/<org>/participants")
@operation(Access.ORGANISATION, "participants", json=NewParticipant,
           resp=Response(HTTP_201=Participant), idempotent=True, problems=(409,))  # fmt: skip
def create_participant(json: NewParticipant) -> Answer:
    """Enrol one person in a pilot group, as the page's form does; 409 when the address cannot
    be enrolled (already enrolled, another member's, unsubscribed, bounced or erased)."""
    form = checked(
        NewParticipantForm,
        {
            **json.model_dump(),
            "language": json.language or g.campaign.language,
            "pilot_group": json.pilot_group_id,
            "agreed": json.has_agreed,
        },  # fmt: skip
        names={"pilot_group": "pilot_group_id", "agreed": "has_agreed"},
        prepare=offer_groups,
    )
    person = _enrolled(form, db.session().get_one(GroupRow, form.pilot_group.data))
    db.session().commit()
    location = url_for("api.show_participant", org=g.organisation.slug, participant_id=person.id)
    return tagged(describe(person), 201, Location=location)


def _enrolled(form: NewParticipantForm, group: GroupRow) -> Row:
    """Enrol the person of a valid form in `group`; a 409 problem when they cannot be."""
    newcomer = people.Newcomer(
        email=form.email.data or "",
        name=" ".join((form.name.data or "").split()),
        title=" ".join((form.title.data or "").split()),
        language=form.language.data or g.campaign.language,
    )
    try:
        return people.enrol(
            db.session(), campaign=g.campaign, group=group, newcomer=newcomer,
            consent=people.staff_consent(current_user.email, group),
            now=current_clock().now(), actor=current_user,
        )  # fmt: skip
    except people.EnrolmentConflict as conflict:
        reason = str(importing.REASONS[conflict.reason])
        raise refused("email", reason, status=409, code=conflict.reason) from None


@bp.patch("/members/<org>/participants/<int:participant_id>")
@operation(Access.ORGANISATION, "participants", json=ParticipantChange,
           resp=Response(HTTP_200=Participant), conditional=True)  # fmt: skip
def update_participant(participant_id: int, json: ParticipantChange) -> Answer:
    """Change a participant's name, title, language or pilot group (412 if the If-Match is
    stale; nothing is written then)."""
    person = participant_or_404(participant_id)
    check_if_match(describe(person))
    wanted = json.model_dump(exclude_none=True)
    current = {"email": person.email, "name": person.name, "title": person.title}
    form = checked(ParticipantForm, {**current, "language": person.language, **wanted})
    group = _group_of(json.pilot_group_id) if json.pilot_group_id is not None else None
    new = details.Details(
        email=person.email,
        name=" ".join((form.name.data or "").split()),
        title=" ".join((form.title.data or "").split()),
        language=form.language.data or person.language,
    )
    now = current_clock().now()
    details.change(db.session(), person, new, current_user, now)
    if group is not None:
        people.move(db.session(), person, group, current_user, now)
    db.session().commit()
    return tagged(describe(person))


def _group_of(group_id: int) -> GroupRow:
    """Return the member's pilot group `group_id`, as the page's select allows it; else 422."""
    form = checked(
        MoveForm, {"pilot_group": group_id},
        names={"pilot_group": "pilot_group_id"}, prepare=offer_groups,
    )  # fmt: skip
    return db.session().get_one(GroupRow, form.pilot_group.data)
