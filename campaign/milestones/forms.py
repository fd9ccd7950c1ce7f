"""The form that sets a milestone: its name, date and description."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, StringField, ValidationError
from wtforms.validators import DataRequired, InputRequired, Length

from campaign.milestones.dates import is_name
from campaign.milestones.models import NAME_LENGTH
from campaign.plaintext import NoControlCharacters
from campaign.timing import PlausibleDay


class MilestoneForm(FlaskForm):
    """Set a milestone (a new name adds one; a name already set gets the new date)."""

    name = StringField(
        _l("Milestone name"),
        validators=[DataRequired(), Length(max=NAME_LENGTH)],
        filters=[lambda text: (text or "").strip().lower()],
        description=_l(
            "How the steps of a sequence name it, for example teams: anchor: milestone:teams."
            " Lowercase letters, digits, - and _."
        ),
    )
    day = DateField(_l("Date"), validators=[InputRequired(), PlausibleDay()])
    description = StringField(
        _l("Description"),
        validators=[Length(max=200), NoControlCharacters()],
        filters=[lambda text: (text or "").strip()],
        description=_l("In people's words, for example: Teams is introduced at Ale."),
    )

    def validate_name(self, field: StringField) -> None:
        if field.data and not is_name(field.data):
            raise ValidationError(
                _l(
                    "A milestone name has lowercase letters, digits, - and _ only,"
                    " for example teams."
                )
            )
