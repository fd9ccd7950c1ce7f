"""Calendar answers (iTIP, RFC 5546): a yes, no or maybe pressed in Outlook, Google Calendar or
Thunderbird counts as the same answer by the signed RSVP link would.

A REPLY is matched by the meeting's UID and the attendee's address (or the person of the mail
whose return address it came back to), then applied by `invitations.respond` under the rule of
`events.answers` that the link follows too: a yes to a full meeting joins the waiting list, a
no gives the place to the next in line (and queues their mail), nothing counts after the
meeting ended or was cancelled, and one who gets no more mail may only say no. An answer to an
older version of the meeting (a lower SEQUENCE) is recorded as stale and flagged, not applied.
A COUNTER (another time proposed) is never applied: it is kept for a person and shown on the
meeting's page. An Outlook answer in a TNEF winmail.dat holds no iCalendar object and is kept
for a person with a note (README, "Meetings and trainings").

Like the link, an answer applied here writes no audit event (the audit trail is of staff
actions); the received message's row, with its outcome and detail, is the record of it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from campaign.events import answers, invitations, proposals
from campaign.events.models import Event, Invitation, Rsvp
from campaign.inbound import itip
from campaign.inbound.calendar_match import Invitee, event_of, invitee_of, proposed_span
from campaign.inbound.matching import participant_by_address, sender_of
from campaign.inbound.parsed import Incoming
from campaign.outbox.inbound import InboundKind, InboundOutcome

REPLY, COUNTER = "REPLY", "COUNTER"
PARTSTATS = {"ACCEPTED": Rsvp.ACCEPTED, "DECLINED": Rsvp.DECLINED, "TENTATIVE": Rsvp.TENTATIVE}
# What Outlook's meeting answers in TNEF say, by their message class.
TNEF_ANSWERS = {"Resp.Pos": "ACCEPTED", "Resp.Neg": "DECLINED", "Resp.Tent": "TENTATIVE"}


def handle(db_session: Session, incoming: Incoming) -> bool:
    """Take a calendar answer: apply a REPLY, keep a COUNTER or an unreadable calendar."""
    try:
        found = itip.find(incoming.message)
    except itip.Unreadable as error:
        return _unreadable(incoming, error)
    if found is None:
        return _tnef(db_session, incoming)
    if found.method == COUNTER:
        return _counter(db_session, incoming, found)
    return found.method == REPLY and _reply(db_session, incoming, found)


def _set(
    incoming: Incoming, kind: InboundKind, outcome: InboundOutcome, detail: str, attention: bool
) -> bool:
    """Say what the message is and what was done with it; return True (it is taken)."""
    row = incoming.row
    row.kind, row.outcome, row.detail = kind, outcome, detail[:1000]
    row.needs_attention = attention
    return True


def _unreadable(incoming: Incoming, error: itip.Unreadable) -> bool:
    """Keep a calendar answer whose iCalendar object cannot be read, saying why."""
    methods = {itip.method_param(part) for part in itip.calendar_parts(incoming.message)}
    kind = InboundKind.CALENDAR_COUNTER if COUNTER in methods else InboundKind.CALENDAR_REPLY
    return _set(incoming, kind, InboundOutcome.KEPT, f"unreadable calendar: {error}", True)


def _tnef(db_session: Session, incoming: Incoming) -> bool:
    """Keep an Outlook meeting answer sent as TNEF (winmail.dat), with a note saying what
    Outlook says it is; a TNEF mail that is no meeting item is not taken."""
    message_class = itip.tnef_class(incoming.message)
    if message_class is None:
        return False
    if not (itip.is_meeting_class(message_class) or itip.looks_like_calendar(incoming.message)):
        return False
    _link_sender(db_session, incoming)
    said = TNEF_ANSWERS.get(message_class.rsplit("Meeting.", 1)[-1], "")
    detail = (
        f"Outlook meeting answer in TNEF (winmail.dat, {message_class or 'no class'}), not read:"
        f" {said or 'answer unknown'}; record it by hand"
    )
    return _set(incoming, InboundKind.CALENDAR_REPLY, InboundOutcome.KEPT, detail, True)


def _link_sender(db_session: Session, incoming: Incoming) -> None:
    """Link the message to the participant it came from, if the core did not already."""
    row = incoming.row
    if row.participant_id is None:
        person = participant_by_address(db_session, row.campaign_id, sender_of(incoming))
        if person is not None:
            row.participant_id, row.campaign_id = person.id, person.campaign_id
            row.organisation_id = person.organisation_id


def _reply(db_session: Session, incoming: Incoming, found: itip.Itip) -> bool:
    """Apply a REPLY to the invitation it answers, or say why not."""
    kind = InboundKind.CALENDAR_REPLY
    event = event_of(db_session, found.uid)
    if event is None:
        return _set(
            incoming, kind, InboundOutcome.NO_MATCH, f"no meeting has UID {found.uid}", True
        )
    answered = [a for a in found.attendees if a.partstat in PARTSTATS]
    if not answered:
        detail = "no ATTENDEE says ACCEPTED, DECLINED or TENTATIVE"
        return _set(incoming, kind, InboundOutcome.KEPT, detail, True)
    invitee = invitee_of(db_session, incoming, event, [a.address for a in answered])
    if not _linked(incoming, event, invitee, kind, answered[0].address):
        return True
    return _answer(db_session, incoming, event, invitee, found, answered[0].partstat)


def _linked(
    incoming: Incoming, event: Event, invitee: Invitee, kind: InboundKind, address: str
) -> bool:
    """Link the message to the meeting and the invitee; False when it is taken as it is
    (the person was erased, or nobody with the address is invited)."""
    row = incoming.row
    row.event_id, row.campaign_id = event.id, event.campaign_id
    row.organisation_id = invitee.organisation_id or event.organisation_id
    if invitee.is_erased:
        row.participant_id = None
        return not _set(incoming, kind, InboundOutcome.ERASED, "the person was erased", False)
    if invitee.invitation is None:
        detail = f"{address} is not invited to this meeting"
        return not _set(incoming, kind, InboundOutcome.NO_MATCH, detail, True)
    row.participant_id = invitee.invitation.participant_id
    return True


def _answer(
    db_session: Session,
    incoming: Incoming,
    event: Event,
    invitee: Invitee,
    found: itip.Itip,
    partstat: str,
) -> bool:
    """Apply the answer as the RSVP link does, unless it answers an older version or the
    meeting takes no answer from the person any more."""
    kind = InboundKind.CALENDAR_REPLY
    if found.sequence < event.sequence:
        detail = (
            f"{partstat} to SEQUENCE {found.sequence}; the meeting is at SEQUENCE {event.sequence}"
        )
        return _set(incoming, kind, InboundOutcome.STALE, detail, True)
    assert invitee.invitation is not None and invitee.person is not None  # _linked found them
    if not answers.takes(event, invitee.person, PARTSTATS[partstat], incoming.now):
        detail = f"{partstat} not applied: {_refusal(event, incoming)}"
        return _set(incoming, kind, InboundOutcome.RECORDED, detail, True)
    return _applied(db_session, incoming, invitee.invitation, partstat, found.sequence)


def _applied(
    db_session: Session, incoming: Incoming, invitation: Invitation, partstat: str, sequence: int
) -> bool:
    """Record the answer on the invitation; say what it became (a yes may join a waiting list)."""
    answer, before = PARTSTATS[partstat], invitation.rsvp
    after = invitations.respond(db_session, invitation, answer, incoming.now)
    outcome = InboundOutcome.APPLIED if after is not before else InboundOutcome.RECORDED
    detail = f"{partstat} seq {sequence}" + ("" if after is answer else f": {after.value}")
    return _set(incoming, InboundKind.CALENDAR_REPLY, outcome, detail, False)


def _refusal(event: Event, incoming: Incoming) -> str:
    """Say why the meeting takes no answer from the person (the reasons of `answers.takes`)."""
    if event.is_cancelled:
        return "the meeting is cancelled"
    if answers.is_over(event, incoming.now):
        return "the meeting is over"
    return "the person gets no more mail and may only decline"


def _counter(db_session: Session, incoming: Incoming, found: itip.Itip) -> bool:
    """Keep another time proposed, linked to the meeting so that its page shows it."""
    kind = InboundKind.CALENDAR_COUNTER
    event = event_of(db_session, found.uid)
    if event is None:
        return _set(
            incoming, kind, InboundOutcome.NO_MATCH, f"no meeting has UID {found.uid}", True
        )
    addresses = [attendee.address for attendee in found.attendees]
    invitee = invitee_of(db_session, incoming, event, addresses)
    if not _linked(incoming, event, invitee, kind, addresses[0] if addresses else "nobody"):
        return True
    starts, ends = proposed_span(event, found.starts, found.ends)
    detail = proposals.detail_of(found.sequence, starts, ends)
    return _set(incoming, kind, InboundOutcome.KEPT, detail, True)
