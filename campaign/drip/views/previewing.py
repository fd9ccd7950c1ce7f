"""A step as someone would get it: filled in with sample data or a participant's own, laid out
as HTML and plain text, and a test of it mailed to the signed-in editor."""

from __future__ import annotations

from typing import Any

from flask import g
from flask_login import current_user
from sqlalchemy import select

from campaign import db
from campaign.drip.files import Step
from campaign.drip.local import member_places
from campaign.drip.materialize import Enrolled, context_for, enrolled
from campaign.drip.samples import sample_context
from campaign.enrolment.mail import sender_of
from campaign.enrolment.models import Participant
from campaign.i18n import load_catalog
from campaign.outbox.compose import Footer, Rendered, content_template, render
from campaign.outbox.mail import Recipient, Sender, staff_message
from campaign.outbox.models import MessageKind
from campaign.outbox.queue import enqueue
from campaign.timing import current_clock


def rendered(
    subject: str,
    body: str,
    language: str,
    person: Enrolled | None = None,
    step: Step | None = None,
) -> Rendered:
    """Render a step's subject and body with sample data, or as `person` would get them (with
    their member's own paragraphs at the places of the saved `step`)."""
    context = _context(person, language)
    if person is not None and step is not None:
        context["local"] = member_places(db.session(), person.membership.id, step)
    reason = load_catalog(language).gettext("This is a preview.")
    footer = Footer(reason, context["links"]["unsubscribe"], logo=sender(person).logo)
    return render(subject, body, context, language=language, footer=footer)


def try_rendered(
    subject: str, body: str, language: str, person: Enrolled | None = None
) -> tuple[Rendered | None, Exception | None]:
    """Render a step, or return why it fails: a broken step is shown as broken, never a 500."""
    try:
        return rendered(subject, body, language, person), None
    except Exception as error:
        return None, error


def sample_subject(subject: str, language: str) -> str:
    """Return a subject filled with sample data (its source when it does not render)."""
    try:
        return content_template(subject).render(sample_context(language))
    except Exception:  # the checker says what is wrong; the page shows the source
        return subject


def sender(person: Enrolled | None) -> Sender:
    """Return how the person's member names the sender (the campaign's sender for a sample)."""
    return sender_of(person.membership, person.organisation) if person else Sender()


def _context(person: Enrolled | None, language: str) -> dict[str, Any]:
    """Return the sample data, or `person`'s with the sample's unsubscribe link: their own
    would let the reader act as them."""
    if person is None:
        return sample_context(language)
    return context_for(person, sample_context()["links"]["unsubscribe"])


def enrolled_with(email: str) -> Enrolled | None:
    """Return the campaign's active participant with this address in a group with a sequence."""
    if len(email) > 320 or "\x00" in email:  # no address: the database is not asked
        return None
    here = select(Participant.id).where(Participant.campaign_id == g.campaign.id)
    found = db.session().scalar(here.where(Participant.email == email.strip().lower()))
    people = enrolled(db.session(), found) if found else []
    return people[0] if people else None


def queue_test(mail: Rendered, key: str, language: str) -> None:
    """Queue a rendered step to the signed-in user, due now."""
    now = current_clock().now()
    test = staff_message(
        Recipient.of(current_user, g.campaign.id),
        mail,
        kind=MessageKind.TEST,
        source_key=f"test:{current_user.id}:{key}:{language}:{now.isoformat()}",
        due_at=now,
    )
    enqueue(db.session(), now=now, **test)
