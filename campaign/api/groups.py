"""The API's pilot groups of a member: listed, shown, created and changed as on the page's
form (the same rules and sentences), each change audited."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import g, url_for
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import BaseModel, Field
from spectree import Response
from sqlalchemy import select

from campaign import db
from campaign.accounts.scope import Access, of_member
from campaign.api.checks import checked, refused
from campaign.api.core import Page, PageQuery, bp, check_if_match, operation, page_of, tagged
from campaign.api.participants import Answer, member_groups
from campaign.drip.files import load_sequences
from campaign.enrolment import pilot_groups
from campaign.enrolment.forms import PilotGroupForm
from campaign.enrolment.models import PilotGroup as Row
from campaign.enrolment.models import PilotGroupKind
from campaign.timing import current_clock


class PilotGroup(BaseModel):
    """A member's pilot group: the people who try the meetings together, and the sequence of
    e-mails they get, counted from its start."""

    id: int
    member: str = Field(description="The member organisation's slug.")
    name: str
    kind: str = Field(
        description="Kind of group.", json_schema_extra={"enum": [k.value for k in PilotGroupKind]}
    )
    starts_on: date = Field(description="The e-mails of the sequence count from this day.")
    sequence_name: str | None = Field(description="The sequence its people get; null: none.")
    has_enrolment_link: bool = Field(description="Whether its self-enrolment link is open.")
    active_participants: int = Field(description="Its active and paused participants.")
    created_at: datetime


class PilotGroupList(Page):
    items: list[PilotGroup]


class NewPilotGroup(BaseModel):
    """A pilot group to create, as on the page's form."""

    name: str = Field(max_length=200)
    kind: PilotGroupKind
    starts_on: date
    sequence_name: str | None = Field(
        None, description="A sequence of the campaign (`pilot-group` is the shipped one)."
    )


class PilotGroupChange(BaseModel):
    """What to change of a pilot group: a field left out stays as it is."""

    name: str | None = Field(None, max_length=200)
    kind: PilotGroupKind | None = None
    starts_on: date | None = None
    sequence_name: str | None = Field(None, description='"" for none.')


def describe(group: Row, active: int) -> PilotGroup:
    """Return the group as the API shows it, with its count of active participants."""
    return PilotGroup(
        id=group.id, member=g.organisation.slug, name=group.name, kind=group.kind.value,
        starts_on=group.starts_on, sequence_name=group.sequence_name,
        has_enrolment_link=group.enrolment_key is not None, active_participants=active,
        created_at=group.created_at,
    )  # fmt: skip


def _active_counts() -> dict[int, int]:
    """Return how many active or paused participants each of the member's groups has."""
    return pilot_groups.active_counts(db.session(), g.campaign.id, g.organisation.id)


def _shown(group: Row) -> PilotGroup:
    return describe(group, _active_counts().get(group.id, 0))


@bp.get("/members/<org>/groups")
@operation(Access.ORGANISATION, "groups", query=PageQuery,
           resp=Response(HTTP_200=PilotGroupList))  # fmt: skip
def list_groups(query: PageQuery) -> PilotGroupList:
    """List the member's pilot groups, by start and name."""
    counts = _active_counts()
    rows, cursor = page_of(member_groups(), lambda group: group.id, query)
    items = [describe(group, counts.get(group.id, 0)) for group in rows]
    return PilotGroupList(items=items, next_cursor=cursor)


def group_or_404(group_id: int) -> Row:
    """Return the member's pilot group with this id, or answer 404."""
    return db.first_or_404(select(Row).where(Row.id == group_id, of_member(Row)))


@bp.get("/members/<org>/groups/<int:group_id>")
@operation(Access.ORGANISATION, "groups", resp=Response(HTTP_200=PilotGroup))
def show_group(group_id: int) -> Answer:
    """Show one pilot group, with the ETag to send as If-Match when changing it."""
    return tagged(_shown(group_or_404(group_id)))


@bp.post("/members/<org>/groups")
@operation(Access.ORGANISATION, "groups", json=NewPilotGroup,
           resp=Response(HTTP_201=PilotGroup), idempotent=True, problems=(409,))  # fmt: skip
def create_group(json: NewPilotGroup) -> Answer:
    """Create a pilot group; 409 when the member has one of this name already."""
    group = Row(campaign_id=g.campaign.id, organisation_id=g.organisation.id)
    _save(group, json.model_dump())
    location = url_for("api.show_group", org=g.organisation.slug, group_id=group.id)
    return tagged(_shown(group), 201, Location=location)


@bp.patch("/members/<org>/groups/<int:group_id>")
@operation(Access.ORGANISATION, "groups", json=PilotGroupChange,
           resp=Response(HTTP_200=PilotGroup), conditional=True, problems=(409,))  # fmt: skip
def update_group(group_id: int, json: PilotGroupChange) -> Answer:
    """Change a pilot group (412 if the If-Match is stale; nothing is written then)."""
    group = group_or_404(group_id)
    check_if_match(_shown(group))
    current = {
        "name": group.name, "kind": group.kind, "starts_on": group.starts_on,
        "sequence_name": group.sequence_name,
    }  # fmt: skip
    _save(group, {**current, **json.model_dump(exclude_unset=True, exclude_none=True)})
    return tagged(_shown(group))


def _offer_sequences(form: PilotGroupForm) -> None:
    """Offer the sequences on file, or none, as the page's select does."""
    sequences, _problems = load_sequences()
    form.sequence_name.choices = [("", "")] + [(name, name) for name in sorted(sequences)]


def _save(group: Row, data: dict[str, Any]) -> None:
    """Check the group's fields by the page's form, store them and commit; 409 for a name the
    member has given another group."""
    kind = data["kind"]
    data = {**data, "kind": kind.value if isinstance(kind, PilotGroupKind) else kind}
    data["sequence_name"] = data.get("sequence_name") or ""
    form = checked(PilotGroupForm, data, prepare=_offer_sequences)
    assert form.starts_on.data is not None  # InputRequired
    fields = pilot_groups.GroupFields(
        name=" ".join((form.name.data or "").split()),
        kind=PilotGroupKind(form.kind.data),
        starts_on=form.starts_on.data,
        sequence_name=form.sequence_name.data or None,
    )
    if pilot_groups.name_taken(db.session(), group, fields.name):
        message = _("You already have a pilot group with this name.")
        raise refused("name", message, status=409, code="name_taken")
    pilot_groups.save(db.session(), group, fields, current_user, current_clock().now())
    db.session().commit()
