"""A campaign's own wording of a mail template, stored; the shipped file where it has none.

The lead administrator may reword a campaign's invitations, reminders and the like
(campaign/mailtexts/ is the page). Every mail of a campaign asks `campaign_letter` for its
text: the stored one when there is one, else the shipped file (campaign/outbox/texts.py). The
stored rows are read once per campaign and transaction (a job run, a request), so a fan-out of
ten thousand mails asks the database once and a change saved elsewhere is seen by the next run.
A stored text was checked when it was saved; should one be broken all the same, it is logged
and the shipped text goes instead, and a send never fails because of it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import jinja2
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from campaign.db import Base
from campaign.outbox.compose import content_template
from campaign.outbox.texts import Letter, mail_part, mail_template

log = logging.getLogger(__name__)
_CACHE = "campaign.outbox.wording"
Texts = dict[tuple[str, str], Letter]


class MailText(Base):
    """One campaign's own wording of one mail template in one language."""

    __tablename__ = "mail_text"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    # The template's, e.g. "event-invitation"; a part's with its "_", "_event-details".
    name: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(500))
    reason: Mapped[str | None] = mapped_column(
        String(500)
    )  # the footer of a mail to non-participants
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("campaign_id", "name", "language"),)


def campaign_letter(
    db_session: Session, campaign_id: int | None, name: str, language: str
) -> Letter:
    """Return what mail `name` says in `language` in the campaign: its own text if it has
    one (and it is sound), else the shipped one."""
    shipped = mail_template(name, language)
    if campaign_id is None:
        return shipped
    stored = _stored(db_session, campaign_id).get((name, language))
    return stored if stored is not None else shipped


def campaign_part(
    db_session: Session, campaign_id: int, name: str, language: str, context: Mapping[str, Any]
) -> str:
    """Return the part `name` (the details of a meeting, say) filled with `context`: the
    campaign's own wording if it has one and it fills, else the shipped one."""
    stored = _stored(db_session, campaign_id).get((f"_{name}", language))
    if stored is not None:
        try:
            return content_template(stored.body).render(context)
        except jinja2.TemplateError as error:
            log.error(
                "%s cannot be filled (%s); the shipped text goes instead", stored.origin, error
            )
    return content_template(mail_part(name, language)).render(context)


def stored_text(db_session: Session, campaign_id: int, name: str, language: str) -> MailText | None:
    """Return the campaign's stored row of a mail text, None when it follows the shipped one."""
    return db_session.scalar(
        select(MailText).where(
            MailText.campaign_id == campaign_id,
            MailText.name == name,
            MailText.language == language,
        )
    )


def forget(db_session: Session) -> None:
    """Drop what this session has read of the stored texts: call it after a change."""
    db_session.info.pop(_CACHE, None)


def _stored(db_session: Session, campaign_id: int) -> Texts:
    """Return the campaign's sound stored texts, read once per transaction of the session."""
    transaction = db_session.get_transaction()
    cached = db_session.info.get(_CACHE)
    if transaction is None or cached is None or cached[0] is not transaction:
        texts = _read(db_session, campaign_id)
        db_session.info[_CACHE] = (db_session.get_transaction(), {campaign_id: texts})
        return texts
    if campaign_id not in cached[1]:
        cached[1][campaign_id] = _read(db_session, campaign_id)
    return cached[1][campaign_id]


def _read(db_session: Session, campaign_id: int) -> Texts:
    """Return the campaign's stored texts as letters, leaving out (and logging) a broken one."""
    rows = db_session.scalars(select(MailText).where(MailText.campaign_id == campaign_id))
    letters = {(row.name, row.language): _letter_of(row) for row in rows}
    return {key: letter for key, letter in letters.items() if letter is not None}


def _letter_of(row: MailText) -> Letter | None:
    """Return the letter of a stored text, falling back to the shipped one; None if broken."""
    origin = f"mail_text {row.name}.{row.language} of campaign {row.campaign_id}"
    if row.name.startswith("_"):
        return _part_of(row, origin)
    try:
        shipped = mail_template(row.name, row.language)
        if shipped.reason and not row.reason:
            raise jinja2.TemplateError("a mail to staff needs a reason")
        content_template(row.subject)
        content_template(row.body)
    except Exception as error:  # nothing stored may stop a send: the shipped text goes
        log.error("%s is broken (%s); the shipped text goes instead", origin, error)
        return None
    reason = row.reason if shipped.reason else None
    return Letter(row.subject, row.body, origin, reason, shipped)


def _part_of(row: MailText, origin: str) -> Letter | None:
    """Return a stored part (its body only) as a letter without a subject; None if broken."""
    try:
        mail_part(row.name[1:], row.language)  # a part the code still puts in
        content_template(row.body)
    except Exception as error:  # nothing stored may stop a send: the shipped part goes
        log.error("%s is broken (%s); the shipped text goes instead", origin, error)
        return None
    return Letter("", row.body, origin)
