"""The mail about an event: what each kind says, built once per event version, filled per person.

A meeting for a whole campaign has thousands of invitees whose mails differ in a few values
only: the name, the answer links, the unsubscribe link, the member named in the footer, and the
calendar's ATTENDEE and DESCRIPTION. So `Letters` lays each kind of mail out once per language
(Markdown, layout, inlined CSS) with markers where those values go, builds the calendar object
once (its VTIMEZONE is the costly part), and per person puts the values in. Every mail about an
event goes through here, one invitee or ten thousand.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy.orm import Session

from campaign import plaintext
from campaign.accounts.models import User
from campaign.enrolment.models import Participant
from campaign.events import calendar
from campaign.events.models import Event, Invitation, Rsvp
from campaign.i18n import load_catalog
from campaign.network.models import Campaign, Organisation
from campaign.outbox.compose import Footer, Rendered, render
from campaign.outbox.models import MessageKind
from campaign.outbox.queue import enqueue
from campaign.outbox.unsubscribe import list_headers
from campaign.security import sign

RSVP_PURPOSE = "rsvp"
RSVP_LIFETIME = timedelta(days=400)
# The kinds that carry the calendar object (and so bring the invitee's calendar up to date).
CALENDAR_KINDS = ("invitation", "update", "cancel", "place")


def rsvp_token(invitation: Invitation) -> str:
    """Return the signed token of an invitation's answer links."""
    return _rsvp_token(invitation.id)


def _rsvp_token(invitation_id: int) -> str:
    return sign(RSVP_PURPOSE, invitation_id)


def _mail_settings() -> tuple[str, str]:
    config = current_app.config
    return config["CAMPAIGN_BASE_URL"].rstrip("/"), config["CAMPAIGN_MAIL_FROM"]


def organiser_of(db_session: Session, event: Event) -> calendar.Person:
    """Return who organises the event: its organiser, or the service's sender."""
    user = db_session.get(User, event.organiser_id) if event.organiser_id else None
    if user is not None:
        return calendar.Person(user.name, user.email)
    name, address = parseaddr(_mail_settings()[1])
    return calendar.Person(name, address)


def when_text(event: Event, language: str) -> str:
    """Local date and time of the event, e.g. '2014-10-27 09:00–10:00 (Europe/Stockholm)'."""
    zone = calendar.zone_of(event)
    start, end = event.starts_at.astimezone(zone), event.ends_at.astimezone(zone)
    until = end.strftime("%H:%M") if end.date() == start.date() else end.strftime("%Y-%m-%d %H:%M")
    return f"{start:%Y-%m-%d %H:%M}–{until} ({zone.key})"


# What each kind of calendar mail says; placeholders are filled by the outbox's renderer.
def texts(kind: str, language: str) -> tuple[str, str]:
    """Return the subject and the Markdown body of one kind of mail, with placeholders."""
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


@dataclass(frozen=True)
class Addressee:
    """One invitee as a mail needs them: their invitation, and the participant or staff member."""

    invitation_id: int
    rsvp: Rsvp
    participant: Participant | None
    user: User | None

    @property
    def person(self) -> Participant | User:
        return self.participant or self.user  # type: ignore[return-value]


def addressee_of(db_session: Session, invitation: Invitation) -> Addressee:
    """Return the invitee of one invitation."""
    return Addressee(
        invitation.id,
        invitation.rsvp,
        db_session.get(Participant, invitation.participant_id)
        if invitation.participant_id
        else None,
        db_session.get(User, invitation.user_id) if invitation.user_id else None,
    )


class Marks(NamedTuple):
    """What differs from one invitee's mail to the next (and the markers that stand for it)."""

    name: str
    token: str  # of the answer links
    stop: str  # the unsubscribe link
    member: str  # the participant's organisation, named in the footer


@dataclass(frozen=True)
class _Layout:
    """One kind of mail in one language, with markers for the personal values."""

    subject: str
    text: str
    html: str


def _html_text(value: str) -> str:
    """Escape a value as the HTML serializer writes text and links (the inliner's output)."""
    return (
        value.replace("&", "&amp;")
        .replace("\xa0", "&nbsp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )


class Letters:
    """The mail about one event as it is now (its version), for any number of its invitees."""

    def __init__(self, db_session: Session, event: Event, now: datetime) -> None:
        self.db_session, self.event, self.now = db_session, event, now
        self.base_url, self.sender = _mail_settings()
        self.version = self.version_of(event)
        campaign = db_session.get(Campaign, event.campaign_id)
        assert campaign is not None
        self.campaign = campaign
        # Markers no text can hold by chance: letters and digits only, which Markdown, the HTML
        # sanitiser and the CSS inliner all leave alone.
        stem = secrets.token_hex(8)
        self.marks = Marks(*(f"x{stem}{part}" for part in "ntum"))
        self._layouts: dict[tuple[str, str, bool], _Layout] = {}
        self._members: dict[int, str] = {}
        self._calendar: calendar.InvitationParts | None = None

    @staticmethod
    def version_of(event: Event) -> tuple[object, ...]:
        """What the mail depends on: a change of any of it needs new letters."""
        return (event.id, event.sequence, event.updated_at, event.is_cancelled)

    def message(
        self,
        addressee: Addressee,
        kind: str,
        *,
        key: str | None = None,
        due_at: datetime | None = None,
    ) -> dict[str, Any]:
        """Return one invitee's mail of this kind, as the outbox's enqueue takes it."""
        person, participant = addressee.person, addressee.participant
        token = _rsvp_token(addressee.invitation_id)
        headers: dict[str, str] = {}
        stop = member = ""
        if participant is not None:
            headers = list_headers(participant, self.base_url, self.sender)
            stop = headers["List-Unsubscribe"].split(">", 1)[0].lstrip("<")
            member = self._member(participant.organisation_id)
        layout = self._layout(kind, person.language, participant is not None)
        values = Marks(person.name or person.email, token, stop, member)
        subject, text, html = layout.subject, layout.text, layout.html
        for marker, value in zip(self.marks, values, strict=True):
            subject = subject.replace(marker, value)
            text = text.replace(marker, value)
            html = html.replace(marker, _html_text(value))
        subject = plaintext.one_line(subject)  # a name from an old import must not break it
        ical = None
        if kind in CALENDAR_KINDS:
            link = f"{self.base_url}/rsvp/{token}"
            ical = self._parts().for_person(
                calendar.Person(person.name, person.email),
                calendar.PARTSTAT[addressee.rsvp.value],
                f"{self.event.description_md}\n\n{link}".strip(),
            )
        event = self.event
        return {
            "source_key": key
            or f"ev:{event.id}:s{event.sequence}:i{addressee.invitation_id}:{kind}",
            "recipient": person.email,
            "kind": MessageKind.REMINDER if kind == "reminder" else MessageKind.INVITATION,
            "rendered": Rendered(subject, text, html),
            "due_at": due_at or self.now,
            "sender": self.sender,
            "headers": headers,
            "campaign_id": event.campaign_id,
            "organisation_id": person.organisation_id,
            "participant_id": participant.id if participant else None,
            "user_id": addressee.user.id if addressee.user else None,
            "calendar": ical,
        }

    def _layout(self, kind: str, language: str, to_participant: bool) -> _Layout:
        """Lay out one kind of mail once per language (and for participants or staff)."""
        key = (kind, language, to_participant)
        if key not in self._layouts:
            self._layouts[key] = self._lay_out(kind, language, to_participant)
        return self._layouts[key]

    def _member(self, organisation_id: int) -> str:
        if organisation_id not in self._members:
            organisation = self.db_session.get(Organisation, organisation_id)
            self._members[organisation_id] = organisation.name if organisation else ""
        return self._members[organisation_id]

    def _lay_out(self, kind: str, language: str, to_participant: bool) -> _Layout:
        _ = load_catalog(language).gettext
        event = self.event
        if to_participant:
            footer = Footer(
                _(
                    "You receive this because you take part in the pilot group of %(organisation)s"
                    " in %(campaign)s."
                )  # fmt: skip
                % {"organisation": self.marks.member, "campaign": self.campaign.name},
                self.marks.stop,
            )
        else:
            footer = Footer(_("You receive this as a member of the campaign's working group."))
        link = f"{self.base_url}/rsvp/{self.marks.token}"
        context = {
            "name": self.marks.name,
            "title": event.title,
            "when": when_text(event, language),
            "where": calendar.location_of(event) or _("to be announced"),
            "description": event.description_md,
            "yes": f"{link}?answer=accepted",
            "no": f"{link}?answer=declined",
            "maybe": f"{link}?answer=tentative",
        }
        subject, body = texts(kind, language)
        rendered = render(subject, body, context, language=language, footer=footer)
        return _Layout(rendered.subject, rendered.text, rendered.html)

    def _parts(self) -> calendar.InvitationParts:
        if self._calendar is None:
            self._calendar = calendar.invitation_parts(
                self.event, stamp=self.now, organiser=organiser_of(self.db_session, self.event)
            )
        return self._calendar


def queue_mail(
    db_session: Session,
    event: Event,
    invitation: Invitation,
    kind: str,
    now: datetime,
    *,
    due_at: datetime | None = None,
    key: str | None = None,
    letters: Letters | None = None,
) -> int | None:
    """Queue one mail about the event to one invitee, with the calendar part where it belongs.

    Pass `letters` when queueing many of one event version: it lays the mail out once.
    """
    letters = letters or Letters(db_session, event, now)
    message = letters.message(addressee_of(db_session, invitation), kind, key=key, due_at=due_at)
    if kind in CALENDAR_KINDS:
        invitation.sent_sequence = event.sequence
    return enqueue(db_session, now=now, **message)
