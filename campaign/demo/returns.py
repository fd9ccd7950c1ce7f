"""Mail that came back to the running demo, received through the real inbound path.

In the weeks lived through, one address bounced (a Swedish Exchange server's report, to the
mail's own return address), one person was away (an auto-reply), one accepted the practice
meeting from their calendar (an iTIP REPLY), and one wrote back in their own words: the
participant list, the meeting and the Inbox show them as they would show real ones.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from flask import current_app
from icalendar import Calendar, Event, vCalAddress
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.enrolment.models import Participant, ParticipantStatus
from campaign.events.models import Event as Meeting
from campaign.events.models import Invitation, Rsvp
from campaign.inbound import matching
from campaign.inbound.receive import receive
from campaign.outbox import verp
from campaign.outbox.compose import envelope_address
from campaign.outbox.dispatch import verp_key
from campaign.outbox.models import Message, MessageState

MTA = "mx01.example.org"


def come_back(db_session: Session, campaign_id: int, now: datetime, rng: random.Random) -> int:
    """Receive the demo's returned mail in the days before `now`; return how many."""
    people = _sent_to(db_session, campaign_id, rng, 3)
    raws = [
        (_bounce(people[0], now - timedelta(days=4)), _return_path(people[0][1])),
        (_away(people[1], now - timedelta(days=2)), None),
        (_thanks(people[2], now - timedelta(days=1)), None),
    ]
    accepted = _calendar_yes(db_session, campaign_id, now - timedelta(hours=20), rng)
    raws += [(accepted, None)] if accepted else []
    for raw, envelope in raws:
        receive(db_session, raw, now, source="imap", envelope_to=envelope, commit=False)
    return len(raws)


def _sent_to(
    db_session: Session, campaign_id: int, rng: random.Random, count: int
) -> list[tuple[Participant, Message]]:
    """Draw `count` active participants, each with the last mail sent to them."""
    query = (
        select(Participant, Message)
        .join(Message, Message.participant_id == Participant.id)
        .where(Participant.campaign_id == campaign_id)
        .where(Participant.status == ParticipantStatus.ACTIVE)
        .where(Message.state == MessageState.SENT)
        .order_by(Participant.id, Message.sent_at.desc())
    )
    last: dict[int, tuple[Participant, Message]] = {}
    for person, message in db_session.execute(query):
        last.setdefault(person.id, (person, message))
    return rng.sample(sorted(last.values(), key=lambda pair: pair[0].id), count)


def _return_path(message: Message) -> str:
    """Return the envelope sender the dispatcher gave the message (VERP)."""
    return verp.return_path(message.id, matching.verp_template(), verp_key(current_app.config))


def _ours() -> str:
    """Return the service's own address, the one its mail comes from."""
    return envelope_address(current_app.config["CAMPAIGN_MAIL_FROM"])


def _mail(sender: str, to: str, subject: str, at: datetime, text: str) -> EmailMessage:
    """Return a plain mail as a mail program writes it."""
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, to, subject
    mail["Date"], mail["Message-ID"] = format_datetime(at), make_msgid(domain=MTA)
    mail.set_content(text)
    return mail


def _bounce(pair: tuple[Participant, Message], at: datetime) -> bytes:
    """A delivery report (RFC 3464) as Exchange writes it in Swedish: the mailbox is gone."""
    person, message = pair
    return BOUNCE.format(
        mta=MTA,
        to=_return_path(message),
        date=format_datetime(at),
        id=make_msgid(domain=MTA),
        email=person.email,
        original=message.message_id,
    ).encode()


BOUNCE = """From: Postmaster <postmaster@{mta}>
To: {to}
Subject: =?utf-8?q?Det_gick_inte_att_leverera?=
Date: {date}
Message-ID: {id}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="ndr"

--ndr
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Det gick inte att leverera ditt meddelande till {email}.

Mottagarens e-postadress hittades inte. Den kan vara felstavad eller finns inte längre.

--ndr
Content-Type: message/delivery-status

Reporting-MTA: dns; {mta}

Final-Recipient: rfc822; {email}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 RESOLVER.ADR.RecipNotFound; not found

--ndr
Content-Type: text/rfc822-headers

Message-ID: {original}
To: {email}

--ndr--
""".replace("\n", "\r\n")


def _away(pair: tuple[Participant, Message], at: datetime) -> bytes:
    """An out-of-office reply (RFC 3834) to the person's last mail."""
    person, message = pair
    reply = _mail(
        f"{person.name} <{person.email}>",
        _ours(),
        "Autosvar: " + message.subject,
        at,
        "Hej!\n\nJag är på semester och läser inte min e-post förrän måndag.",
    )
    reply["Auto-Submitted"], reply["In-Reply-To"] = "auto-replied", message.message_id
    return reply.as_bytes()


def _thanks(pair: tuple[Participant, Message], at: datetime) -> bytes:
    """A person's own answer to their last mail: for a person to read."""
    person, message = pair
    reply = _mail(
        f"{person.name} <{person.email}>",
        _ours(),
        "Sv: " + message.subject,
        at,
        "Tack! Vi har redan Skype på förvaltningen, men jag är gärna med och provar.\n\n"
        "Kan jag ta med en kollega till prova-på-mötet?",
    )
    reply["In-Reply-To"] = reply["References"] = message.message_id
    return reply.as_bytes()


def _calendar_yes(
    db_session: Session, campaign_id: int, at: datetime, rng: random.Random
) -> bytes | None:
    """A yes from a calendar program to a practice meeting someone has not answered yet."""
    query = (
        select(Invitation, Meeting, Participant)
        .join(Meeting, Meeting.id == Invitation.event_id)
        .join(Participant, Participant.id == Invitation.participant_id)
        .where(Meeting.campaign_id == campaign_id, Meeting.starts_at > at)
        .where(Invitation.rsvp == Rsvp.PENDING)
        .where(Participant.status == ParticipantStatus.ACTIVE)
        .order_by(Invitation.id)
    )
    found = db_session.execute(query).all()
    if not found:
        return None
    _invitation, meeting, person = rng.choice(found)
    reply = _mail(
        f"{person.name} <{person.email}>",
        _ours(),
        "Accepterat: " + meeting.title,
        at,
        f"{person.name} har accepterat mötet.",
    )
    reply.add_alternative(_itip_reply(meeting, person, at), subtype="calendar")
    for part in reply.iter_parts():
        if part.get_content_type() == "text/calendar":
            part.set_param("method", "REPLY")
    return reply.as_bytes()


def _itip_reply(meeting: Meeting, person: Participant, at: datetime) -> str:
    """Return the iCalendar REPLY (RFC 5546) a calendar program sends for a yes."""
    calendar = Calendar()
    calendar.add("prodid", "-//Demo//Kalender 1.0//SV")
    calendar.add("version", "2.0")
    calendar.add("method", "REPLY")
    item = Event()
    item.add("uid", meeting.uid)
    item.add("sequence", meeting.sequence)
    item.add("dtstamp", at)
    item.add("dtstart", meeting.starts_at)
    attendee = vCalAddress(f"mailto:{person.email}")
    attendee.params["partstat"] = "ACCEPTED"
    attendee.params["cn"] = person.name
    item.add("attendee", attendee)
    calendar.add_component(item)
    return calendar.to_ical().decode()
