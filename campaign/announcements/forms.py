"""The announcement form: whom (the segment's criteria), what (both languages), when."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
    ValidationError,
)
from wtforms.fields import SelectChoice
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from campaign.announcements.letters import LANGUAGES, problem
from campaign.announcements.models import Texts
from campaign.announcements.segments import Segment
from campaign.plaintext import NoControlCharacters, unix_lines
from campaign.timing import PlausibleDay, existing_instant


class Checkboxes(SelectMultipleField):
    """A list of checkboxes, one per choice."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _optional_id(value: Any) -> int | None:
    """The id a select sends, or None for its empty choice."""
    return int(value) if value not in (None, "", "None") else None


class AnnouncementForm(FlaskForm):
    form_key = HiddenField()  # given when the form is first shown: one announcement per key
    organisations = Checkboxes(_l("Members"), coerce=int)
    groups = Checkboxes(_l("Pilot groups"), coerce=int)
    statuses = Checkboxes(_l("Statuses"))
    attended = SelectField(_l("Attended the meeting"), coerce=_optional_id)
    absent = SelectField(_l("Invited to, but did not attend, the meeting"), coerce=_optional_id)
    answered = SelectField(_l("Answered the questionnaire"), coerce=_optional_id)
    unanswered = SelectField(_l("Has not answered the questionnaire"), coerce=_optional_id)
    started_after = DateField(_l("Started on or after"), validators=[Optional(), PlausibleDay()])
    started_before = DateField(_l("Started before"), validators=[Optional(), PlausibleDay()])
    subject_sv = StringField(
        _l("Subject in Swedish"), validators=[Length(max=300), NoControlCharacters()]
    )
    body_sv = TextAreaField(
        _l("Text in Swedish"),
        validators=[Length(max=20_000), NoControlCharacters(multiline=True)],
        filters=[unix_lines],
    )
    subject_en = StringField(
        _l("Subject in English"), validators=[Length(max=300), NoControlCharacters()]
    )
    body_en = TextAreaField(
        _l("Text in English"),
        validators=[Length(max=20_000), NoControlCharacters(multiline=True)],
        filters=[unix_lines],
    )
    when = RadioField(
        _l("When"),
        choices=[SelectChoice("now", _l("Now")), SelectChoice("later", _l("Later"))],
        default="now",
    )
    send_day = DateField(_l("Date"), validators=[Optional(), PlausibleDay()])
    send_time = TimeField(_l("Time"), validators=[Optional()])
    preview_as = SelectField(_l("Preview as"), coerce=_optional_id, validate_choice=False)

    def key(self) -> str:
        """Return the form's own key; a new one for a key no form of ours was given."""
        sent = self.form_key.data or ""
        return sent if re.fullmatch(r"[0-9a-f]{32}", sent) else uuid.uuid4().hex

    def segment(self) -> Segment:
        """Return the criteria chosen."""
        return Segment(
            organisations=tuple(self.organisations.data or ()),
            groups=tuple(self.groups.data or ()),
            statuses=tuple(self.statuses.data or ()),
            attended=self.attended.data,
            absent=self.absent.data,
            answered=self.answered.data,
            unanswered=self.unanswered.data,
            started_after=self.started_after.data,
            started_before=self.started_before.data,
        )

    def texts(self) -> Texts:
        """Return the subjects and bodies written."""
        return Texts(
            (self.subject_sv.data or "").strip(),
            (self.body_sv.data or "").strip(),
            (self.subject_en.data or "").strip(),
            (self.body_en.data or "").strip(),
        )

    def checked_texts(self) -> bool:
        """Check that one language at least is written, each whole, and that each renders;
        put what is wrong on its field."""
        written = [language for language in LANGUAGES if self._written(language)]
        if not written:
            self.subject_sv.errors = [
                *self.subject_sv.errors,
                _l("Write the subject and text in Swedish or in English, or both."),
            ]
            return False
        return all([self._renders(language) for language in written])

    def _written(self, language: str) -> bool:
        """Whether the language has a subject or a text; a missing half is an error."""
        subject, body = self[f"subject_{language}"], self[f"body_{language}"]
        has_subject, has_body = bool((subject.data or "").strip()), bool((body.data or "").strip())
        if has_subject != has_body:
            missing = body if has_subject else subject
            missing.errors = [
                *missing.errors,
                _l("Write both the subject and the text of this language."),
            ]
        return has_subject or has_body

    def _renders(self, language: str) -> bool:
        """Render the language's subject and text with sample values; say where each fails."""
        fine = True
        for name in (f"subject_{language}", f"body_{language}"):
            field = self[name]
            why = problem(field.data or "", language)
            if why is not None:
                field.errors = [*field.errors, why]
                fine = False
        return (
            fine and not self[f"subject_{language}"].errors and not self[f"body_{language}"].errors
        )

    def send_at(self, zone: ZoneInfo, now: datetime) -> datetime | None:
        """Return when it is to go, or None with an error on the fields."""
        if self.when.data != "later":
            return now
        if self.send_day.data is None or self.send_time.data is None:
            self.send_day.errors = [
                *self.send_day.errors,
                _l("Give the date and time it is to go."),
            ]
            return None
        return self._later(self.send_day.data, zone, now)

    def _later(self, day: date, zone: ZoneInfo, now: datetime) -> datetime | None:
        assert self.send_time.data is not None
        instant = existing_instant(day, self.send_time.data, zone)
        if instant is None:
            self.send_time.errors = [
                *self.send_time.errors,
                _l("The clocks skip this time that day; give another."),
            ]
        elif instant <= now:
            self.send_day.errors = [*self.send_day.errors, _l("Give a moment in the future.")]
            return None
        return instant

    def validate_started_before(self, field: DateField) -> None:
        after = self.started_after.data
        if after is not None and field.data is not None and field.data <= after:
            raise ValidationError(_l("Give a day later than the one it started on or after."))
