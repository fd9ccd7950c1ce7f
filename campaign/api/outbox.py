"""The API's outbox: the state of each message the caller may see (the outbox page's scope:
the campaign's, a representative's own member's), never what acts for its recipient.

Like the page, a message shows its envelope (kind, recipient, state, attempts, the server's
last answer) and, for the kinds staff may read, its subject and text with every signed link
replaced by a marker (campaign/outbox/disclosure.py): whoever had the link could act as them.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import get_locale
from markupsafe import Markup
from pydantic import BaseModel, Field
from spectree import Response
from sqlalchemy import Select, select

from campaign import db, labels
from campaign.accounts.scope import Access, scoped
from campaign.api.core import Page, PageQuery, bp, operation, page, tagged
from campaign.api.events import slugs_of
from campaign.outbox.disclosure import marker, readable, subject_of
from campaign.outbox.models import Message as Row
from campaign.outbox.models import MessageKind, MessageState
from campaign.security import hide_signed_links


class Message(BaseModel):
    """One e-mail of the outbox and how its delivery goes."""

    id: int
    kind: MessageKind
    state: MessageState
    member: str | None = Field(description="The slug of the member it is sent for, if one.")
    participant_id: int | None
    recipient: str
    subject: str | None = Field(
        description="Its subject, signed links hidden; null for mail only its recipient may "
        "read (a password or sign-in link, a confirmation, a test)."
    )
    due_at: datetime
    sent_at: datetime | None
    attempts: int
    next_attempt_at: datetime | None
    last_answer: str | None = Field(description="The mail server's last answer, or why not sent.")
    last_answer_text: str = Field(description="The last answer as the outbox page says it.")


class MessageDetail(Message):
    text: str | None = Field(
        description="The plain-text part with each signed link replaced by a marker; null "
        "for mail only its recipient may read."
    )


class MessagePage(Page):
    items: list[Message]


class MessageQuery(PageQuery):
    state: MessageState | None = Field(None, description="Only messages in this state.")
    kind: MessageKind | None = Field(None, description="Only messages of this kind.")
    participant_id: int | None = Field(None, description="Only those to this participant.")


def _here() -> Select[Row]:
    """A query of the messages the caller may see (the outbox page's scope)."""
    return scoped(select(Row), Row.organisation_id, campaign_column=Row.campaign_id)


@bp.get("/outbox/messages")
@operation(Access.STAFF, "outbox", query=MessageQuery, resp=Response(HTTP_200=MessagePage))
def list_messages(query: MessageQuery) -> MessagePage:
    """List the messages the caller may see, in the order queued."""
    statement = _here()
    if query.state is not None:
        statement = statement.where(Row.state == query.state)
    if query.kind is not None:
        statement = statement.where(Row.kind == query.kind)
    if query.participant_id is not None:
        statement = statement.where(Row.participant_id == query.participant_id)
    rows, cursor = page(statement, Row.id, query)
    slugs = slugs_of({m.organisation_id for m in rows})
    return MessagePage(items=[_message(m, slugs) for m in rows], next_cursor=cursor)


@bp.get("/outbox/messages/<int:message_id>")
@operation(Access.STAFF, "outbox", resp=Response(HTTP_200=MessageDetail))
def show_message(message_id: int) -> tuple[BaseModel, int, dict[str, str]]:
    """Show one message: its state, attempts and last answer, and what staff may read of it."""
    message = db.first_or_404(_here().where(Row.id == message_id))
    content = readable(message, _language())
    shown = _message(message, slugs_of({message.organisation_id}))
    return tagged(MessageDetail(**shown.model_dump(), text=content.text if content else None))


def _language() -> str:
    return str(get_locale() or "sv")


def _message(message: Row, slugs: dict[int, str]) -> Message:
    """Return a message's envelope (and subject, where staff may read it)."""
    answer = (
        hide_signed_links(message.last_answer, marker(_language())) if message.last_answer else None
    )
    said = labels.answer(answer)
    return Message(
        id=message.id, kind=message.kind, state=message.state,
        member=slugs.get(message.organisation_id or 0), participant_id=message.participant_id,
        recipient=message.recipient, subject=subject_of(message, _language()),
        due_at=message.due_at, sent_at=message.sent_at, attempts=message.attempts,
        next_attempt_at=message.next_attempt_at, last_answer=answer,
        last_answer_text=said.striptags() if isinstance(said, Markup) else said,
    )  # fmt: skip
