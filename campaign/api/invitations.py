"""The API's invitations to a meeting: inviting its audience (through the page's fan-out: a
large audience is mailed by the `invitations` job), the invitees with their answers, and who
came (campaign/events/views/mailing.py and attendance.py are the pages).

Answers are given by the invitees themselves, through the signed links of their mail or their
calendar's reply; like the pages, the API records none on anyone's behalf.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from flask_login import current_user
from pydantic import BaseModel, Field
from spectree import Response
from sqlalchemy import func, select

from campaign import db
from campaign.accounts.models import User
from campaign.accounts.scope import Access, scoped
from campaign.api.core import Page, PageQuery, bp, check_if_match, operation, page, tagged
from campaign.api.events import open_or_409, slugs_of
from campaign.api.problems import Problem
from campaign.enrolment.models import Participant
from campaign.events import calendar, fanout, invitations, meetings
from campaign.events.models import Event, EventState, Rsvp
from campaign.events.models import Invitation as Row
from campaign.events.views.base import changeable_or_403, event_or_404
from campaign.events.views.mailing import mailing_text
from campaign.timing import current_clock, local_text


class Mailing(BaseModel):
    """Who is invited to an event, and how far its calendar mail has come."""

    invited: int = Field(description="How many were invited by this request.")
    not_yet_invited: int = Field(description="Of the audience, how many are not invited yet.")
    state: str = Field(
        description="The latest mailing: none, queued, running (a large audience is mailed by "
        "a job, a batch at a time) or done.",
        json_schema_extra={"enum": ["none", "queued", "running", "done"]},
    )
    done: int = Field(description="Mails of the latest mailing queued so far.")
    total: int = Field(description="Mails the latest mailing queues in all.")
    text: str = Field(description="How far it has come, as the event's page says it.")


class Invitation(BaseModel):
    """One person invited to an event, and their answer."""

    id: int
    participant_id: int | None = Field(description="The participant invited, if one.")
    user_id: int | None = Field(description="The staff account invited (working group), if one.")
    member: str = Field(description="The slug of the person's member organisation.")
    name: str
    email: str
    rsvp: Rsvp = Field(description="Their answer: pending, accepted, tentative, declined or "
                       "waitlisted (a yes to a full event).")  # fmt: skip
    responded_at: datetime | None
    has_attended: bool


class InvitationPage(Page):
    items: list[Invitation]


class InvitationQuery(PageQuery):
    rsvp: Rsvp | None = Field(None, description="Only those who gave this answer.")


class Attendance(BaseModel):
    """Who came to an event: ticked by its organiser once it has started."""

    event_id: int
    state: EventState = Field(
        description="Attendance can be marked once started, unless cancelled."
    )
    invited: int
    attended: int
    attended_ids: list[int] = Field(description="The invitations of those who came.")


class AttendanceMarks(BaseModel):
    """Who came: everyone else invited counts as not having come."""

    attended: list[int] = Field(
        default_factory=list, max_length=100_000,
        description="Invitations of those who came (of those who did not say no).",
    )  # fmt: skip
    came_anyway: list[int] = Field(
        default_factory=list, max_length=100_000,
        description="Invitations of those who said no but came after all.",
    )  # fmt: skip


@bp.post("/members/<org>/events/<int:event_id>/invitations")
@operation(Access.ORGANISATION, "events", resp=Response(HTTP_200=Mailing),
           problems=(409,))  # fmt: skip
def invite_to_event(event_id: int) -> Mailing:
    """Invite the event's audience not invited yet (people enrolled since, too): at once when
    they are few, by the `invitations` job when many; the answer says how far it has come."""
    event = open_or_409(changeable_or_403(event_id))
    count = meetings.invite(db.session(), event, current_clock().now(), current_user)
    db.session().commit()
    return _mailing(event, count)


def _mailing(event: Event, invited: int) -> Mailing:
    """Return how far the event's latest mailing has come."""
    latest = fanout.latest(db.session(), event)
    waiting = invitations.uninvited_count(db.session(), event)
    if latest is None:
        return Mailing(invited=invited, not_yet_invited=waiting, state="none", done=0, total=0,
                       text="")  # fmt: skip
    return Mailing(
        invited=invited, not_yet_invited=waiting, state=latest.state.value, done=latest.done,
        total=latest.total, text=mailing_text(latest),
    )  # fmt: skip


@bp.get("/members/<org>/events/<int:event_id>/invitations")
@operation(Access.ORGANISATION, "events", query=InvitationQuery,
           resp=Response(HTTP_200=InvitationPage))  # fmt: skip
def list_invitations(event_id: int, query: InvitationQuery) -> InvitationPage:
    """List an event's invitees with their answers; of an event for the whole campaign, a
    representative sees only their own member's people (as on the event's page)."""
    event = event_or_404(event_id)
    organisation = func.coalesce(Participant.organisation_id, User.organisation_id)
    statement = scoped(
        select(Row)
        .outerjoin(Participant, Participant.id == Row.participant_id)
        .outerjoin(User, User.id == Row.user_id)
        .where(Row.event_id == event.id),
        organisation,
    )
    if query.rsvp is not None:
        statement = statement.where(Row.rsvp == query.rsvp)
    rows, cursor = page(statement, Row.id, query)
    return InvitationPage(items=_described(rows), next_cursor=cursor)


def _described(rows: list[Row]) -> list[Invitation]:
    """Return the invitations with their people (two queries for the page, not one each)."""
    session = db.session()
    people = {p.id: p for p in session.scalars(
        select(Participant).where(Participant.id.in_({r.participant_id for r in rows}))
    )}  # fmt: skip
    staff = {u.id: u for u in session.scalars(
        select(User).where(User.id.in_({r.user_id for r in rows}))
    )}  # fmt: skip
    persons = {r.id: people.get(r.participant_id or 0) or staff.get(r.user_id or 0) for r in rows}
    slugs = slugs_of({p.organisation_id for p in persons.values() if p is not None})
    described = []
    for row in rows:
        person = persons[row.id]
        assert person is not None  # an invitation's keys hold on to its person
        described.append(Invitation(
            id=row.id, participant_id=row.participant_id, user_id=row.user_id,
            member=slugs.get(person.organisation_id or 0, ""), name=person.name,
            email=person.email, rsvp=row.rsvp, responded_at=row.responded_at,
            has_attended=row.has_attended,
        ))  # fmt: skip
    return described


@bp.get("/members/<org>/events/<int:event_id>/attendance")
@operation(Access.ORGANISATION, "events", resp=Response(HTTP_200=Attendance))
def show_attendance(event_id: int) -> tuple[BaseModel, int, dict[str, str]]:
    """Show who came to an event, with the ETag to send as If-Match when marking it."""
    return tagged(_attendance(changeable_or_403(event_id)))


@bp.put("/members/<org>/events/<int:event_id>/attendance")
@operation(Access.ORGANISATION, "events", json=AttendanceMarks,
           resp=Response(HTTP_200=Attendance), conditional=True, problems=(409,))  # fmt: skip
def mark_attendance(event_id: int, json: AttendanceMarks) -> tuple[BaseModel, int, dict[str, str]]:
    """Mark who came, once the event has started (not at a cancelled one): the invitations
    named came, every other did not. One who said no counts only if in `came_anyway`."""
    event = changeable_or_403(event_id)
    _refuse_unless_started(event)
    check_if_match(_attendance(event))
    invitations.mark_attendance(
        db.session(), event, set(json.attended), current_user, came_anyway=set(json.came_anyway)
    )
    db.session().commit()
    return tagged(_attendance(event))


def _refuse_unless_started(event: Event) -> None:
    """Answer 409, in the page's words, for a meeting cancelled or not started yet."""
    state = event.state_at(current_clock().now())
    if state is EventState.CANCELLED:
        raise Problem(409, _("This meeting is cancelled, so no attendance can be marked."),
                      code="event_cancelled")  # fmt: skip
    if state is EventState.PLANNED:
        when = local_text(event.starts_at, calendar.zone_of(event))
        raise Problem(
            409,
            _("The meeting has not started yet, so no attendance can be marked. You can tick"
              " who came once it has started, on %(when)s.", when=when),
            code="event_not_started",
        )  # fmt: skip


def _attendance(event: Event) -> Attendance:
    """Return who came to the event."""
    rows = (
        db.session()
        .execute(select(Row.id, Row.has_attended).where(Row.event_id == event.id).order_by(Row.id))
        .all()
    )
    came = [id_ for id_, attended in rows if attended]
    return Attendance(
        event_id=event.id, state=event.state_at(current_clock().now()), invited=len(rows),
        attended=len(came), attended_ids=came,
    )  # fmt: skip
