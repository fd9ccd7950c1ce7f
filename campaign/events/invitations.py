"""Who is invited to an event, the calendar mail they get, their answers, and reminders.

Every mail about an event goes through the outbox with a source key naming the event, its
SEQUENCE and the invitation, so queueing twice sends once, and a changed event (a higher
SEQUENCE) sends each invitee one update. Answers come through signed links; a full event puts
people on a waiting list and moves the first of them up when someone with a place says no.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from campaign.accounts.models import User
from campaign.audit import record
from campaign.enrolment.models import Participant, ParticipantStatus
from campaign.events import calendar
from campaign.events.models import Audience, Event, Invitation, Rsvp
from campaign.i18n import load_catalog
from campaign.network.models import Campaign, Membership
from campaign.outbox.compose import Footer, render
from campaign.outbox.models import Message, MessageKind, MessageState
from campaign.outbox.queue import OPEN_STATES, enqueue
from campaign.outbox.unsubscribe import list_headers
from campaign.security import sign, unsign

RSVP_PURPOSE = "rsvp"
RSVP_LIFETIME = timedelta(days=400)
REMINDER = re.compile(r"^(\d{1,3})\s*([dhm])$")
UNITS = {"d": "days", "h": "hours", "m": "minutes"}
# Those who get reminders and updates: everyone invited who has not said no.
STILL_INVITED = (Rsvp.PENDING, Rsvp.ACCEPTED, Rsvp.TENTATIVE, Rsvp.WAITLISTED)


def parse_reminders(text: str) -> list[timedelta]:
    """Parse "24h, 1h" into offsets before the start; raise ValueError naming a bad part."""
    offsets = []
    for part in (p.strip().lower() for p in text.split(",")):
        if not part:
            continue
        match = REMINDER.match(part)
        if not match or int(match.group(1)) == 0:
            raise ValueError(part)
        offsets.append(timedelta(**{UNITS[match.group(2)]: int(match.group(1))}))
    return sorted(set(offsets), reverse=True)


def new_uid(base_url: str) -> str:
    """A UID that stays the event's for life (RFC 5545: globally unique, with a domain)."""
    host = re.sub(r"^https?://", "", base_url).split("/")[0].split(":")[0] or "localhost"
    return f"{secrets.token_hex(12)}@{host}"


@dataclass(frozen=True)
class Invitee:
    participant: Participant | None
    user: User | None

    @property
    def person(self) -> Participant | User:
        return self.participant or self.user  # type: ignore[return-value]


def audience_of(db_session: Session, event: Event) -> list[Invitee]:
    """Return the people the event is for, as the audience decides, today."""
    if event.audience is Audience.WORKING_GROUP:
        members = select(Membership.organisation_id).where(
            Membership.campaign_id == event.campaign_id
        )
        users = db_session.scalars(
            select(User)
            .where(User.is_enabled.is_(True), User.organisation_id.in_(members))
            .order_by(User.id)
        )
        return [Invitee(None, user) for user in users]
    statement = select(Participant).where(
        Participant.campaign_id == event.campaign_id,
        Participant.status == ParticipantStatus.ACTIVE,
    )
    if event.audience is Audience.PILOT_GROUP:
        statement = statement.where(Participant.pilot_group_id == event.pilot_group_id)
    elif event.audience is Audience.ORGANISATION:
        statement = statement.where(Participant.organisation_id == event.organisation_id)
    return [Invitee(p, None) for p in db_session.scalars(statement.order_by(Participant.id))]


def _mail_settings() -> tuple[str, str]:
    config = current_app.config
    return config["CAMPAIGN_BASE_URL"].rstrip("/"), config["CAMPAIGN_MAIL_FROM"]


def organiser_of(db_session: Session, event: Event) -> calendar.Person:
    from email.utils import parseaddr

    user = db_session.get(User, event.organiser_id) if event.organiser_id else None
    if user is not None:
        return calendar.Person(user.name, user.email)
    name, address = parseaddr(_mail_settings()[1])
    return calendar.Person(name, address)


def rsvp_token(invitation: Invitation) -> str:
    return sign(RSVP_PURPOSE, invitation.id)


def invitation_for(db_session: Session, token: str) -> Invitation | None:
    """Return the invitation of an RSVP link; raise TokenError if forged or expired."""
    invitation = db_session.get(
        Invitation, unsign(RSVP_PURPOSE, token, int(RSVP_LIFETIME.total_seconds()))
    )
    if invitation is None or (
        invitation.participant_id is not None
        and db_session.get(Participant, invitation.participant_id).status  # type: ignore[union-attr]
        is ParticipantStatus.ERASED
    ):
        return None
    return invitation


def when_text(event: Event, language: str) -> str:
    """Local date and time of the event, e.g. '2014-10-27 09:00–10:00 (Europe/Stockholm)'."""
    zone = calendar.zone_of(event)
    start, end = event.starts_at.astimezone(zone), event.ends_at.astimezone(zone)
    until = end.strftime("%H:%M") if end.date() == start.date() else end.strftime("%Y-%m-%d %H:%M")
    return f"{start:%Y-%m-%d %H:%M}–{until} ({zone.key})"


# What each kind of calendar mail says; placeholders are filled by the outbox's renderer.
def _texts(kind: str, language: str) -> tuple[str, str]:
    _ = load_catalog(language).gettext
    details = _(
        "- **When:** {{ when }}\n- **Where:** {{ where }}\n\n{{ description }}\n\n"
        "**Will you come?** [Yes]({{ yes }}) · [No]({{ no }}) · [Maybe]({{ maybe }})\n\n"
        "Answer with these links: the organiser sees only those answers. The calendar file in"
        " this e-mail puts the time in your calendar."
    )
    if kind == "update":
        return _("Changed: {{ title }}"), _(
            "Hello {{ name }},\n\n**{{ title }}** has changed. This is the new time and place:\n\n"
        ) + details
    if kind == "cancel":
        return _("Cancelled: {{ title }}"), _(
            "Hello {{ name }},\n\n**{{ title }}** on {{ when }} is cancelled. Your calendar"
            " removes it when you open this e-mail's calendar file."
        )
    if kind == "place":
        return _("You have a place: {{ title }}"), _(
            "Hello {{ name }},\n\na place has become free and it is yours: you are no longer on"
            " the waiting list for **{{ title }}**.\n\n"
        ) + details
    if kind == "reminder":
        return _("Reminder: {{ title }} {{ when }}"), _(
            "Hello {{ name }},\n\na reminder of **{{ title }}**.\n\n"
        ) + details
    return _("Invitation: {{ title }} {{ when }}"), _(
        "Hello {{ name }},\n\nyou are invited to **{{ title }}**.\n\n"
    ) + details


def queue_mail(
    db_session: Session,
    event: Event,
    invitation: Invitation,
    kind: str,
    now: datetime,
    *,
    due_at: datetime | None = None,
    key: str | None = None,
) -> int | None:
    """Queue one mail about the event to one invitee, with the calendar part where it belongs."""
    base_url, sender = _mail_settings()
    participant = (
        db_session.get(Participant, invitation.participant_id)
        if invitation.participant_id
        else None
    )
    user = db_session.get(User, invitation.user_id) if invitation.user_id else None
    person: Any = participant or user
    language = person.language
    _ = load_catalog(language).gettext
    token = rsvp_token(invitation)
    link = f"{base_url}/rsvp/{token}"
    campaign = db_session.get(Campaign, event.campaign_id)
    assert campaign is not None
    headers: dict[str, str] = {}
    if participant is not None:
        headers = list_headers(participant, base_url, sender)
        footer = Footer(
            _(
                "You receive this because you take part in the pilot group of %(organisation)s in"
                " %(campaign)s."
            )  # fmt: skip
            % {"organisation": participant.organisation.name, "campaign": campaign.name},
            headers["List-Unsubscribe"].split(">", 1)[0].lstrip("<"),
        )
    else:
        footer = Footer(_("You receive this as a member of the campaign's working group."))
    subject, body = _texts(kind, language)
    context = {
        "name": person.name or person.email,
        "title": event.title,
        "when": when_text(event, language),
        "where": calendar.location_of(event) or _("to be announced"),
        "description": event.description_md,
        "yes": f"{link}?answer=accepted",
        "no": f"{link}?answer=declined",
        "maybe": f"{link}?answer=tentative",
    }
    rendered = render(subject, body, context, language=language, footer=footer)
    ical = None
    if kind in ("invitation", "update", "cancel", "place"):
        partstat = calendar.PARTSTAT[invitation.rsvp.value]
        ical = calendar.invitation(
            event,
            stamp=now,
            organiser=organiser_of(db_session, event),
            attendee=calendar.Person(person.name, person.email),
            partstat=partstat,
            description=f"{event.description_md}\n\n{link}".strip(),
        )
        invitation.sent_sequence = event.sequence
    message_kind = MessageKind.REMINDER if kind == "reminder" else MessageKind.INVITATION
    return enqueue(
        db_session,
        source_key=key or f"ev:{event.id}:s{event.sequence}:i{invitation.id}:{kind}",
        recipient=person.email,
        kind=message_kind,
        rendered=rendered,
        due_at=due_at or now,
        sender=sender,
        headers=headers,
        campaign_id=event.campaign_id,
        organisation_id=person.organisation_id,
        participant_id=participant.id if participant else None,
        user_id=user.id if user else None,
        calendar=ical,
    )


def invite(db_session: Session, event: Event, now: datetime) -> int:
    """Invite everyone of the audience not invited yet (people enrolled since, too)."""
    if event.is_cancelled:
        return 0
    invited = {
        (i.participant_id, i.user_id)
        for i in db_session.scalars(select(Invitation).where(Invitation.event_id == event.id))
    }
    count = 0
    for invitee in audience_of(db_session, event):
        key = (
            invitee.participant.id if invitee.participant else None,
            invitee.user.id if invitee.user else None,
        )
        if key in invited:
            continue
        invitation = Invitation(
            event_id=event.id, participant_id=key[0], user_id=key[1], created_at=now
        )
        db_session.add(invitation)
        db_session.flush()
        queue_mail(db_session, event, invitation, "invitation", now)
        count += 1
    return count


SIGNIFICANT = ("starts_at", "ends_at", "timezone", "join_url", "room", "title")


def change(db_session: Session, event: Event, changes: dict[str, Any], now: datetime) -> int:
    """Apply changes; a new time, place or title raises SEQUENCE and sends each invitee who has
    not declined an update; more places move the waiting list up. Return how many updates were
    queued."""
    changed = [k for k, v in changes.items() if getattr(event, k) != v]
    if not changed:
        return 0
    for name in changed:
        setattr(event, name, changes[name])
    event.updated_at = now
    updates = 0
    if set(changed) & set(SIGNIFICANT):
        event.sequence += 1
        _cancel_unsent_reminders(db_session, event)
        updates = _send_to_invited(db_session, event, "update", now)
    if "capacity" in changed:
        db_session.flush()
        promote(db_session, event, now)  # after the update: the place mail has the new time
    return updates


def cancel(db_session: Session, event: Event, now: datetime) -> int:
    """Cancel the event: METHOD:CANCEL, with a higher SEQUENCE, to everyone who has not declined."""
    if event.is_cancelled:
        return 0
    event.is_cancelled = True
    event.sequence += 1
    event.updated_at = now
    _cancel_unsent_reminders(db_session, event)
    return _send_to_invited(db_session, event, "cancel", now)


def _cancel_unsent_reminders(db_session: Session, event: Event) -> int:
    """Stop reminders queued for an earlier SEQUENCE: they name the old time or place."""
    result = db_session.execute(
        update(Message)
        .where(
            Message.kind == MessageKind.REMINDER,
            Message.source_key.startswith(f"ev:{event.id}:", autoescape=True),
            Message.source_key.not_like(f"ev:{event.id}:s{event.sequence}:%"),
            Message.state.in_(OPEN_STATES),
        )
        .values(state=MessageState.CANCELLED, last_answer="the event changed")
    )
    return result.rowcount


def _send_to_invited(db_session: Session, event: Event, kind: str, now: datetime) -> int:
    invitations = db_session.scalars(
        select(Invitation).where(
            Invitation.event_id == event.id, Invitation.rsvp.in_(STILL_INVITED)
        )
    ).all()
    for invitation in invitations:
        queue_mail(db_session, event, invitation, kind, now)
    return len(invitations)


def accepted_count(db_session: Session, event: Event) -> int:
    return (
        db_session.scalar(
            select(func.count())
            .select_from(Invitation)
            .where(Invitation.event_id == event.id, Invitation.rsvp == Rsvp.ACCEPTED)
        )
        or 0
    )


def respond(db_session: Session, invitation: Invitation, answer: Rsvp, now: datetime) -> Rsvp:
    """Record an answer; a yes to a full event joins the waiting list. Return the new state.

    The event row is locked first, so two people cannot take the last place at once.
    """
    event = db_session.scalars(
        select(Event).where(Event.id == invitation.event_id).with_for_update()
    ).one()
    had_place = invitation.rsvp is Rsvp.ACCEPTED
    if answer is Rsvp.ACCEPTED and not had_place:
        full = event.capacity is not None and accepted_count(db_session, event) >= event.capacity
        if full and invitation.rsvp is Rsvp.WAITLISTED:
            return Rsvp.WAITLISTED  # keeps its place in the queue
        answer = Rsvp.WAITLISTED if full else Rsvp.ACCEPTED
    if invitation.rsvp is not answer:
        invitation.rsvp = answer
        invitation.responded_at = now
    if had_place and answer is not Rsvp.ACCEPTED:
        db_session.flush()
        promote(db_session, event, now)
    return answer


def promote(db_session: Session, event: Event, now: datetime) -> list[Invitation]:
    """Give free places to the waiting list, first come first served, and tell them."""
    if event.is_cancelled:
        return []
    free = None if event.capacity is None else event.capacity - accepted_count(db_session, event)
    if free is not None and free <= 0:
        return []
    waiting = db_session.scalars(
        select(Invitation)
        .where(Invitation.event_id == event.id, Invitation.rsvp == Rsvp.WAITLISTED)
        .order_by(Invitation.responded_at, Invitation.id)
        .limit(free)
    ).all()
    for invitation in waiting:
        invitation.rsvp = Rsvp.ACCEPTED
        invitation.responded_at = now
        queue_mail(
            db_session,
            event,
            invitation,
            "place",
            now,
            key=f"ev:{event.id}:place:i{invitation.id}:{now.isoformat()}",
        )
    return list(waiting)


def queue_reminders(db_session: Session, now: datetime) -> int:
    """Queue each reminder whose moment has come, once, to those who have not declined.

    A reminder missed while the service was down still goes out, as long as the event has not
    started; the waiting list gets none (they have no place).
    """
    events = db_session.scalars(
        select(Event).where(Event.is_cancelled.is_(False), Event.starts_at > now)
    ).all()
    count = 0
    for event in events:
        try:
            offsets = parse_reminders(event.reminders)
        except ValueError:
            continue
        due = [offset for offset in offsets if event.starts_at - offset <= now]
        if not due:
            continue
        offset = min(due)  # only the latest due reminder: no burst of two after an outage
        if event.sequence > 0 and event.updated_at > event.starts_at - offset:
            continue  # changed after this reminder's moment: the update is reminder enough
        label = f"{int(offset.total_seconds() // 60)}m"
        invitations = db_session.scalars(
            select(Invitation).where(
                Invitation.event_id == event.id,
                Invitation.rsvp.in_([Rsvp.PENDING, Rsvp.ACCEPTED, Rsvp.TENTATIVE]),
            )
        ).all()
        for invitation in invitations:
            if invitation.created_at > event.starts_at - offset:
                continue  # invited after this reminder's moment: the invitation is reminder enough
            queued = queue_mail(
                db_session,
                event,
                invitation,
                "reminder",
                now,
                key=f"ev:{event.id}:s{event.sequence}:reminder:{label}:i{invitation.id}",
            )
            count += queued is not None
    return count


def mark_attendance(
    db_session: Session, event: Event, attended: set[int], actor: Any
) -> tuple[int, int]:
    """Set who came (by invitation id); return (attended, not attended)."""
    invitations = db_session.scalars(
        select(Invitation).where(Invitation.event_id == event.id)
    ).all()
    for invitation in invitations:
        invitation.has_attended = invitation.id in attended
    came = sum(i.has_attended for i in invitations)
    record(
        db_session,
        actor,
        "event.attendance_marked",
        organisation_id=event.organisation_id,
        target=f"event:{event.id}",
        attended=came,
        invited=len(invitations),
    )
    return came, len(invitations) - came
