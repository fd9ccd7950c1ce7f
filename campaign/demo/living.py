"""The pilot in progress of the running demo (`campaign demo`): what happened since its start.

Per member: a pilot group that started in the campaign's first weeks, its first pilot users
with it and a few who joined later, a training some weeks ago and a practice meeting next week;
across the network two pilot users paused and two unsubscribed. `replay` then lives those
weeks through: the real jobs queue the mail each moment would have queued, invented people
answer invitations, come to the training and fill in the baseline (`acting`), and what was
queued is stored as sent at the moment it was due. Nothing is mailed: the first tick after
loading sends only what has come due since (the welcome of today's newcomers). Names and
addresses are invented (`people`); the same seed and the same `now` give the same pilot.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.demo import people
from campaign.enrolment import lifecycle
from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup
from campaign.events import invitations
from campaign.events.models import Audience, Event, EventKind
from campaign.network.models import Campaign, Organisation

SEED = 2026
ENROLLED = time(7, 0)  # local time pilot users are added on the day they start
PLANNED = time(11, 0)  # local time a meeting is planned and its invitations go out
PRACTICE_TITLE = "Prova-på-möte i webbmöten"
PRACTICE_LENGTH = timedelta(hours=1)
JOIN_URL = "https://meet.example.org/{slug}"  # invented (RFC 2606)
PAUSED, UNSUBSCRIBED = 2, 2  # pilot users across the network who paused or unsubscribed


@dataclass(frozen=True)
class Calendar:
    """The campaign's days: local moments as UTC instants, and the business days between."""

    zone: ZoneInfo
    today: date

    def at(self, day: date, moment: time) -> datetime:
        """Return the instant of `moment`, local time, on `day`."""
        return datetime.combine(day, moment, self.zone).astimezone(UTC)

    def workdays(self, first: date, last: date) -> list[date]:
        """Return the weekdays from `first` to `last`, both included."""
        days = (first + timedelta(days=n) for n in range((last - first).days + 1))
        return [day for day in days if day.weekday() < 5]


def calendar_of(campaign: Campaign, now: datetime) -> Calendar:
    """Return the calendar of the campaign, whose today is `now`'s local day."""
    zone = ZoneInfo(campaign.timezone)
    return Calendar(zone, now.astimezone(zone).date())


@dataclass(frozen=True)
class Happening:
    """Something people do at a moment of the past weeks, done when the replay reaches it."""

    at: datetime
    do: Callable[[Session, datetime], object]


def plan(
    db_session: Session, campaign: Campaign, now: datetime, rng: random.Random
) -> list[Happening]:
    """Add each member's pilot group; return what happens in the weeks since, by moment."""
    calendar = calendar_of(campaign, now)
    members = sorted((m.organisation for m in campaign.memberships), key=lambda o: o.slug)
    found = [h for org in members for h in _member(db_session, campaign, org, calendar, rng)]
    found += _leavers(campaign, calendar, rng)
    return sorted(found, key=lambda happening: happening.at)


def _member(
    db_session: Session,
    campaign: Campaign,
    org: Organisation,
    calendar: Calendar,
    rng: random.Random,
) -> Iterator[Happening]:
    """The member's pilot group (added now), and its people joining and meeting."""
    starts = campaign.starts_on + timedelta(weeks=rng.choice((0, 1, 2)))
    made = calendar.at(campaign.starts_on, ENROLLED)
    group = people.add_pilot_group(db_session, campaign, org, rng, starts, made)
    yield Happening(calendar.at(starts, ENROLLED), partial(_join, group, rng.randint(5, 10), rng))
    later = calendar.workdays(starts + timedelta(days=1), calendar.today - timedelta(days=1))
    for day in rng.sample(later, min(3, len(later))):
        if rng.random() < 0.6:  # a few joined later, some of them this week
            yield Happening(calendar.at(day, ENROLLED), partial(_join, group, 1, rng))
    yield from _training(campaign, org, starts, calendar, rng)
    yield _practice_meeting(campaign, group, calendar, rng)


def _join(
    group: PilotGroup, count: int, rng: random.Random, db_session: Session, at: datetime
) -> list[int]:
    """`count` invented people join the group, starting that day, with their consent."""
    return people.add_invented_users(db_session, group, count, rng, at)


def _training(
    campaign: Campaign, org: Organisation, starts: date, calendar: Calendar, rng: random.Random
) -> Iterator[Happening]:
    """The member's training, on a weekday some weeks ago, planned and invited a week before."""
    days = calendar.workdays(starts + timedelta(days=10), calendar.today - timedelta(days=3))
    if days:
        begins = calendar.at(rng.choice(days), time(13, 0))
        planned = calendar.at((begins - timedelta(days=7)).date(), PLANNED)
        yield Happening(planned, partial(_plan_training, campaign, org, begins))


def _plan_training(
    campaign: Campaign, org: Organisation, begins: datetime, db_session: Session, at: datetime
) -> int:
    uid = f"demo-training-{org.slug}-{begins:%Y%m%d}@example.org"
    event = people.add_training(
        db_session, campaign, org, begins, uid=uid, reminders="24h,1h", at=at
    )
    return invitations.invite(db_session, event, at)


def _practice_meeting(
    campaign: Campaign, group: PilotGroup, calendar: Calendar, rng: random.Random
) -> Happening:
    """The group's practice meeting next week, planned and invited three days ago."""
    monday = calendar.today - timedelta(days=calendar.today.weekday()) + timedelta(weeks=1)
    begins = calendar.at(monday + timedelta(days=rng.randint(1, 3)), time(rng.choice((10, 14))))
    planned = calendar.at(calendar.today - timedelta(days=3), PLANNED)
    return Happening(planned, partial(_plan_practice, campaign, group, begins))


def _plan_practice(
    campaign: Campaign, group: PilotGroup, begins: datetime, db_session: Session, at: datetime
) -> int:
    slug = group.organisation.slug
    event = Event(
        campaign_id=campaign.id, organisation_id=group.organisation_id, pilot_group_id=group.id,
        kind=EventKind.PRACTICE_MEETING, audience=Audience.PILOT_GROUP, title=PRACTICE_TITLE,
        starts_at=begins, ends_at=begins + PRACTICE_LENGTH, timezone=campaign.timezone,
        join_url=JOIN_URL.format(slug=slug), uid=f"demo-practice-{slug}@example.org",
        sequence=0, reminders="24h,1h", created_at=at, updated_at=at,
    )  # fmt: skip
    db_session.add(event)
    db_session.flush()
    return invitations.invite(db_session, event, at)


def _leavers(campaign: Campaign, calendar: Calendar, rng: random.Random) -> list[Happening]:
    """A few pilot users pause (nine days ago) or unsubscribe (six days ago)."""
    paused = calendar.at(calendar.today - timedelta(days=9), time(12, 0))
    left = calendar.at(calendar.today - timedelta(days=6), time(12, 0))
    return [Happening(paused, partial(_pause, campaign.id, rng))] * PAUSED + [
        Happening(left, partial(_unsubscribe, campaign.id, rng))
    ] * UNSUBSCRIBED


def _pause(campaign_id: int, rng: random.Random, db_session: Session, at: datetime) -> bool:
    return lifecycle.pause(db_session, _someone(db_session, campaign_id, rng), at)


def _unsubscribe(campaign_id: int, rng: random.Random, db_session: Session, at: datetime) -> None:
    person = _someone(db_session, campaign_id, rng)
    lifecycle.unsubscribe(db_session, person, at, how="unsubscribe page")


def _someone(db_session: Session, campaign_id: int, rng: random.Random) -> Participant:
    """Return an active pilot user of the campaign, drawn at random."""
    active = db_session.scalars(
        select(Participant)
        .where(Participant.campaign_id == campaign_id)
        .where(Participant.status == ParticipantStatus.ACTIVE)
        .order_by(Participant.id)
    ).all()
    return rng.choice(active)


def newcomers(
    db_session: Session, campaign: Campaign, now: datetime, rng: random.Random, count: int = 3
) -> None:
    """`count` people join today, at `now`: their welcome is the first tick's to send."""
    groups = db_session.scalars(
        select(PilotGroup).where(PilotGroup.campaign_id == campaign.id).order_by(PilotGroup.id)
    ).all()
    for group in rng.sample(list(groups), count):
        people.add_invented_users(db_session, group, 1, rng, now)
