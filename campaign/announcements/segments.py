"""Who an announcement is for: a segment of a campaign's participants as criteria, turned into
one SQL condition, counted in one query, with who of them is left out and why.

Every criterion narrows the segment; none chosen means the whole campaign. A representative's
segment is always within their own member (`within`), whatever the form sent.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from campaign.enrolment.lifecycle import STOPPED
from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup
from campaign.events.models import Invitation
from campaign.outbox.models import Suppression
from campaign.surveys.models import Receipt, Response


class LeftOut(enum.Enum):
    """Why someone in the segment gets no announcement (the first that applies)."""

    ERASED = "erased"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    PAUSED = "paused"
    SUPPRESSED = "suppressed"  # the address is on the outbox's suppression list


@dataclass(frozen=True)
class Segment:
    """The criteria of a segment, as ids of the campaign's rows, statuses and days."""

    organisations: tuple[int, ...] = ()
    groups: tuple[int, ...] = ()
    statuses: tuple[str, ...] = ()
    attended: int | None = None  # an event they attended
    absent: int | None = None  # an event they were invited to and did not attend
    answered: int | None = None  # a questionnaire they answered
    unanswered: int | None = None  # a questionnaire they have not answered
    started_after: date | None = None  # started on or after this day
    started_before: date | None = None  # started before this day

    def within(self, organisation_id: int) -> Segment:
        """Return the segment limited to one member's people."""
        return replace(self, organisations=(organisation_id,))

    def to_json(self) -> dict[str, Any]:
        """Return the criteria as the announcement keeps them."""
        kept = asdict(self)
        for name in ("started_after", "started_before"):
            kept[name] = kept[name].isoformat() if kept[name] else None
        return kept

    @classmethod
    def from_json(cls, kept: dict[str, Any]) -> Segment:
        """Return the segment an announcement keeps."""
        return cls(
            organisations=tuple(kept.get("organisations") or ()),
            groups=tuple(kept.get("groups") or ()),
            statuses=tuple(kept.get("statuses") or ()),
            attended=kept.get("attended"),
            absent=kept.get("absent"),
            answered=kept.get("answered"),
            unanswered=kept.get("unanswered"),
            started_after=_day(kept.get("started_after")),
            started_before=_day(kept.get("started_before")),
        )


def _day(kept: str | None) -> date | None:
    return date.fromisoformat(kept) if kept else None


def conditions(campaign_id: int, segment: Segment) -> list[ColumnElement[bool]]:
    """Return the conditions on Participant of the campaign's people in the segment."""
    found = [Participant.campaign_id == campaign_id, *_chosen(segment), *_doings(segment)]
    return found + _started(segment)


def _chosen(segment: Segment) -> list[ColumnElement[bool]]:
    """The conditions of the members, groups and statuses chosen."""
    found: list[ColumnElement[bool]] = []
    if segment.organisations:
        found.append(Participant.organisation_id.in_(segment.organisations))
    if segment.groups:
        found.append(Participant.pilot_group_id.in_(segment.groups))
    if segment.statuses:
        found.append(Participant.status.in_([ParticipantStatus(s) for s in segment.statuses]))
    return found


def _doings(segment: Segment) -> list[ColumnElement[bool]]:
    """The conditions of the meetings attended or missed and the questionnaires answered."""
    found: list[ColumnElement[bool]] = []
    if segment.attended is not None:
        found.append(_invited(segment.attended, Invitation.has_attended.is_(True)))
    if segment.absent is not None:
        found.append(_invited(segment.absent, Invitation.has_attended.is_(False)))
    if segment.answered is not None:
        found.append(_answered(segment.answered))
    if segment.unanswered is not None:
        found.append(~_answered(segment.unanswered))
    return found


def _invited(event_id: int, attendance: ColumnElement[bool]) -> ColumnElement[bool]:
    """The condition of the participants invited to the event, with that attendance."""
    return exists().where(
        Invitation.participant_id == Participant.id, Invitation.event_id == event_id, attendance
    )


def _answered(questionnaire_id: int) -> ColumnElement[bool]:
    """The condition of the participants who answered the questionnaire (a receipt, or a
    response that names them)."""
    receipt = exists().where(
        Receipt.participant_id == Participant.id, Receipt.questionnaire_id == questionnaire_id
    )
    response = exists().where(
        Response.participant_id == Participant.id, Response.questionnaire_id == questionnaire_id
    )
    return or_(receipt, response)


def _started(segment: Segment) -> list[ColumnElement[bool]]:
    """The conditions of the day they started: their own, else their pilot group's."""
    group_start = (
        select(PilotGroup.starts_on)
        .where(PilotGroup.id == Participant.pilot_group_id)
        .scalar_subquery()
    )
    started = func.coalesce(Participant.starts_on, group_start)
    found: list[ColumnElement[bool]] = []
    if segment.started_after is not None:
        found.append(started >= segment.started_after)
    if segment.started_before is not None:
        found.append(started < segment.started_before)
    return found


def _suppressed() -> ColumnElement[bool]:
    """The condition of the participants whose address is on the suppression list."""
    return exists().where(Suppression.email == Participant.email)


def reachable() -> ColumnElement[bool]:
    """The condition of the participants an announcement goes to: neither stopped, paused nor
    suppressed."""
    gone = (*STOPPED, ParticipantStatus.PAUSED)
    return and_(Participant.status.not_in(gone), ~_suppressed())


def _reason() -> Any:
    """Why a participant is left out, in SQL: a LeftOut value, or "" for none."""
    by_status = [
        (Participant.status == ParticipantStatus(reason.value), reason.value)
        for reason in LeftOut
        if reason is not LeftOut.SUPPRESSED
    ]
    return case(*by_status, (_suppressed(), LeftOut.SUPPRESSED.value), else_="")


@dataclass(frozen=True)
class Reach:
    """How many of a segment an announcement reaches, and how many are left out, and why."""

    reached: int
    left_out: dict[LeftOut, int]

    @property
    def total(self) -> int:
        """Return how many people the segment holds."""
        return self.reached + sum(self.left_out.values())


def reach(db_session: Session, campaign_id: int, segment: Segment) -> Reach:
    """Count the segment by why each is left out, in one query."""
    inner = select(_reason().label("reason")).where(*conditions(campaign_id, segment)).subquery()
    grouped = select(inner.c.reason, func.count()).group_by(inner.c.reason)
    counts: dict[str, int] = {reason: n for reason, n in db_session.execute(grouped)}
    reached = counts.pop("", 0)
    return Reach(reached, {LeftOut(reason): n for reason, n in counts.items()})


def left_out(
    db_session: Session, campaign_id: int, segment: Segment, limit: int = 50
) -> list[tuple[Participant, LeftOut]]:
    """Return the first of those left out (by reason, then name), with why; not the erased,
    who have no name left."""
    reason = _reason()
    statement = (
        select(Participant, reason)
        .where(*conditions(campaign_id, segment))
        .where(reason != "", Participant.status != ParticipantStatus.ERASED)
        .order_by(reason, Participant.name, Participant.id)
        .limit(limit)
    )
    return [(person, LeftOut(why)) for person, why in db_session.execute(statement)]


def reached_people(campaign_id: int, segment: Segment, limit: int = 100) -> Select[Participant]:
    """Return a query of the first people the segment reaches, by name (to preview as)."""
    return (
        select(Participant)
        .where(*conditions(campaign_id, segment), reachable())
        .order_by(Participant.name, Participant.id)
        .limit(limit)
    )
