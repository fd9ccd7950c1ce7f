"""What a participant gets of the sequence steps that came due while they were paused.

A pause until a day ends in the morning of that day, when the drip's sending window opens
(the end of the quiet hours, 08:00 in the campaign's time zone). Of the step mails that came
due before the participant resumed and are not in the outbox yet, one goes: the first whose
conditions hold, at the first sending moment after the resumption (on a business day, outside
the quiet hours), unless a step held over the pause goes instead. The others, and the steps that
follow an event that took place meanwhile, are recorded as skipped. Nobody comes back to a
burst of mail, and the rule is the same for the drip engine and the schedule page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from campaign.drip.due import Occurrence
from campaign.drip.files import Step
from campaign.enrolment.models import Participant, ParticipantStatus
from campaign.outbox.models import MessageState
from campaign.outbox.queue import OPEN_STATES
from campaign.timing import QUIET_HOURS, add_business_days, is_business_day, local_instant

SKIPPED_STEP = "skipped: due while the participant was paused"
SKIPPED_EVENT_STEP = "skipped: its event took place while the participant was paused"

# A step mail of a participant: its position in the sequence, the step, and when it is due.
Timed = tuple[int, Step, Occurrence]


@dataclass(frozen=True)
class Resumption:
    """When a participant came (or will come) back from a pause, in their campaign's zone, and
    whether a step mail held over the pause goes then."""

    at: datetime
    zone: ZoneInfo
    held_over: bool = False


def resumes_at(day: date, zone: ZoneInfo) -> datetime:
    """Return when a pause until `day` ends: that morning, as the sending window opens."""
    return local_instant(day, QUIET_HOURS.end, zone)


def sending_moment(instant: datetime, zone: ZoneInfo) -> datetime:
    """Return the first moment from `instant` on that is in a business day's sending window."""
    allowed = QUIET_HOURS.next_allowed(instant, zone)
    day = allowed.astimezone(zone).date()
    return allowed if is_business_day(day) else resumes_at(add_business_days(day, 0), zone)


def resumed_at(participant: Participant, zone: ZoneInfo, now: datetime) -> datetime | None:
    """Return when the participant resumed, or will: the morning of their pause's day, or now
    while paused until further notice (as if they resumed now)."""
    if participant.status is not ParticipantStatus.PAUSED:
        return participant.resumed_at
    day = participant.paused_until
    return resumes_at(day, zone) if day else now


def held_over(message: Any, participant: Participant) -> bool:
    """Whether a step mail (a Message, or a row of its columns) was held over the participant's
    last pause: queued before it, it waits still or went after."""
    if participant.status is ParticipantStatus.PAUSED:
        return message.state in OPEN_STATES
    return message.state is not MessageState.CANCELLED and _across(message, participant)


def _across(message: Any, participant: Participant) -> bool:
    """Whether a mail queued before the participant resumed was due when they did, or after."""
    back = participant.resumed_at
    return back is not None and message.created_at < back <= message.due_at


def after_pause(
    timed: list[Timed], back: Resumption | None, fits: Callable[[Step], bool] = lambda _: True
) -> list[Timed]:
    """Return the step mails not queued yet as a pause that ended at `back` leaves them: the
    missed ones moved to the sending moment after it (one, that `fits`) or skipped."""
    if back is None:
        return timed
    missed = _missed(timed, back.at)
    chosen = None if back.held_over else _first(missed, fits)
    moment, late = sending_moment(back.at, back.zone), {id(t) for t in missed}
    return [_settled(t, t is chosen, moment) if id(t) in late else t for t in timed]


def _missed(timed: list[Timed], at: datetime) -> list[Timed]:
    """The step mails that came due by `at`, in order of time."""
    return sorted((t for t in timed if t[2].due <= at), key=lambda t: (t[2].due, t[0]))


def _first(missed: list[Timed], fits: Callable[[Step], bool]) -> Timed | None:
    """The first missed step mail that may be caught up with: not after an event, and fit."""
    return next((t for t in missed if t[2].event is None and fits(t[1])), None)


def _settled(timed: Timed, chosen: bool, moment: datetime) -> Timed:
    """Return a step mail that came due during a pause: moved to `moment`, or skipped."""
    position, step, occurrence = timed
    if chosen:
        return position, step, replace(occurrence, due=moment, after_pause=True)
    why = SKIPPED_STEP if occurrence.event is None else SKIPPED_EVENT_STEP
    return position, step, replace(occurrence, skipped=why)
