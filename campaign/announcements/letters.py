"""An announcement's mail to one person: its texts checked before saving, filled with the same
placeholders as a sequence step's (drip.materialize.context_for), previewed, and tested."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jinja2
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from campaign.announcements.models import Texts
from campaign.drip.materialize import Enrolled, context_for
from campaign.drip.samples import sample_context
from campaign.enrolment.mail import addressee
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
from campaign.outbox.texts import Letter

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
