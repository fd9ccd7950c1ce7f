"""The event form: what, when (in a time zone), where, for whom, how many, and reminders."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
    URLField,
    ValidationError,
)
from wtforms.validators import URL, DataRequired, InputRequired, Length, NumberRange, Optional

from campaign import labels
from campaign.events.models import EventKind
from campaign.events.reminders import parse_reminders
from campaign.fields import LocalIntegerField
from campaign.plaintext import NoControlCharacters, WebLink, unix_lines
from campaign.timing import PlausibleDay, existing_instant, is_zone_name

KINDS = (EventKind.PRACTICE_MEETING, EventKind.TRAINING, EventKind.WEBINAR, EventKind.WORKING_GROUP)


class EventForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=labels.choices(KINDS))
    title = StringField(
        _l("Title"), validators=[DataRequired(), Length(max=200), NoControlCharacters()]
    )
    description_md = TextAreaField(
        _l("Description"),
        validators=[Length(max=20_000), NoControlCharacters(multiline=True)],
        filters=[unix_lines],
        description=_l("What the meeting is for and how to prepare. Markdown is allowed."),
    )
    day = DateField(_l("Date"), validators=[InputRequired(), PlausibleDay()])
    starts = TimeField(_l("Starts"), validators=[InputRequired()])
    ends = TimeField(_l("Ends"), validators=[InputRequired()])
    timezone = StringField(_l("Time zone"), validators=[DataRequired(), Length(max=64)])
    join_url = URLField(
        _l("Link to the web meeting"),
        validators=[Optional(), WebLink(), URL(require_tld=False), Length(max=1000)],
    )
    room = StringField(_l("Room"), validators=[Length(max=200), NoControlCharacters()])
    capacity = LocalIntegerField(
        _l("Places"),
        validators=[Optional(), NumberRange(min=1, max=100_000)],
        description=_l("Leave empty for no limit. When full, people join a waiting list."),
    )
    audience = SelectField(_l("Who is invited"))
    pilot_group = SelectField(_l("Pilot group"), coerce=int, validate_choice=False)
    reminders = StringField(
        _l("Reminders"),
        validators=[Length(max=100)],
        description=_l("Before the start, separated by commas, e.g. 24h, 1h or 30m."),
    )

    def validate_timezone(self, field: StringField) -> None:
        if not is_zone_name((field.data or "").strip()):
            raise ValidationError(_l("Not a known time zone; use a name such as Europe/Stockholm."))

    def validate_ends(self, field: TimeField) -> None:
        if self.starts.data and field.data and field.data <= self.starts.data:
            raise ValidationError(_l("The meeting must end after it starts."))

    def validate(self, extra_validators: Any = None) -> bool:
        """Check the fields, then that both times exist on the day and the end comes later."""
        return super().validate(extra_validators) and self.instants() is not None

    def instants(self) -> tuple[datetime, datetime] | None:
        """Return the start and end as UTC instants, or None with errors on the fields."""
        zone = ZoneInfo((self.timezone.data or "").strip())
        day, start_time, end_time = self.day.data, self.starts.data, self.ends.data
        if day is None or start_time is None or end_time is None:  # their fields say so
            return None
        starts = self._instant(self.starts, day, start_time, zone)
        ends = self._instant(self.ends, day, end_time, zone)
        if starts is None or ends is None:
            return None
        if ends <= starts:  # in real time, whatever the wall clock says
            self.ends.errors = [*self.ends.errors, _l("The meeting must end after it starts.")]
            return None
        return starts, ends

    @staticmethod
    def _instant(field: TimeField, day: date, at: time, zone: ZoneInfo) -> datetime | None:
        """Return `at` on `day` in `zone`, or None with an error on the field if the clocks
        skip that hour."""
        found = existing_instant(day, at, zone)
        if found is None:
            message = _(
                "%(time)s does not exist on %(day)s in %(zone)s: the clocks are put forward at"
                " that hour. Choose a time before or after the change.",
                time=at.strftime("%H:%M"),
                day=day.isoformat(),
                zone=str(zone),
            )
            field.errors = [*field.errors, message]
        return found

    def validate_reminders(self, field: StringField) -> None:
        try:
            parse_reminders(field.data or "")
        except ValueError as error:
            raise ValidationError(
                _l("Not understood: %(part)s. Write e.g. 24h, 1h or 30m.", part=str(error))
            ) from None
