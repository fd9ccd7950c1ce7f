"""The API's members of a campaign and their facts, as the pages show them: the lead
administrator sees every member (the network's overview), a representative only their own
(their member's page); the facts change as on the member's facts form."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import g
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import BaseModel, Field
from spectree import Response

from campaign import db
from campaign.accounts.scope import Access, is_lead_admin
from campaign.api.checks import checked, filled
from campaign.api.core import Page, PageQuery, bp, check_if_match, operation, page_of, tagged
from campaign.api.participants import Answer
from campaign.api.problems import Problem
from campaign.enrolment.overview import MemberRow, member_rows
from campaign.network import administration
from campaign.network.forms import LeadMembershipForm, MemberFactsForm
from campaign.network.models import MembershipStatus, OrganisationKind
from campaign.timing import current_clock

# What only the lead administrator decides (the page shows these fields to them alone).
LEAD_ONLY = ("status", "enrolment_target")


class Member(BaseModel):
    """A member organisation of the campaign, with the counts of its enrolment."""

    slug: str = Field(description="Its name in URLs: /members/{member}.")
    name: str
    short_name: str
    kind: str = Field(json_schema_extra={"enum": [k.value for k in OrganisationKind]})
    status: str = Field(
        description="signed, or informal participant.",
        json_schema_extra={"enum": [s.value for s in MembershipStatus]},
    )
    representatives: int = Field(description="Its enabled representatives' accounts.")
    pilot_groups: int
    participants: int = Field(description="Everyone it enrolled, the erased included.")


class MemberList(Page):
    items: list[Member]


class Facts(BaseModel):
    """What a member reports about itself for the joint report (Markdown in the *_md texts)."""

    meeting_software: str
    software_comment: str = Field(description="Who has the software.")
    people_reached: int | None = Field(description="People reached by information.")
    people_with_access: int | None = Field(description="People given access to the software.")
    starting_point_md: str
    work_done_md: str
    tips_md: str = Field(description="One tip per line, starting with a dash.")
    contact_name: str
    contact_title: str
    contact_email: str
    guide_url: str = Field(description="The member's own guide to its meeting software.")


class MemberFacts(Member, Facts):
    """A member with its facts, and what the lead administrator decides of it."""

    enrolment_target: int | None = Field(description="How many pilot users it aims to enrol.")
    updated_at: datetime


class FactsChange(BaseModel):
    """The facts to change: a field left out stays as it is (null empties it). `status` and
    `enrolment_target` are the lead administrator's to change alone."""

    meeting_software: str | None = Field(None, max_length=200)
    software_comment: str | None = Field(None, max_length=300)
    people_reached: int | None = Field(None, ge=0)
    people_with_access: int | None = Field(None, ge=0)
    starting_point_md: str | None = Field(None, max_length=20_000)
    work_done_md: str | None = Field(None, max_length=20_000)
    tips_md: str | None = Field(None, max_length=20_000)
    contact_name: str | None = Field(None, max_length=200)
    contact_title: str | None = Field(None, max_length=200)
    contact_email: str | None = Field(None, max_length=320)
    guide_url: str | None = Field(None, max_length=1000)
    status: MembershipStatus | None = None
    enrolment_target: int | None = Field(None, ge=0)


def _member(row: MemberRow) -> dict[str, Any]:
    """Return the fields of a member's row of counts."""
    organisation = row.organisation
    return {
        "slug": organisation.slug, "name": organisation.name,
        "short_name": organisation.short_name, "kind": organisation.kind.value,
        "status": row.membership.status.value, "representatives": row.representatives,
        "pilot_groups": row.pilot_groups, "participants": row.participants,
    }  # fmt: skip


def _facts(row: MemberRow) -> MemberFacts:
    """Return the member with its facts."""
    membership = row.membership
    facts = {name: getattr(membership, name) for name in Facts.model_fields}
    return MemberFacts(
        **_member(row), **facts, enrolment_target=membership.enrolment_target,
        updated_at=membership.updated_at,
    )  # fmt: skip


@bp.get("/members")
@operation(Access.STAFF, "members", query=PageQuery, resp=Response(HTTP_200=MemberList))
def list_members(query: PageQuery) -> MemberList:
    """List the members the caller sees, in the report's order (by kind, then name): every
    one for the lead administrator, their own for a representative."""
    own = None if is_lead_admin() else current_user.organisation_id
    found = member_rows(db.session(), g.campaign, own)
    rows, cursor = page_of(found, lambda row: row.organisation.id, query)
    return MemberList(items=[Member(**_member(r)) for r in rows], next_cursor=cursor)


def _row() -> MemberRow:
    """Return the URL's member with its counts (accounts/scope.py has checked the caller's)."""
    return member_rows(db.session(), g.campaign, g.organisation.id)[0]


@bp.get("/members/<org>")
@operation(Access.ORGANISATION, "members", resp=Response(HTTP_200=MemberFacts))
def show_member() -> Answer:
    """Show a member with its facts, with the ETag to send as If-Match when changing them."""
    return tagged(_facts(_row()))


@bp.patch("/members/<org>")
@operation(Access.ORGANISATION, "members", json=FactsChange,
           resp=Response(HTTP_200=MemberFacts), conditional=True)  # fmt: skip
def update_member(json: FactsChange) -> Answer:
    """Change a member's facts as its facts form does (412 if the If-Match is stale; a
    representative who sends the status or the target is refused, and nothing is written)."""
    row = _row()
    check_if_match(_facts(row))
    wanted = json.model_dump(exclude_unset=True)
    lead = is_lead_admin()
    if not lead and (kept := [name for name in LEAD_ONLY if name in wanted]):
        detail = _("Only the lead administrator decides this.")
        raise Problem(403, detail, code="lead_admin_only",
                      errors=[{"field": name, "detail": detail} for name in kept])  # fmt: skip
    form_class = LeadMembershipForm if lead else MemberFactsForm
    current = {name: getattr(row.membership, name) for name in filled(form_class, {}).data}
    form = checked(form_class, {**current, **wanted})
    administration.change_facts(
        db.session(), row.membership, form.facts(), current_user, current_clock().now()
    )
    db.session().commit()
    return tagged(_facts(_row()))
