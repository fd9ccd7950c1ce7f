"""The forms of the sequence editor: one step (timing, conditions, both languages' texts), and a
ZIP of a sequence to import."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import EmailField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from campaign.drip.editing import Draft
from campaign.drip.files import ANCHORS, CONDITIONS, LANGUAGES
from campaign.fields import LocalIntegerField
from campaign.plaintext import NoControlCharacters, unix_lines
from campaign.timing import Offset, parse_offset

UNITS = {"days": "d", "weeks": "w", "business_days": " business days"}
UNIT_LABELS = {
    "days": _l("days"),
    "weeks": _l("weeks"),
    "business_days": _l("business days (weekdays but holidays)"),
}
ANCHOR_LABELS = {
    "start": _l("the participant's start"),
    "campaign_end": _l("the campaign's last day"),
    "practice_meeting": _l("each practice meeting the participant is invited to"),
    "training": _l("each training the participant is invited to"),
    "webinar": _l("each webinar the participant is invited to"),
}


def _subject(label: Any) -> StringField:
    return StringField(label, validators=[InputRequired(), Length(max=300), NoControlCharacters()])


def _body(label: Any) -> TextAreaField:
    return TextAreaField(
        label,
        description=_l("Placeholders in double braces are filled in for each participant; see "
                       "the preview."),
        validators=[InputRequired(), Length(max=50_000), NoControlCharacters(multiline=True)],
        filters=[unix_lines],
        render_kw={"rows": 16},
    )  # fmt: skip


class Offered(NamedTuple):
    """The anchors and conditions a campaign's steps may name, and how each is said."""

    anchors: list[str]
    conditions: list[str]
    say: Callable[[str], str]


class StepForm(FlaskForm):
    offset_amount = LocalIntegerField(
        _l("How long after"),
        description=_l("A negative number counts back, from the campaign's last day only."),
        validators=[InputRequired(), NumberRange(min=-9999, max=9999)],
    )
    offset_unit = SelectField(
        _l("Counted in"), choices=[SelectChoice(k, v) for k, v in UNIT_LABELS.items()]
    )
    anchor = SelectField(_l("Counted from"))
    at = StringField(
        _l("Time of day"),
        validators=[InputRequired(), Length(max=5)],
        render_kw={"type": "time"},
    )
    unless = SelectMultipleField(_l("Not sent if"), validators=[Optional()])
    only_if = SelectMultipleField(_l("Sent only if"), validators=[Optional()])
    subject_sv = _subject(_l("Subject in Swedish"))
    body_sv = _body(_l("Text in Swedish (Markdown)"))
    subject_en = _subject(_l("Subject in English"))
    body_en = _body(_l("Text in English (Markdown)"))
    participant = EmailField(
        _l("Preview for a participant"),
        description=_l("Their e-mail address: the step is filled in with their name, their "
                       "member's software and support contact. Empty: sample data."),
        validators=[Optional(), Length(max=320)],
    )  # fmt: skip

    def offer(self, draft: Draft, offered: Offered | None = None) -> None:
        """Offer the anchors and conditions there are (the campaign's, said in words), and any
        the step has that are not."""
        anchors, conditions, say = offered or Offered(list(ANCHORS), list(CONDITIONS), str)
        anchor_labels = {a: ANCHOR_LABELS.get(a) or say(a) for a in anchors}
        self.anchor.choices = _choices(anchors, anchor_labels, [draft.anchor])
        condition_labels = {c: CONDITIONS.get(c) or say(c) for c in conditions}
        found = _choices(conditions, condition_labels, draft.unless + draft.only_if)
        self.unless.choices = self.only_if.choices = found

    def fill(self, draft: Draft) -> None:
        """Show a draft in the form."""
        offset = _parsed(draft.offset)
        self.offset_amount.data = offset.amount if offset else None
        self.offset_unit.data = offset.unit if offset else "days"
        self.anchor.data, self.at.data = draft.anchor, draft.at
        self.unless.data, self.only_if.data = list(draft.unless), list(draft.only_if)
        for language in LANGUAGES:
            self[f"subject_{language}"].data = draft.subjects.get(language, "")
            self[f"body_{language}"].data = draft.bodies.get(language, "")

    def draft(self, before: Draft) -> Draft:
        """Return the draft the form holds (the offset as written before, if it means the
        same)."""
        return Draft(
            offset=self._offset(before.offset),
            anchor=self.anchor.data or "start",
            at=(self.at.data or "").strip()[:5],
            unless=list(self.unless.data or []),
            only_if=list(self.only_if.data or []),
            subjects={lang: (self[f"subject_{lang}"].data or "").strip() for lang in LANGUAGES},
            bodies={lang: self[f"body_{lang}"].data or "" for lang in LANGUAGES},
        )

    def _offset(self, before: str) -> str:
        """Return the offset as the files write it."""
        amount, unit = self.offset_amount.data, self.offset_unit.data
        if amount is None or unit not in UNITS:
            return before
        if _parsed(before) == Offset(amount, unit):
            return before
        return f"{amount:+d}{UNITS[unit]}"


def _parsed(text: str) -> Offset | None:
    """Return a written offset, or None when it cannot be read."""
    try:
        return parse_offset(text)
    except ValueError:
        return None


def _choices(known: Any, labels: Any, present: list[str]) -> list[SelectChoice]:
    """Return a choice for each known value, then for each present one that is not known."""
    values = list(known) + [v for v in present if v not in known]
    return [SelectChoice(value, labels.get(value, value)) for value in dict.fromkeys(values)]


class ImportForm(FlaskForm):
    archive = FileField(
        _l("ZIP file"),
        description=_l("The Markdown files as an export gives them: sv/01-welcome.md, "
                       "en/01-welcome.md, at most 1 MB."),
    )  # fmt: skip
