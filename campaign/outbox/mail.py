"""The one way a mail to a person is put in the outbox: to a participant, or to anyone else.

A participant's mail always carries the same footer (why they get it, their member's contact
person, the link to pause or stop), the List-Unsubscribe headers of RFC 8058 for the same link,
and is in their language. Any other mail (to staff, or to an address being confirmed) carries
the reason its template gives and no unsubscribe link. The outbox knows nothing of participants
or members: the layer above hands it an `Addressee` or a `Recipient`, plain data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from email.utils import quote
from typing import Any, Protocol

import jinja2
from flask import current_app
from sqlalchemy.orm import Session

from campaign.i18n import load_catalog
from campaign.outbox.compose import Footer, Logo, Rendered, envelope_address, render_subject
from campaign.outbox.models import MessageKind
from campaign.outbox.queue import Outgoing, enqueue
from campaign.outbox.texts import Letter, MailTemplateError, greeting, mail_template
from campaign.plaintext import one_line
from campaign.timing import moment_text


@dataclass(frozen=True)
class MailSettings:
    """Who mail comes from, and where the links in it lead."""

    sender: str
    base_url: str  # without a trailing slash

    def link(self, path: str) -> str:
        """Return the address of one of the service's pages, `path` starting with a slash."""
        return f"{self.base_url}{path}"


def mail_settings() -> MailSettings:
    """Return the mail settings of the running app's configuration."""
    config = current_app.config
    return MailSettings(config["CAMPAIGN_MAIL_FROM"], config["CAMPAIGN_BASE_URL"].rstrip("/"))


@dataclass(frozen=True)
class Sender:
    """How a member's participants see who their mail comes from, as plain data: a From
    display name (shown on the campaign's own address), a Reply-To, a logo. Empty: the
    configured sender's name, no Reply-To, no logo."""

    name: str = ""
    reply_to: str = ""
    logo: Logo | None = None

    def headers(self, configured: str) -> dict[str, str]:
        """Return the From and Reply-To a message row carries for this sender; the From keeps
        the address of the `configured` sender (compose.on_own_address keeps it too)."""
        headers = {}
        if self.name:
            headers["From"] = f'"{quote(self.name)}" <{envelope_address(configured)}>'
        if self.reply_to:
            headers["Reply-To"] = self.reply_to
        return headers


@dataclass(frozen=True)
class Addressee:
    """A participant as their mail needs them (built from the rows by the layer above)."""

    email: str
    language: str
    unsubscribe_url: str
    organisation: str  # the member they take part through, named in the footer
    campaign: str
    contact: str  # the member's contact person, "name, address" (empty when there is none)
    participant_id: int
    organisation_id: int
    campaign_id: int
    sender: Sender = Sender()  # their member's, as it chose to be seen


class Staff(Protocol):
    """What a staff account has that its mail needs."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def organisation_id(self) -> int | None: ...


@dataclass(frozen=True)
class Recipient:
    """Anyone but a participant: a staff member, or an address that asked to join."""

    email: str
    language: str
    organisation_id: int | None = None
    campaign_id: int | None = None
    user_id: int | None = None
    sender: Sender = Sender()  # a member's, for a person about to take part through it

    @classmethod
    def of(cls, user: Staff, campaign_id: int | None = None) -> Recipient:
        """Return the recipient of a mail to a staff account."""
        return cls(user.email, user.language, user.organisation_id, campaign_id, user.id)


def list_headers(unsubscribe_url: str, sender: str) -> dict[str, str]:
    """Return the List-Unsubscribe headers (RFC 8058) of a participant's mail with this link."""
    mailto = f"mailto:{envelope_address(sender)}?subject=unsubscribe"
    return {
        "List-Unsubscribe": f"<{unsubscribe_url}>, <{mailto}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def participant_footer(addressee: Addressee) -> Footer:
    """Return the footer of every mail to a participant, in their language."""
    _ = load_catalog(addressee.language).gettext
    reason = _(
        "You receive this because you take part in the pilot group of %(organisation)s in "
        "%(campaign)s."
    ) % {"organisation": addressee.organisation, "campaign": addressee.campaign}
    contact = _("Your contact person: %(contact)s") % {"contact": addressee.contact}
    shown = contact if addressee.contact else None
    return Footer(reason, addressee.unsubscribe_url, shown, addressee.sender.logo)


def staff_footer(letter: Letter) -> Footer:
    """Return the footer of a mail to anyone but a participant: the reason its template gives."""
    if not letter.reason:
        raise MailTemplateError(f"{letter.origin}: a mail to staff needs a reason")
    return Footer(letter.reason)


def participant_message(
    addressee: Addressee,
    rendered: Rendered,
    *,
    kind: MessageKind,
    source_key: str,
    due_at: datetime,
    skipped: str | None = None,
    calendar: str | None = None,
) -> Outgoing:
    """Return a participant's mail as the outbox's enqueue takes it, with List-Unsubscribe."""
    sender = mail_settings().sender
    return {
        "source_key": source_key,
        "recipient": addressee.email,
        "kind": kind,
        "rendered": rendered,
        "due_at": due_at,
        "sender": sender,
        "headers": list_headers(addressee.unsubscribe_url, sender)
        | addressee.sender.headers(sender),
        "campaign_id": addressee.campaign_id,
        "organisation_id": addressee.organisation_id,
        "participant_id": addressee.participant_id,
        "skipped": skipped,
        "calendar": calendar,
    }


def queue_participant_mail(
    db_session: Session,
    addressee: Addressee,
    letter: Letter,
    context: Mapping[str, Any],
    *,
    kind: MessageKind,
    source_key: str,
    due_at: datetime,
    now: datetime,
    skipped: str | None = None,
) -> int | None:
    """Queue one mail to a participant; return its row's id, None if its key was queued before.

    With `skipped` (the reason), nothing is composed: the row records the decision.
    """
    rendered = _rendered_for(addressee, letter, context, skipped)
    message = participant_message(
        addressee, rendered, kind=kind, source_key=source_key, due_at=due_at, skipped=skipped
    )
    return enqueue(db_session, now=now, **message)


def _rendered_for(
    addressee: Addressee, letter: Letter, context: Mapping[str, Any], skipped: str | None
) -> Rendered:
    """Render the letter for the participant; a skipped mail keeps only its subject."""
    if skipped:
        return Rendered(skipped_subject(letter.subject, context), "", "")
    footer = participant_footer(addressee)
    return letter.render(context, language=addressee.language, footer=footer)


def skipped_subject(subject: str, context: Mapping[str, Any]) -> str:
    """Return a skipped mail's subject filled in as far as it can be: a placeholder that has
    nothing to fill it (a next date not planned) reads "…", never as its source."""
    try:
        return render_subject(subject, context)
    except jinja2.TemplateError:
        return one_line(UNFILLED.sub("…", BLOCK.sub("", subject)))


UNFILLED = re.compile(r"\{\{.*?\}\}")
BLOCK = re.compile(r"\{%.*?%\}")


def staff_message(
    recipient: Recipient,
    rendered: Rendered,
    *,
    kind: MessageKind,
    source_key: str,
    due_at: datetime,
    calendar: str | None = None,
) -> Outgoing:
    """Return a mail to anyone but a participant as the outbox's enqueue takes it."""
    sender = mail_settings().sender
    return {
        "source_key": source_key,
        "recipient": recipient.email,
        "kind": kind,
        "rendered": rendered,
        "due_at": due_at,
        "sender": sender,
        "headers": recipient.sender.headers(sender),
        "campaign_id": recipient.campaign_id,
        "organisation_id": recipient.organisation_id,
        "user_id": recipient.user_id,
        "calendar": calendar,
    }


def queue_staff_mail(
    db_session: Session,
    recipient: Recipient,
    letter: Letter,
    context: Mapping[str, Any],
    *,
    kind: MessageKind,
    source_key: str,
    due_at: datetime,
    now: datetime,
) -> int | None:
    """Queue one mail to anyone but a participant; return its row's id, None if its key was
    queued before."""
    footer = replace(staff_footer(letter), logo=recipient.sender.logo)
    rendered = letter.render(context, language=recipient.language, footer=footer)
    message = staff_message(recipient, rendered, kind=kind, source_key=source_key, due_at=due_at)
    return enqueue(db_session, now=now, **message)


def queue_test_mail(
    db_session: Session,
    user: Staff,
    now: datetime,
    campaign_id: int | None = None,
    zone: tzinfo = UTC,
) -> int | None:
    """Queue a test mail to a staff member, to check that mail reaches people (in the outbox of
    the campaign it was asked for from, its time in that campaign's `zone`)."""
    context = {
        "greeting": greeting(user.name, user.language),
        "base_url": mail_settings().base_url,
        "sent": moment_text(now, zone, user.language),
    }
    return queue_staff_mail(
        db_session,
        Recipient.of(user, campaign_id),
        mail_template("test", user.language),
        context,
        kind=MessageKind.TEST,
        source_key=f"test:{user.id}:{now.isoformat()}",
        due_at=now,
        now=now,
    )
