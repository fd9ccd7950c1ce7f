"""The form of one paragraph at one place of a step, in one language."""

from __future__ import annotations

import re

from flask_babel import format_number
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, TextAreaField
from wtforms.validators import ValidationError

from campaign.drip.local import MAX_TEXT, tidy
from campaign.plaintext import NoControlCharacters

# A tag (<p>, <a href=…>, <br/>), not an autolink (<https://…>, <name@ale.se>).
HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^>]*)?/?>|<!--")
TEMPLATE = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}")


class ParagraphForm(FlaskForm):
    """A member's paragraph at one place (campaign/drip/local.py): Markdown, no HTML."""

    text = TextAreaField(
        _l("Your paragraph"),
        validators=[NoControlCharacters(multiline=True)],
        filters=[lambda text: tidy(text or "")],
        description=_l(
            "Plain text or Markdown, at most 2,000 characters: your contact, a link, a sentence"
            " about your software. Leave it empty to remove your paragraph."
        ),
    )

    def validate_text(self, field: Field) -> None:
        """Refuse a text that is too long, or that holds HTML or placeholders."""
        text = field.data or ""
        if len(text) > MAX_TEXT:
            raise ValidationError(
                _(
                    "A paragraph can be at most %(most)s characters long; this one has %(count)s.",
                    most=format_number(MAX_TEXT),
                    count=format_number(len(text)),
                )
            )
        if HTML_TAG.search(text):
            raise ValidationError(
                _("Write the paragraph as text or Markdown: HTML tags such as <p> are not allowed.")
            )
        if TEMPLATE.search(text):
            raise ValidationError(
                _(
                    "Placeholders such as {{ … }} and {% … %} are not filled in a paragraph of"
                    " your own: write the text as it should read."
                )
            )
