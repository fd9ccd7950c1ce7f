"""Rewording a campaign's mail texts: check a draft, preview it, save it, reset it.

A draft is checked as the file loader checks a template (a subject on one line, a footer
reason where the shipped text has one, placeholders that compile) and then rendered with the
sample values of its own caller (campaign/mailtexts/catalogue.py): a placeholder the caller
does not fill, or one written wrong, is named with its line, and nothing is saved. Saving and
resetting are audited; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jinja2
from flask_babel import gettext as _
from jinja2 import meta, nodes
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.audit import record
from campaign.outbox.compose import CONTENT, Footer, Rendered, content_template, render_subject
from campaign.outbox.texts import Letter, mail_part, mail_template
from campaign.outbox.wording import MailText, forget, stored_text

MAX_LINE = 500  # the subject's and the reason's columns


@dataclass(frozen=True)
class Draft:
    """What one mail text says in one language, as the form holds it."""

    subject: str
    body: str
    reason: str | None = None  # None: the mail has no footer reason of its own

    def letter(self, name: str, language: str) -> Letter:
        """Return the draft as the outbox takes it."""
        return Letter(self.subject, self.body, f"{name}.{language}", self.reason)


@dataclass(frozen=True)
class Problem:
    """What is wrong with one field of a draft, as a sentence."""

    field: str  # "subject", "reason" or "body"
    message: str


class Unsaved(Exception):
    """A draft with problems: nothing was saved."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


def shipped_draft(name: str, language: str) -> Draft:
    """Return the shipped text of a mail (or of a part, "_" and its name) as a draft."""
    if name.startswith("_"):
        return Draft("", mail_part(name[1:], language))
    letter = mail_template(name, language)
    return Draft(letter.subject, letter.body, letter.reason)


def current_draft(db_session: Session, campaign_id: int, name: str, language: str) -> Draft:
    """Return the campaign's text of a mail as a draft: its own, else the shipped one."""
    row = stored_text(db_session, campaign_id, name, language)
    if row is None:
        return shipped_draft(name, language)
    return Draft(row.subject, row.body, row.reason)


def reworded(db_session: Session, campaign_id: int) -> set[tuple[str, str]]:
    """Return (name, language) of each text the campaign has reworded."""
    rows = db_session.execute(
        select(MailText.name, MailText.language).where(MailText.campaign_id == campaign_id)
    )
    return {(name, language) for name, language in rows}


def problems_of(draft: Draft, shipped: Draft, context: dict[str, Any]) -> list[Problem]:
    """Return what is wrong with a draft whose caller fills `context` (nothing: it may be saved)."""
    found = _line_problems("subject", draft.subject, context) if shipped.subject else []
    found += _reason_problems(draft.reason, shipped.reason is not None)
    found += _text_problems("body", draft.body, context)
    if found:
        return found
    return _render_problems(draft, context)


def _line_problems(field: str, text: str, context: dict[str, Any]) -> list[Problem]:
    """Check a subject: there, on one line, not too long, with sound placeholders."""
    if not text.strip():
        return [Problem(field, _("Write a subject."))]
    if "\n" in text.strip() or "\r" in text.strip():
        return [Problem(field, _("The subject must be one line."))]
    if len(text) > MAX_LINE:
        return [Problem(field, _("At most %(num)d characters.", num=MAX_LINE))]
    return _text_problems(field, text, context)


def _reason_problems(reason: str | None, needed: bool) -> list[Problem]:
    """Check the footer's reason of a mail that has one: one line of plain text."""
    if not needed:
        return []
    text = (reason or "").strip()
    if not text:
        return [Problem("reason", _("Write why the recipient gets this e-mail."))]
    if "\n" in text or len(text) > MAX_LINE:
        return [Problem("reason", _("One line of at most %(num)d characters.", num=MAX_LINE))]
    if "{" in text or "}" in text:
        return [Problem("reason", _("The reason is plain text: it cannot hold placeholders."))]
    return []


def _text_problems(field: str, source: str, context: dict[str, Any]) -> list[Problem]:
    """Return the syntax error of a text, or each placeholder its caller does not fill."""
    if not source.strip():
        return [Problem(field, _("Write the text of the e-mail."))]
    try:
        tree = CONTENT.parse(source)
    except jinja2.TemplateSyntaxError as error:
        return [Problem(field, _syntax(error))]
    known = ", ".join(sorted(context))
    return [
        Problem(
            field,
            _(
                "Line %(line)d: this e-mail has no placeholder “%(name)s”; it may use %(known)s.",
                line=line,
                name=name,
                known=known,
            ),
        )  # fmt: skip
        for line, name in unknown_names(tree, set(context))
    ]


def _syntax(error: jinja2.TemplateSyntaxError) -> str:
    """Say a syntax error of the placeholders with its line."""
    return _(
        "Line %(line)d: a placeholder is not written correctly (%(error)s).",
        line=error.lineno or 1,
        error=error.message,
    )


def unknown_names(tree: nodes.Template, known: set[str]) -> list[tuple[int, str]]:
    """Return (line, name) of each placeholder of a parsed text that is not in `known`."""
    unknown = meta.find_undeclared_variables(tree) - known - set(CONTENT.globals)
    found = {
        (node.lineno, node.name)
        for node in tree.find_all(nodes.Name)
        if node.ctx == "load" and node.name in unknown
    }
    return sorted(found)


def _render_problems(draft: Draft, context: dict[str, Any]) -> list[Problem]:
    """Render the draft with the sample values; say what fails (a filter on a wrong value)."""
    found = []
    for field, source in (("subject", draft.subject), ("body", draft.body)):
        try:
            content_template(source).render(context) if field == "body" else render_subject(
                source, context
            )
        except Exception as error:  # whatever the text does wrong is its author's to see
            found.append(Problem(field, _("It cannot be filled in: %(error)s", error=error)))
    return found


def preview(
    name: str, language: str, draft: Draft, context: dict[str, Any], footer: Footer
) -> Rendered:
    """Return the draft as the outbox lays it out (its placeholders filled with `context`)."""
    return draft.letter(name, language).render(context, language=language, footer=footer)


def save(
    db_session: Session,
    campaign_id: int,
    name: str,
    language: str,
    draft: Draft,
    *,
    context: dict[str, Any],
    actor: Any,
    now: datetime,
) -> None:
    """Store the campaign's own text of a mail, audited; raise Unsaved with its problems.

    A text saved as the shipped one stores nothing (the campaign follows the shipped file, and
    a later release's wording with it); a save that changes nothing records nothing.
    """
    shipped = shipped_draft(name, language)
    if problems := problems_of(draft, shipped, context):
        raise Unsaved(problems)
    draft = _tidied(draft, shipped)
    before = current_draft(db_session, campaign_id, name, language)
    fields = [f for f in ("subject", "reason", "body") if _differ(before, draft, f)]
    if not fields:
        return
    row = stored_text(db_session, campaign_id, name, language)
    if row is not None:
        db_session.delete(row)
        db_session.flush()  # before a new row with its key
    if any(_differ(shipped, draft, f) for f in ("subject", "reason", "body")):
        db_session.add(_row(campaign_id, name, language, draft, getattr(actor, "id", None), now))
    db_session.flush()
    forget(db_session)
    _audit(db_session, "mail_text.saved", campaign_id, name, language, actor, now, fields=fields)


def _tidied(draft: Draft, shipped: Draft) -> Draft:
    """Return the draft as it is stored: subject and reason trimmed, a reason only where the
    shipped text has one."""
    reason = (draft.reason or "").strip() if shipped.reason is not None else None
    return Draft(draft.subject.strip(), draft.body, reason)


def _differ(one: Draft, other: Draft, field: str) -> bool:
    """Whether two drafts say something else in `field` (space at either end of it aside)."""
    return (getattr(one, field) or "").strip() != (getattr(other, field) or "").strip()


def _row(
    campaign_id: int, name: str, language: str, draft: Draft, author_id: int | None, now: datetime
) -> MailText:
    """Return the stored row of a campaign's own text."""
    return MailText(
        campaign_id=campaign_id, name=name, language=language, subject=draft.subject,
        reason=draft.reason, body=draft.body, author_id=author_id, updated_at=now,
    )  # fmt: skip


def reset(
    db_session: Session, campaign_id: int, name: str, language: str, *, actor: Any, now: datetime
) -> bool:
    """Let the campaign send the shipped text again, audited; False if it did already."""
    row = stored_text(db_session, campaign_id, name, language)
    if row is None:
        return False
    db_session.delete(row)
    db_session.flush()
    forget(db_session)
    _audit(db_session, "mail_text.reset", campaign_id, name, language, actor, now)
    return True


def _audit(
    db_session: Session,
    action: str,
    campaign_id: int,
    name: str,
    language: str,
    actor: Any,
    now: datetime,
    **details: Any,
) -> None:
    """Record a change of a mail text in the campaign's audit log."""
    target = f"mail_text:{name}/{language}"
    record(db_session, actor, action, now=now, campaign_id=campaign_id, target=target, **details)
