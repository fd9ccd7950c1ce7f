"""The API's campaigns: the ones the token's account has a part in, and its role in each."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from flask import g
from flask_login import current_user
from pydantic import BaseModel, Field
from spectree import Response

from campaign.accounts.models import Role
from campaign.accounts.scope import Access, campaigns_of
from campaign.api.core import Page, PageQuery, bp, operation, page_of, tagged
from campaign.network.models import Campaign as CampaignRow
from campaign.network.phases import Phase, phase_of
from campaign.timing import current_clock

RoleName = Literal["lead_admin", "member_rep"]
ROLE_NAMES: dict[Role, RoleName] = {Role.LEAD_ADMIN: "lead_admin", Role.MEMBER_REP: "member_rep"}


class Campaign(BaseModel):
    """A campaign (a network's agreement) and the caller's part in it."""

    slug: str = Field(description="The campaign's name in URLs: /api/v1/campaigns/{campaign}.")
    name: str
    starts_on: date
    ends_on: date
    timezone: str = Field(description="IANA time zone of its dates and times.")
    language: str = Field(description="Language of its shipped texts: sv or en.")
    archived_at: datetime | None
    phase: Phase = Field(
        description="Its phase now, from its dates (midnight in its time zone) and marks:"
        " preparing before its first day, running to the end of its last, then ended;"
        " archived by the lead administrator, or purged once its personal data was erased."
        " The same names as the campaign.phase_changed webhook's."
    )
    role: RoleName = Field(
        description="The caller's part: lead administrator or a member's representative."
    )


class CampaignList(Page):
    items: list[Campaign]


def describe(campaign: CampaignRow, role: Role) -> Campaign:
    """Return the campaign as the API shows it to someone of `role`."""
    return Campaign(
        slug=campaign.slug,
        name=campaign.name,
        starts_on=campaign.starts_on,
        ends_on=campaign.ends_on,
        timezone=campaign.timezone,
        language=campaign.language,
        archived_at=campaign.archived_at,
        phase=phase_of(campaign, current_clock().now()),
        role=ROLE_NAMES[role],
    )


@bp.get("/campaigns")
@operation(Access.SIGNED_IN, "campaigns", query=PageQuery, resp=Response(HTTP_200=CampaignList))
def list_campaigns(query: PageQuery) -> CampaignList:
    """List the campaigns the token's account has a part in, the latest first."""
    rows, cursor = page_of(campaigns_of(current_user), lambda row: row[0].id, query)
    return CampaignList(items=[describe(c, role) for c, role in rows], next_cursor=cursor)


@bp.get("")
@operation(Access.STAFF, "campaigns", resp=Response(HTTP_200=Campaign))
def show_campaign() -> tuple[BaseModel, int, dict[str, str]]:
    """Show one campaign."""
    return tagged(describe(g.campaign, g.role))
