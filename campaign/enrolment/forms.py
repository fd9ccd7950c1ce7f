"""Forms of enrolment: pilot groups, one participant, an import, and the self-enrolment form."""

from __future__ import annotations

from datetime import date

from email_validator import EmailNotValidError
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from campaign import labels
from campaign.enrolment import domains
from campaign.enrolment.importing import normalise_address
from campaign.enrolment.models import PilotGroupKind
from campaign.i18n import LANGUAGES
from campaign.plaintext import NoControlCharacters
from campaign.timing import PlausibleDay, day_text


def language_choices() -> list[SelectChoice]:
    return [SelectChoice(code, label) for code, label in LANGUAGES.items()]


class AddressField(EmailField):
    """An e-mail address, checked like the import checks it, stored in lower case."""

    data: str | None

    def process_formdata(self, valuelist: list[str]) -> None:
        super().process_formdata(valuelist)
        self.data = (self.data or "").strip()

    def pre_validate(self, form: FlaskForm) -> None:
        if not self.data:
            return
        try:
            self.data = normalise_address(self.data)
        except EmailNotValidError:
            raise ValidationError(_l("Not a valid e-mail address")) from None


class PilotGroupForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(), Length(max=200), NoControlCharacters()],
        description=_l("For example: Environment department, or Managers spring 2014."),
    )
    kind = SelectField(
        _l("Kind of group"), choices=labels.choices(PilotGroupKind), coerce=labels.value_of
    )
    starts_on = DateField(
        _l("Starts"),
        validators=[InputRequired(), PlausibleDay()],
        description=_l("The e-mails of the sequence count from this day."),
    )
    sequence_name = SelectField(
        _l("E-mail sequence"),
        description=_l("The drip e-mails the group's participants receive."),
    )


class ParticipantForm(FlaskForm):
    email = AddressField(_l("E-mail address"), validators=[DataRequired(), Length(max=320)])
    name = StringField(_l("Name"), validators=[Length(max=200), NoControlCharacters()])
    title = StringField(_l("Title"), validators=[Length(max=200), NoControlCharacters()])
    language = SelectField(_l("Language of the e-mails"), choices=language_choices)


class NewParticipantForm(ParticipantForm):
    pilot_group = SelectField(_l("Pilot group"), coerce=int)
    agreed = BooleanField(
        _l("The person has agreed to take part and to receive the pilot group's e-mails."),
        validators=[DataRequired(_l("Please confirm that the person has agreed."))],
    )


class MoveForm(FlaskForm):
    pilot_group = SelectField(_l("Move to the pilot group"), coerce=int)


class PauseForm(FlaskForm):
    """Pause a participant until a day (or, left empty, until further notice)."""

    until = DateField(
        _l("Pause until"),
        validators=[Optional(), PlausibleDay()],
        description=_l(
            "Leave it empty to pause until further notice. On the day you give, the e-mails"
            " start again in the morning."
        ),
    )

    def check_day(self, today: date, last_day: date) -> bool:
        """Refuse a day that is not after `today` or comes after the campaign's `last_day`."""
        day = self.until.data
        if day is not None and day <= today:
            self.until.errors.append(_("Give a day after today."))
        elif day is not None and day > last_day:
            last = day_text(last_day)
            self.until.errors.append(
                _("Give a day no later than %(day)s, the campaign's last day.", day=last)
            )
        return not self.until.errors


class GroupPauseForm(PauseForm):
    """Pause every active participant of a pilot group until a day."""

    until = DateField(
        _l("Pause every active participant until"),
        validators=[InputRequired(_l("Give the day the e-mails start again.")), PlausibleDay()],
        description=_l("On that day the e-mails start again in the morning."),
    )


class ImportForm(FlaskForm):
    pilot_group = SelectField(_l("Pilot group"), coerce=int)
    file = FileField(
        _l("File"),
        validators=[FileRequired(_l("Choose a file."))],
        description=_l(
            "Excel (.xlsx) or CSV. The first row names the columns: E-post (required), Namn,"
            " or Förnamn and Efternamn, Titel, Språk."
        ),
    )


class ConfirmImportForm(FlaskForm):
    agreed = BooleanField(
        _l("The people to be added have agreed to take part and to receive the e-mails."),
        validators=[DataRequired(_l("Please confirm that the people have agreed."))],
    )


class EraseForm(FlaskForm):
    understood = BooleanField(
        _l("I understand that the person's data is removed for good and cannot be restored."),
        validators=[DataRequired(_l("Please confirm that you understand."))],
    )


class JoinForm(FlaskForm):
    name = StringField(
        _l("Your name"), validators=[DataRequired(), Length(max=200), NoControlCharacters()]
    )
    email = AddressField(
        _l("Your work e-mail address"), validators=[DataRequired(), Length(max=320)]
    )
    title = StringField(
        _l("Your title (optional)"), validators=[Length(max=200), NoControlCharacters()]
    )
    language = SelectField(_l("Language of the e-mails"), choices=language_choices)
    agreed = BooleanField(
        _l("I agree to the above."),
        validators=[DataRequired(_l("You can only take part if you agree."))],
    )


class KnownDomains:
    """Validate a list of e-mail domains (campaign/enrolment/domains.py), naming a bad one."""

    def __call__(self, form: FlaskForm, field: TextAreaField) -> None:
        try:
            domains.parse(field.data or "")
        except ValueError as bad:
            message = _("“%(domain)s” is not a domain such as kungalv.se (at most %(n)d).")
            raise ValidationError(message % {"domain": bad, "n": domains.MAX_DOMAINS}) from None


class EmailDomainsForm(FlaskForm):
    domains = TextAreaField(
        _l("Work e-mail domains"),
        validators=[Length(max=2000), KnownDomains()],
        description=_l(
            "Where your people's work addresses are, one domain per line, such as kungalv.se."
            " Someone who joins a pilot group with an address elsewhere is warned, not refused."
        ),
    )
