"""The mail about an event: what each kind says, laid out once per event version, filled per person.

A meeting for a whole campaign has thousands of invitees whose mails differ in a few values
only: the name, the answer links, the unsubscribe link, and the calendar's ATTENDEE and
DESCRIPTION. So `Letters` lays each kind of mail out once per language and footer (Markdown,
layout, inlined CSS) with markers where those values go, builds the calendar object once (its
VTIMEZONE is the costly part), and per person puts the values in. The texts are the mail
templates `event-<kind>` (and the part `_event-details`); the footer and the headers are the
outbox's, the same as every participant's or staff member's mail. Every mail about an event
goes through here, one invitee or ten thousand, and only when `mail_goes` (the campaign's phase
lets its participants have meeting mail; the working group's staff always).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from babel.dates import get_timezone_location
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from campaign import plaintext
from campaign.accounts.models import User
from campaign.enrolment.mail import Addressees
from campaign.enrolment.models import Participant
from campaign.events import calendar
from campaign.events.models import Audience, Event, Invitation, Rsvp
from campaign.i18n import load_catalog
from campaign.network.models import Campaign
from campaign.network.phases import mails_participants
from campaign.outbox.compose import Footer, Rendered, content_template
from campaign.outbox.mail import (
    Recipient,
    mail_settings,
    participant_footer,
    participant_message,
    staff_footer,
    staff_message,
)
from campaign.outbox.models import MessageKind
from campaign.outbox.queue import Outgoing, enqueue
from campaign.outbox.texts import Letter, greeting, mail_part
from campaign.outbox.wording import campaign_letter, campaign_part
from campaign.security import Signing, sign
from campaign.timing import clock_text, moment_text

# Fills the details part of a meeting's mail with the other placeholders.
Details = Callable[[dict[str, Any]], str]
RSVP_PURPOSE = "rsvp"
RSVP_LIFETIME = timedelta(days=400)
# The kinds that carry the calendar object (and so bring the invitee's calendar up to date).
CALENDAR_KINDS = ("invitation", "update", "cancel", "place")


def rsvp_token(invitation: Invitation) -> str:
    """Return the signed token of an invitation's answer links."""
    return _rsvp_token(invitation.id)


def _rsvp_token(invitation_id: int) -> str:
    """Return the signed token of the answer links of the invitation with this id."""
    return sign(RSVP_PURPOSE, invitation_id)


def organiser_of(db_session: Session, event: Event) -> calendar.Person:
    """Return who organises the event: its organiser, or the service's sender."""
    user = db_session.get(User, event.organiser_id) if event.organiser_id else None
    if user is not None:
        return calendar.Person(user.name, user.email)
    name, address = parseaddr(mail_settings().sender)
    return calendar.Person(name, address)


def when_text(event: Event, language: str) -> str:
    """Local date and time of the event as `language` writes them, e.g. '27 oktober 2014
    kl. 09.00–10.00 (Sverigetid)', the zone named by Babel as people say it."""
    return span_text(event.starts_at, event.ends_at, calendar.zone_of(event), language)


def span_text(starts_at: datetime, ends_at: datetime, zone: ZoneInfo, language: str) -> str:
    """Local date and time from `starts_at` to `ends_at` in `zone`, as `when_text` writes them."""
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    same_day = end.date() == start.date()
    until = clock_text(end, zone, language) if same_day else moment_text(end, zone, language)
    where = get_timezone_location(zone, locale=language)  # Sverigetid, Sweden Time
    return f"{moment_text(start, zone, language)}–{until} ({where})"


def template_name(kind: str) -> str:
    """Return the name of the mail template of one kind of mail about an event."""
    return f"event-{kind}"


def context_of(
    event: Event, language: str, opening: str, rsvp_link: str, details: Details | None = None
) -> dict[str, Any]:
    """Return the placeholders of a mail about the event, with the details every kind shares
    (filled by `details`: the campaign's wording; the shipped one without it); `opening` is the
    invitee's greeting (or the marker that stands for it)."""
    _ = load_catalog(language).gettext
    context = {
        "greeting": opening,
        "title": event.title,
        "when": when_text(event, language),
        "where": calendar.location_of(event) or _("to be announced"),
        "description": event.description_md,
        "yes": f"{rsvp_link}?answer=accepted",
        "no": f"{rsvp_link}?answer=declined",
        "maybe": f"{rsvp_link}?answer=tentative",
    }
    fill = details or (
        lambda values: content_template(mail_part("event-details", language)).render(values)
    )
    context["details"] = fill(context)
    return context


@dataclass(frozen=True)
class Invitee:
    """One invitee as a mail needs them: their invitation, and the participant or staff member."""

    invitation_id: int
    rsvp: Rsvp
    participant: Participant | None
    user: User | None

    @property
    def person(self) -> Participant | User:
        """The participant or staff member invited."""
        person = self.participant or self.user
        assert person is not None  # an invitation is a participant's or a staff member's
        return person


def invitee_rows(*columns: Any) -> Select[Any]:
    """A query of invitations with their participant or staff member, for `Invitee`s by the
    batch: the invitation's id and answer, then `columns`, then the participant and the user."""
    return (
        select(Invitation.id, Invitation.rsvp, *columns, Participant, User)
        .outerjoin(Participant, Participant.id == Invitation.participant_id)
        .outerjoin(User, User.id == Invitation.user_id)
    )


def invitee_of(db_session: Session, invitation: Invitation) -> Invitee:
    """Return the invitee of one invitation."""
    return Invitee(
        invitation.id,
        invitation.rsvp,
        db_session.get(Participant, invitation.participant_id)
        if invitation.participant_id
        else None,
        db_session.get(User, invitation.user_id) if invitation.user_id else None,
    )


class Marks(NamedTuple):
    """What differs from one invitee's mail to the next (and the markers that stand for it)."""

    name: str  # the greeting line, "Hej Anna!"
    token: str  # of the answer links
    stop: str  # the unsubscribe link


@dataclass(frozen=True)
class _Layout:
    """One kind of mail in one language with one footer, with markers for the personal values."""

    subject: str
    text: str
    html: str

    def filled(self, marks: Marks, values: Marks) -> Rendered:
        """Return the mail with each marker replaced by the invitee's value."""
        subject, text, html = self.subject, self.text, self.html
        for marker, value in zip(marks, values, strict=True):
            subject = subject.replace(marker, value)
            text = text.replace(marker, value)
            html = html.replace(marker, _html_text(value))
        # A name from an old import must not break the subject line.
        return Rendered(plaintext.one_line(subject), text, html)


def _html_text(value: str) -> str:
    """Escape a value as the HTML serializer writes text and links (the inliner's output)."""
    return (
        value.replace("&", "&amp;")
        .replace("\xa0", "&nbsp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )


def _new_marks() -> Marks:
    """Return markers no text can hold by chance: letters and digits only, which Markdown, the
    HTML sanitiser and the CSS inliner all leave alone."""
    stem = secrets.token_hex(8)
    return Marks(*(f"x{stem}{part}" for part in "ntu"))


class Letters:
    """The mail about one event as it is now (its version), for any number of its invitees."""

    def __init__(self, db_session: Session, event: Event, now: datetime) -> None:
        self.db_session, self.event, self.now = db_session, event, now
        self.settings = mail_settings()
        self.version = self.version_of(event)
        self.addressees = Addressees(db_session)
        self.marks = _new_marks()
        self.rsvp_token = Signing(RSVP_PURPOSE)  # as _rsvp_token signs, once for all invitees
        # The last invitation a fan-out has mailed with these letters: the next batch is after
        # it (the invitations before it have this version, or are no longer due).
        self.mailed_up_to = 0
        self._layouts: dict[tuple[str, str, Footer], _Layout] = {}
        self._calendar: calendar.InvitationParts | None = None

    @staticmethod
    def version_of(event: Event) -> tuple[object, ...]:
        """What the mail depends on: a change of any of it needs new letters."""
        return (event.id, event.sequence, event.updated_at, event.is_cancelled)

    def message(
        self,
        invitee: Invitee,
        kind: str,
        *,
        key: str | None = None,
        due_at: datetime | None = None,
    ) -> Outgoing:
        """Return one invitee's mail of this kind, as the outbox's enqueue takes it."""
        token = self.rsvp_token(invitee.invitation_id)
        values = Marks(invitee.person.name or invitee.person.email, token, "")
        mail = self._envelope(invitee, kind, token, key=key, due_at=due_at)
        if invitee.participant is not None:
            return self._to_participant(invitee.participant, kind, values, mail)
        assert invitee.user is not None
        return self._to_staff(invitee.user, kind, values, mail)

    def _envelope(
        self, invitee: Invitee, kind: str, token: str, *, key: str | None, due_at: datetime | None
    ) -> dict[str, Any]:
        """Return what the outbox needs besides the text: kind, source key, due time, calendar."""
        event, invitation_id = self.event, invitee.invitation_id
        return {
            "kind": MessageKind.REMINDER if kind == "reminder" else MessageKind.INVITATION,
            "source_key": key or f"ev:{event.id}:s{event.sequence}:i{invitation_id}:{kind}",
            "due_at": due_at or self.now,
            "calendar": self._calendar_of(invitee, kind, token),
        }

    def _to_participant(
        self, participant: Participant, kind: str, values: Marks, mail: dict[str, Any]
    ) -> Outgoing:
        """Return a participant's mail, with their member's footer and their own links."""
        addressee = self.addressees(participant)
        # The layout is shared by everyone with this footer: their member, not their link.
        footer = participant_footer(replace(addressee, unsubscribe_url=self.marks.stop))
        values = values._replace(
            name=greeting(participant.name, addressee.language), stop=addressee.unsubscribe_url
        )
        rendered = self._layout(kind, addressee.language, footer).filled(self.marks, values)
        return participant_message(addressee, rendered, **mail)

    def _to_staff(self, user: User, kind: str, values: Marks, mail: dict[str, Any]) -> Outgoing:
        """Return a staff member's mail, with the staff footer."""
        footer = staff_footer(self._letter(kind, user.language))
        values = values._replace(name=greeting(user.name, user.language))
        rendered = self._layout(kind, user.language, footer).filled(self.marks, values)
        return staff_message(Recipient.of(user, self.event.campaign_id), rendered, **mail)

    def _layout(self, kind: str, language: str, footer: Footer) -> _Layout:
        """Lay out one kind of mail once per language and footer (the footer names the member)."""
        key = (kind, language, footer)
        if key not in self._layouts:
            letter = self._letter(kind, language)
            link = self.settings.link(f"/rsvp/{self.marks.token}")
            context = context_of(
                self.event, language, self.marks.name, link, self._details(language)
            )
            rendered = letter.render(context, language=language, footer=footer)
            self._layouts[key] = _Layout(rendered.subject, rendered.text, rendered.html)
        return self._layouts[key]

    def _letter(self, kind: str, language: str) -> Letter:
        """Return the text of one kind of mail about the event: its campaign's."""
        name = template_name(kind)
        return campaign_letter(self.db_session, self.event.campaign_id, name, language)

    def _details(self, language: str) -> Details:
        """Return what fills the details part of the event's mail: its campaign's wording."""
        campaign_id = self.event.campaign_id
        return lambda context: campaign_part(
            self.db_session, campaign_id, "event-details", language, context
        )

    def _calendar_of(self, invitee: Invitee, kind: str, token: str) -> str | None:
        """Return the invitee's calendar object, for the kinds that carry one."""
        if kind not in CALENDAR_KINDS:
            return None
        person, link = invitee.person, self.settings.link(f"/rsvp/{token}")
        return self._shared_calendar().for_person(
            calendar.Person(person.name, person.email),
            calendar.PARTSTAT[invitee.rsvp.value],
            f"{self.event.description_md}\n\n{link}".strip(),
        )

    def _shared_calendar(self) -> calendar.InvitationParts:
        """Return the part of the calendar object every invitee shares, built the first time."""
        if self._calendar is None:
            organiser = organiser_of(self.db_session, self.event)
            self._calendar = calendar.invitation_parts(
                self.event, stamp=self.now, organiser=organiser
            )
        return self._calendar


def mail_goes(db_session: Session, event: Event, now: datetime) -> bool:
    """Whether the event's mail may be queued at `now`: to the working group (staff) always, to
    participants while their campaign mails them meeting mail."""
    if event.audience is Audience.WORKING_GROUP:
        return True
    campaign = db_session.get(Campaign, event.campaign_id)
    return campaign is not None and mails_participants(campaign, now, meeting=True)


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

    Pass `letters` when queueing many of one event version: it lays the mail out once. Nothing
    is queued (None) while the event's mail may not go.
    """
    if not mail_goes(db_session, event, now):
        return None
    letters = letters or Letters(db_session, event, now)
    message = letters.message(invitee_of(db_session, invitation), kind, key=key, due_at=due_at)
    if kind in CALENDAR_KINDS:
        invitation.sent_sequence = event.sequence
    return enqueue(db_session, now=now, **message)
