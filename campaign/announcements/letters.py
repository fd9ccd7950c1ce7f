"""An announcement's mail to one person: its texts checked before saving, filled with the same
placeholders as a sequence step's (drip.materialize.context_for), previewed, and tested."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, NamedTuple

import jinja2
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from campaign.announcements.models import Texts
from campaign.drip.materialize import Enrolled, context_for
from campaign.drip.samples import sample_context
from campaign.enrolment.mail import Addressees, addressee
from campaign.enrolment.models import Participant, PilotGroup
from campaign.i18n import load_catalog
from campaign.network.models import Campaign, Membership, Organisation
from campaign.outbox.compose import Footer, Rendered, content_template
from campaign.outbox.mail import (
    Addressee,
    Recipient,
    Staff,
    participant_footer,
    participant_message,
    staff_message,
)
from campaign.outbox.models import MessageKind
from campaign.outbox.queue import Outgoing, enqueue
from campaign.outbox.stencil import Slot, Stencils, Values
from campaign.outbox.texts import Letter, first_name

LANGUAGES = ("sv", "en")


@dataclass(frozen=True)
class Person:
    """A participant with the rows their mail names: group, member, organisation, campaign."""

    participant: Participant
    group: PilotGroup | None
    membership: Membership
    organisation: Organisation
    campaign: Campaign

    def enrolled(self) -> Enrolled:
        """Return the person as a sequence step sees them (a group they may lack is unnamed)."""
        group = self.group or PilotGroup(name="")  # context_for names no group
        return Enrolled(self.participant, group, self.membership, self.organisation, self.campaign)


def sample(language: str) -> dict[str, Any]:
    """Return the placeholders an announcement may use, with sample values: a step's, but no
    next meeting (an announcement follows none)."""
    context = sample_context(language)
    del context["next_event"]
    return context


def problem(source: str, language: str) -> str | None:
    """Return why a subject or body does not render with sample values, or None."""
    try:
        content_template(source).render(sample(language))
    except jinja2.TemplateSyntaxError as error:
        return _("Line %(line)d: %(problem)s", line=error.lineno or 1, problem=error.message)
    except jinja2.TemplateError as error:
        return _("Unknown placeholder: %(problem)s", problem=error.message or "")
    return None


def letter(texts: Texts, language: str, origin: str) -> Letter:
    """Return the mail a reader of `language` gets."""
    subject, body = texts.of(language)
    return Letter(subject, body, origin)


def person_context(person: Person | None, language: str, unsubscribe: str) -> dict[str, Any]:
    """Return the placeholders for one person (the sample's without one), with this link."""
    if person is None:
        return sample(language) | {"links": {"unsubscribe": unsubscribe}}
    return context_for(person.enrolled(), unsubscribe)


def preview(texts: Texts, person: Person | None, language: str) -> Rendered:
    """Render the announcement as `person` (or a sample reader of `language`) gets it, with
    the sample's unsubscribe link: their own would let the reader act as them."""
    language = person.participant.language if person else language
    link = sample(language)["links"]["unsubscribe"]
    reason = load_catalog(language).gettext("This is a preview.")
    footer = Footer(reason, link)
    return letter(texts, language, "preview").render(
        person_context(person, language, link), language=language, footer=footer
    )


def message(texts: Texts, person: Person, *, source_key: str, due_at: datetime) -> Outgoing:
    """Return one person's mail as the outbox queues it."""
    to = _addressee(person)
    rendered = letter(texts, to.language, source_key).render(
        context_for(person.enrolled(), to.unsubscribe_url),
        language=to.language,
        footer=participant_footer(to),
    )
    return participant_message(
        to, rendered, kind=MessageKind.ANNOUNCEMENT, source_key=source_key, due_at=due_at
    )


class Reader(NamedTuple):
    """A participant as a fan-out reads them: the values of one row, no ORM object."""

    id: int
    email: str
    name: str
    title: str
    language: str
    organisation_id: int
    campaign_id: int


# The values that differ from one reader's mail to the next, and the placeholders that print them.
SLOTS = (
    Slot("name", (("participant", "name"),)),
    Slot("email", (("participant", "email"),)),
    Slot("title", (("participant", "title"),)),
    Slot("first_name", (("participant", "first_name"),)),
    Slot("unsubscribe", (("links", "unsubscribe"),), is_link=True),
)


class Letters:
    """An announcement's mail to many readers: laid out once per language and member (stencils),
    each reader's own values put in; the same mail `message` renders for one person."""

    def __init__(self, db_session: Session, texts: Texts, origin: str) -> None:
        self.addressees = Addressees(db_session)
        self.letters = {language: letter(texts, language, origin) for language in LANGUAGES}
        self.stencils = {lang: Stencils(self.letters[lang], SLOTS) for lang in LANGUAGES}
        self._contexts: dict[tuple[int, int, str], dict[str, Any]] = {}

    def message(self, reader: Reader, *, source_key: str, due_at: datetime) -> Outgoing:
        """Return one reader's mail as the outbox queues it."""
        to = self.addressees(reader)
        values = {
            "name": reader.name,
            "email": reader.email,
            "title": reader.title,
            "first_name": first_name(reader.name),
            "unsubscribe": to.unsubscribe_url,
        }
        shape = (reader.campaign_id, reader.organisation_id)
        rendered = self.stencils[to.language].render(
            shape, lambda own: self._render(reader, to, own), values
        )
        return participant_message(
            to, rendered, kind=MessageKind.ANNOUNCEMENT, source_key=source_key, due_at=due_at
        )

    def _render(self, reader: Reader, to: Addressee, own: Values) -> Rendered:
        """Render the reader's mail in full, with these values of theirs."""
        context = self._context(reader, to.language) | {
            "participant": {k: own[k] for k in ("name", "email", "title", "first_name")},
            "links": {"unsubscribe": own["unsubscribe"]},
        }
        footer = participant_footer(replace(to, unsubscribe_url=own["unsubscribe"]))
        return self.letters[to.language].render(context, language=to.language, footer=footer)

    def _context(self, reader: Reader, language: str) -> dict[str, Any]:
        """Return the placeholders the reader's member shares (made once per member)."""
        key = (reader.campaign_id, reader.organisation_id, language)
        if key not in self._contexts:
            organisation, campaign, membership = self.addressees.member(*key[:2])
            stand_in = Participant(language=language, name="", email="", title="")
            assert membership is not None  # an announcement reaches members' people only
            enrolled = Enrolled(stand_in, PilotGroup(name=""), membership, organisation, campaign)
            self._contexts[key] = context_for(enrolled, "")
        return self._contexts[key]


def _addressee(person: Person) -> Addressee:
    return addressee(person.participant, person.organisation, person.campaign, person.membership)


def queue_test(
    db_session: Session,
    texts: Texts,
    person: Person | None,
    user: Staff,
    *,
    campaign_id: int,
    now: datetime,
) -> None:
    """Queue the preview to the signed-in user, due now."""
    rendered = preview(texts, person, user.language)
    test = staff_message(
        Recipient.of(user, campaign_id),
        rendered,
        kind=MessageKind.TEST,
        source_key=f"test:{user.id}:announcement:{now.isoformat()}",
        due_at=now,
    )
    enqueue(db_session, now=now, **test)
