"""When a sequence step is due for a participant: its moment, or one per event it follows.

A step is due at its offset from the participant's start (their own start date, else their pilot
group's), from the campaign's end, or from a milestone (the member's date, else the campaign's;
no date, no step), on a business day, at its local time in the campaign's time zone, outside
the quiet hours. A step anchored to a kind of event is due once for each
event of that kind the participant is invited to, counted from the event's day. Nothing is
planned after the campaign's end: a step that would come later is no step of this campaign.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.drip.conditions import milestone_of
from campaign.drip.files import EVENT_ANCHORS, Step
from campaign.enrolment.models import Participant, PilotGroup
from campaign.events.models import Event, Invitation
from campaign.network.models import Campaign
from campaign.network.phases import end_moment
from campaign.timing import QUIET_HOURS, add_business_days, local_instant

NO_MILESTONES: Mapping[str, date] = {}
# A step more than this overdue is recorded as skipped (but a sequence's first step).
CATCH_UP = timedelta(days=2)


def step_due(
    step: Step, start: date, campaign: Campaign, milestones: Mapping[str, date] = NO_MILESTONES
) -> datetime | None:
    """Return the UTC instant a step is due for someone who started on `start` (with these
    milestone dates); None for a step that counts from a milestone without a date."""
    anchor = anchor_day(step, start, campaign, milestones)
    return None if anchor is None else send_instant(step, anchor, ZoneInfo(campaign.timezone))


def anchor_day(
    step: Step, start: date, campaign: Campaign, milestones: Mapping[str, date]
) -> date | None:
    """Return the day a step (not one that follows meetings) counts from: the participant's
    start, the campaign's last day, or the milestone's date (None: the milestone has none)."""
    if step.anchor == "campaign_end":
        return campaign.ends_on
    name = milestone_of(step.anchor)
    return start if name is None else milestones.get(name)


def send_instant(step: Step, anchor: date, zone: ZoneInfo) -> datetime:
    """Return when a step counted from `anchor` goes out: on a business day (a step that falls
    on a weekend or a holiday waits for the next working day), at its local time, outside
    the quiet hours."""
    day = add_business_days(step.offset.apply(anchor), 0)
    return QUIET_HOURS.next_allowed(local_instant(day, step.at, zone), zone)


@dataclass(frozen=True)
class Occurrence:
    """One mail a step gives one participant: most steps give one, event-anchored steps one
    per event of their kind that the participant is invited to."""

    key: str
    due: datetime
    event: Event | None = None
    skipped: str | None = None  # why it is recorded as skipped whatever else holds (a pause)
    after_pause: bool = False  # the one step caught up with after a pause (drip/pauses.py)


def occurrences(
    step: Step,
    participant: Participant,
    group: PilotGroup,
    campaign: Campaign,
    events: list[Event],
    milestones: Mapping[str, date] = NO_MILESTONES,
) -> list[Occurrence]:
    """Return when, and under which source key, a step is due for a participant, while the
    campaign runs (none for a step that counts from a milestone without a date)."""
    found = _occurrences(step, participant, group, campaign, events, milestones)
    end = end_moment(campaign)
    return [occurrence for occurrence in found if occurrence.due < end]


def _occurrences(
    step: Step,
    participant: Participant,
    group: PilotGroup,
    campaign: Campaign,
    events: list[Event],
    milestones: Mapping[str, date],
) -> list[Occurrence]:
    """Return every time, and the source key, a step is due for a participant."""
    key = f"p:{participant.id}:seq:{step.key}"
    if step.anchor not in EVENT_ANCHORS:
        start = participant.starts_on or group.starts_on
        due = step_due(step, start, campaign, milestones)
        return [] if due is None else [Occurrence(key, due)]
    zone = ZoneInfo(campaign.timezone)
    return [
        Occurrence(
            f"{key}:e{event.id}",
            send_instant(step, event.starts_at.astimezone(zone).date(), zone),
            event,
        )
        for event in events
        if event.kind.value == step.anchor
    ]


def next_event(events: list[Event], after: Event, now: datetime) -> Event | None:
    """Return the next event of the same kind, after `after` ends and after now."""
    later = [e for e in events if e.kind is after.kind and e.starts_at > max(after.ends_at, now)]
    return min(later, key=lambda e: e.starts_at, default=None)


def invited_events(db_session: Session, participant_ids: list[int]) -> dict[int, list[Event]]:
    """Return, for each participant, the events (not cancelled) they are invited to."""
    found: dict[int, list[Event]] = {pid: [] for pid in participant_ids}
    rows = db_session.execute(
        select(Invitation.participant_id, Event)
        .join(Event, Invitation.event_id == Event.id)
        .where(Invitation.participant_id.in_(participant_ids), Event.is_cancelled.is_(False))
        .order_by(Event.starts_at)
    )
    for participant_id, event in rows:
        if participant_id is not None:  # always: the invitations are these participants'
            found[participant_id].append(event)
    return found
