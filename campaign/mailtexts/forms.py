"""The form of one mail text in one language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import Length

from campaign.mailtexts.editing import MAX_LINE, Draft
from campaign.plaintext import NoControlCharacters, unix_lines


class MailTextForm(FlaskForm):
    """A mail's subject, the reason its footer gives (where it has one) and its Markdown body."""

    subject = StringField(
        _l("Subject"),
        validators=[Length(max=MAX_LINE), NoControlCharacters()],
        description=_l("One line; it may hold the placeholders listed below the form."),
    )
    reason = StringField(
        _l("Why the recipient gets it"),
        validators=[Length(max=MAX_LINE), NoControlCharacters()],
        description=_l("The footer's first line, plain text without placeholders."),
    )
    body = TextAreaField(
        _l("Text"),
        validators=[Length(max=20_000), NoControlCharacters(multiline=True)],
        filters=[unix_lines],
        description=_l("Markdown: **bold**, *italic*, lists with -, links as [text](address)."),
        render_kw={"rows": 16},
    )

    def fill(self, draft: Draft) -> None:
        """Show a draft in the form."""
        self.subject.data, self.body.data, self.reason.data = (
            draft.subject,
            draft.body,
            draft.reason,
        )

    def draft(self, shipped: Draft) -> Draft:
        """Return what the form holds: a subject and a reason only where the shipped text has
        them (a part has neither)."""
        reason = (self.reason.data or "") if shipped.reason is not None else None
        subject = (self.subject.data or "") if shipped.subject else ""
        return Draft(subject, self.body.data or "", reason)
