"""Forms of the accounts domain; every form carries a CSRF token through Flask-WTF."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _ln
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import AnyOf, DataRequired, EqualTo, Length

from campaign.accounts.throttle import LockKind
from campaign.api.tokens import ALL_SCOPES, LIFETIMES
from campaign.enrolment.forms import AddressField
from campaign.i18n import LANGUAGES
from campaign.plaintext import NoControlCharacters
from campaign.security import MIN_PASSWORD_LENGTH


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class ProfileForm(FlaskForm):
    name = StringField(
        _l("Name"), validators=[DataRequired(), Length(max=200), NoControlCharacters()]
    )
    language = SelectField(
        _l("Language"), choices=[SelectChoice(code, label) for code, label in LANGUAGES.items()]
    )


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)],
        description=_l("At least %(count)d characters.", count=MIN_PASSWORD_LENGTH),
    )
    confirm_password = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords differ."))],
    )


class NewPasswordForm(FlaskForm):
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)],
        description=_l("At least %(count)d characters.", count=MIN_PASSWORD_LENGTH),
    )
    confirm_password = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords differ."))],
    )


class ForgotForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=320)])


class InviteForm(FlaskForm):
    name = StringField(
        _l("Name"), validators=[DataRequired(), Length(max=200), NoControlCharacters()]
    )
    email = AddressField(_l("E-mail address"), validators=[DataRequired(), Length(max=320)])
    language = SelectField(
        _l("Language"), choices=[SelectChoice(code, label) for code, label in LANGUAGES.items()]
    )


class UnlockForm(FlaskForm):
    """One lock to lift on the sign-in locks page: an address or a client, as listed there."""

    kind = HiddenField(validators=[AnyOf([kind.value for kind in LockKind])])
    value = HiddenField(validators=[DataRequired(), Length(max=320)])


class ConfirmedForm(FlaskForm):
    """A change shown for confirmation first: the confirming page posts it again with `yes`."""

    confirmed = HiddenField()

    def is_confirmed(self) -> bool:
        """Return whether the person saw what happens and confirmed it."""
        return self.confirmed.data == "yes"


class ChangePersonForm(ConfirmedForm):
    """Another member or role for a staff account; the choices are the campaign's (the view's)."""

    organisation = SelectField(
        _l("Organisation"), validate_choice=False, validators=[DataRequired()]
    )
    role = SelectField(_l("Role"))


class HandOverForm(ConfirmedForm):
    """The person of another member who takes over the lead (the view lists who can)."""

    successor = SelectField(
        _l("New lead administrator"), validate_choice=False, validators=[DataRequired()]
    )


class TokenForm(FlaskForm):
    """A new personal API token: what it is for, what it may do, how long it lasts."""

    name = StringField(
        _l("Name"),
        validators=[DataRequired(), Length(max=100), NoControlCharacters()],
        description=_l("What the token is for, e.g. the intranet's progress page."),
    )
    # Rendered as grouped checkboxes by the template (everything, or one kind at a time).
    scopes = SelectMultipleField(
        _l("What the token may do"),
        choices=[SelectChoice(scope, scope) for scope in ALL_SCOPES],
        validators=[DataRequired(message=_l("Choose at least one thing the token may do."))],
    )
    days = RadioField(
        _l("Valid for"),
        choices=[SelectChoice(str(n), _ln("%(num)d day", "%(num)d days", n)) for n in LIFETIMES],
        default=str(LIFETIMES[1]),
        validators=[DataRequired()],
    )
