"""The API's report figures "as of" a moment: those the final report and the dashboards show,
computed by the same code (campaign/report/figures.py), for the lead administrator the whole
campaign's and each member's, for a representative their own member's.

The same moment gives the same figures, whenever they are asked for. Outcomes (trips, km,
hours, CO2, money) count the follow-up answers as the questionnaires' results do: in whole
groups of five per member; while fewer count they are null, as the report leaves them empty.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import g
from flask_babel import gettext as _
from pydantic import BaseModel, Field
from spectree import Response

from campaign import db
from campaign.accounts.scope import Access
from campaign.api.core import bp, operation, tagged
from campaign.api.problems import Problem
from campaign.report import dashboard, figures
from campaign.report.outcomes import Outcomes as OutcomeCounts
from campaign.report.views import parse_moment
from campaign.timing import current_clock, local_text


class MomentQuery(BaseModel):
    as_of: str | None = Field(
        None,
        max_length=64,
        description="An ISO 8601 moment, not in the future; without an offset, in the "
        "campaign's time zone. Now if left out.",
    )


class Outcomes(BaseModel):
    """What the follow-up answers that count add up to; null while fewer than five count."""

    respondents: int = Field(description="Those whose answers count (whole groups of five).")
    trips: int | None
    km: int | None
    hours: int | None
    co2_kg: float | None = Field(description="km by the campaign's CO2 factor.")
    money: float | None = Field(description="Kronor, by the campaign's factors.")


class MemberFigures(BaseModel):
    """One member's figures as of the moment."""

    member: str
    name: str
    participants: int = Field(description="Those taking part (as the report counts them).")
    by_status: dict[str, int] = Field(description="Participants by status.")
    enrolment_target: int | None
    pilot_groups: int
    mail: dict[str, int] = Field(description="Mail to participants by state.")
    delivered: int
    suppressed: int = Field(description="Participants whose address is on the suppression list.")
    soft_bounces: int
    events_held: int = Field(description="Trainings and practice meetings held.")
    trained: int = Field(description="People who came to one.")


class MeetingHeld(BaseModel):
    """A meeting held by the moment (not cancelled): its participants invited, those who said
    yes, and those who came, as the dashboard counts them."""

    event_id: int
    title: str
    starts_at: datetime
    invited: int
    accepted: int
    attended: int


class MemberReport(MemberFigures):
    outcomes: Outcomes


class Figures(BaseModel):
    """The campaign's figures as of the moment: the report's headline and each member's."""

    as_of: datetime = Field(description="The moment, to the second, in the campaign's zone.")
    participants: int
    trained: int
    delivered: int
    people_reached: int = Field(description="People reached by information (members' facts).")
    people_with_access: int
    outcomes: Outcomes
    mail_by_month: dict[str, int] = Field(description="Mail delivered per month (YYYY-MM).")
    members: list[MemberReport]
    meetings: list[MeetingHeld] = Field(description="The meetings held by the moment.")


class MemberMoment(BaseModel):
    """One member's figures as of the moment, as its dashboard shows them."""

    as_of: datetime
    figures: MemberFigures
    meetings: list[MeetingHeld] = Field(
        description="The meetings held by the moment, counting the member's own people."
    )


@bp.get("/report")
@operation(Access.LEAD_ADMIN, "reports", query=MomentQuery, resp=Response(HTTP_200=Figures))
def show_report_figures(query: MomentQuery) -> tuple[BaseModel, int, dict[str, str]]:
    """Show the final report's figures as of a moment: the campaign's and each member's."""
    found = figures.compute(db.session(), g.campaign, _moment(query.as_of))
    return tagged(Figures(
        as_of=_local(found), participants=found.participants, trained=found.trained,
        delivered=found.delivered, people_reached=found.people_reached,
        people_with_access=found.people_with_access,
        outcomes=_outcomes(found.outcomes, found.co2_kg, found.money),
        mail_by_month=dict(found.mail_by_month),
        members=[_member_report(m) for m in found.members],
        meetings=_meetings(found, None),
    ))  # fmt: skip


@bp.get("/members/<org>/report")
@operation(Access.ORGANISATION, "reports", query=MomentQuery, resp=Response(HTTP_200=MemberMoment))
def show_member_figures(query: MomentQuery) -> tuple[BaseModel, int, dict[str, str]]:
    """Show a member's figures as of a moment, as the member's dashboard shows them."""
    found = figures.compute(db.session(), g.campaign, _moment(query.as_of))
    own = next(m for m in found.members if m.organisation.id == g.organisation.id)
    meetings = _meetings(found, g.organisation.id)
    return tagged(MemberMoment(as_of=_local(found), figures=_member(own), meetings=meetings))


def _moment(asked: str | None) -> datetime:
    """Return the moment asked for (now if none); a problem in the report page's words for one
    that is not a moment or lies in the future."""
    if not asked or not asked.strip():
        return current_clock().now()
    moment = parse_moment(asked, g.campaign)
    if moment is None:
        example = local_text(current_clock().now(), ZoneInfo(g.campaign.timezone))
        raise Problem(
            422,
            _("“%(text)s” is not a moment the report can be made for: give a date and a time"
              " that are not in the future, such as %(example)s.", text=asked, example=example),
            code="invalid_input",
            errors=[{"field": "as_of", "detail": "not a past ISO 8601 moment"}],
        )  # fmt: skip
    return moment


def _member(m: figures.MemberFigures) -> MemberFigures:
    """Return a member's figures as the API shows them."""
    return MemberFigures(
        member=m.organisation.slug, name=m.organisation.short_name,
        participants=m.participants, by_status=m.by_status,
        enrolment_target=m.membership.enrolment_target, pilot_groups=m.pilot_groups,
        mail=m.mail, delivered=m.delivered, suppressed=m.suppressed,
        soft_bounces=m.soft_bounces, events_held=m.events_held, trained=m.trained,
    )  # fmt: skip


def _member_report(m: figures.MemberFigures) -> MemberReport:
    """Return a member's figures with its outcomes, as the report's table has them."""
    return MemberReport(
        **_member(m).model_dump(), outcomes=_outcomes(m.outcomes, m.co2_kg, m.money)
    )


def _meetings(found: figures.Figures, organisation_id: int | None) -> list[MeetingHeld]:
    """Return the meetings held by the figures' moment, as the dashboard lists them."""
    held = dashboard.attendance(db.session(), found.campaign, found.as_of, organisation_id)
    return [
        MeetingHeld(
            event_id=a.event.id,
            title=a.event.title,
            starts_at=a.event.starts_at,
            invited=a.invited,
            accepted=a.accepted,
            attended=a.attended,
        )  # fmt: skip
        for a in held
    ]


def _local(found: figures.Figures) -> datetime:
    """Return the figures' moment in the campaign's time zone."""
    return found.as_of.astimezone(ZoneInfo(found.campaign.timezone))


def _outcomes(counts: OutcomeCounts, co2: float | None, money: float | None) -> Outcomes:
    """Return the outcomes, each null while suppressed (fewer than five answers count)."""
    hidden = counts.suppressed
    return Outcomes(
        respondents=counts.respondents, trips=None if hidden else counts.trips,
        km=None if hidden else counts.km, hours=None if hidden else counts.hours,
        co2_kg=None if co2 is None else round(co2, 1),
        money=None if money is None else round(money, 2),
    )  # fmt: skip
