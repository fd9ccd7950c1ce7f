"""The event form: what, when (in a time zone), where, for whom, how many, and reminders."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
    URLField,
    ValidationError,
)
from wtforms.fields import SelectChoice
from wtforms.validators import URL, DataRequired, InputRequired, Length, NumberRange, Optional

from campaign.events.invitations import parse_reminders
from campaign.events.models import Audience, EventKind


def kind_choices() -> list[SelectChoice]:
    return [
        SelectChoice(EventKind.PRACTICE_MEETING.value, _l("Practice meeting")),
        SelectChoice(EventKind.TRAINING.value, _l("Training")),
        SelectChoice(EventKind.WEBINAR.value, _l("Webinar")),
        SelectChoice(EventKind.WORKING_GROUP.value, _l("Working-group meeting")),
    ]


AUDIENCE_LABELS = {
    Audience.PILOT_GROUP: _l("One pilot group"),
    Audience.ORGANISATION: _l("All participants of the organisation"),
    Audience.CAMPAIGN: _l("All participants of the campaign"),
    Audience.WORKING_GROUP: _l("The representatives' working group"),
}


class EventForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=kind_choices)
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description_md = TextAreaField(
        _l("Description"),
        validators=[Length(max=20_000)],
        description=_l("What the meeting is for and how to prepare. Markdown is allowed."),
    )
    day = DateField(_l("Date"), validators=[InputRequired()])
    starts = TimeField(_l("Starts"), validators=[InputRequired()])
    ends = TimeField(_l("Ends"), validators=[InputRequired()])
    timezone = StringField(_l("Time zone"), validators=[DataRequired(), Length(max=64)])
    join_url = URLField(
        _l("Link to the web meeting"),
        validators=[Optional(), URL(require_tld=False), Length(max=1000)],
    )
    room = StringField(_l("Room"), validators=[Length(max=200)])
    capacity = IntegerField(
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
        try:
            ZoneInfo((field.data or "").strip())
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(
                _l("Not a known time zone; use a name such as Europe/Stockholm.")
            ) from None

    def validate_ends(self, field: TimeField) -> None:
        if self.starts.data and field.data and field.data <= self.starts.data:
            raise ValidationError(_l("The meeting must end after it starts."))

    def validate_reminders(self, field: StringField) -> None:
        try:
            parse_reminders(field.data or "")
        except ValueError as error:
            raise ValidationError(
                _l("Not understood: %(part)s. Write e.g. 24h, 1h or 30m.", part=str(error))
            ) from None
