"""Forms of the network domain: a member's facts, and adding a member."""

from __future__ import annotations

from typing import Any

from email_validator import EmailNotValidError
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
    ValidationError,
)
from wtforms.fields import SelectChoice
from wtforms.validators import URL, Email, InputRequired, Length, NumberRange, Optional, Regexp

from campaign import labels
from campaign.fields import LocalIntegerField, LocalNumberField
from campaign.network import senders
from campaign.network.models import MembershipStatus, OrganisationKind
from campaign.plaintext import NoControlCharacters, WebLink, unix_lines
from campaign.timing import PlausibleDay, is_zone_name


def _count(label: str, description: str = "") -> LocalIntegerField:
    return LocalIntegerField(
        label,
        validators=[Optional(), NumberRange(min=0, max=10_000_000)],
        description=description,
    )


class MemberFactsForm(FlaskForm):
    """What a representative reports about their own organisation."""

    meeting_software = StringField(
        _l("Web meeting software"),
        validators=[Length(max=200), NoControlCharacters()],
        description=_l("For example Lync, Adobe Connect or Teams."),
    )
    software_comment = StringField(
        _l("Who has the software"),
        validators=[Length(max=300), NoControlCharacters()],
        description=_l("For example: all employees, parts of the staff, tested by IT."),
    )
    people_reached = _count(_l("People reached by information"))
    people_with_access = _count(_l("People given access to the software"))
    starting_point_md = TextAreaField(
        _l("Starting point"),
        validators=[Length(max=20_000), NoControlCharacters(multiline=True)],
        filters=[unix_lines],
        description=_l("How things were before the agreement. Markdown is allowed."),
    )
    work_done_md = TextAreaField(
        _l("What we have done"),
        validators=[Length(max=20_000), NoControlCharacters(multiline=True)],
        filters=[unix_lines],
        description=_l("Markdown."),
    )
    tips_md = TextAreaField(
        _l("Tips for others"),
        validators=[Length(max=20_000), NoControlCharacters(multiline=True)],
        filters=[unix_lines],
        description=_l("One tip per line, starting with a dash."),
    )
    contact_name = StringField(
        _l("Contact person"), validators=[Length(max=200), NoControlCharacters()]
    )
    contact_title = StringField(
        _l("Contact person's title"), validators=[Length(max=200), NoControlCharacters()]
    )
    guide_url = URLField(
        _l("Link to your guide"),
        validators=[Optional(), WebLink(), URL(require_tld=True), Length(max=1000)],
        description=_l("Your intranet page on the meeting software; the e-mails link to it."),
    )
    contact_email = EmailField(
        _l("Contact person's e-mail"), validators=[Optional(), Email(), Length(max=320)]
    )

    def facts(self) -> dict[str, Any]:
        """Return the facts (and status) of a valid form by field name: the texts trimmed, the
        address in lower case."""
        changes = {name: field.data for name, field in self._fields.items()}
        changes.pop("csrf_token", None)
        if "status" in changes:
            changes["status"] = MembershipStatus(changes["status"])
        texts = ("meeting_software", "software_comment", "contact_name", "contact_title")
        for name in (*texts, "guide_url"):
            changes[name] = (changes[name] or "").strip()
        changes["contact_email"] = (changes["contact_email"] or "").strip().lower()
        return changes


class LeadMembershipForm(MemberFactsForm):
    """The facts plus what only the lead administrator decides."""

    status = SelectField(
        _l("Status"), choices=labels.choices(MembershipStatus), coerce=labels.value_of
    )
    enrolment_target = _count(
        _l("Enrolment target"), _l("How many pilot users the member aims to enrol.")
    )


class NewMemberForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[Length(min=2, max=200), NoControlCharacters()])
    short_name = StringField(
        _l("Short name"),
        validators=[Length(min=2, max=100), NoControlCharacters()],
        description=_l("As it appears in tables, for example Lilla Edet."),
    )
    slug = StringField(
        _l("Address name"),
        validators=[
            Optional(),
            Length(max=64),
            Regexp(r"^[a-z0-9]+(-[a-z0-9]+)*$", message=_l("Use a-z, 0-9 and hyphens only.")),
        ],
        description=_l("Used in addresses; made from the short name if left empty."),
    )
    kind = SelectField(_l("Kind"), choices=labels.choices(OrganisationKind))
    status = SelectField(
        _l("Status"), choices=labels.choices(MembershipStatus), coerce=labels.value_of
    )
    meeting_software = StringField(
        _l("Web meeting software"), validators=[Length(max=200), NoControlCharacters()]
    )
    software_comment = StringField(
        _l("Who has the software"), validators=[Length(max=300), NoControlCharacters()]
    )


class CampaignForm(FlaskForm):
    """The campaign's own settings, decided by the lead organisation."""

    name = StringField(_l("Name"), validators=[Length(min=2, max=200), NoControlCharacters()])
    starts_on = DateField(_l("Starts"), validators=[PlausibleDay()])
    ends_on = DateField(
        _l("Ends"),
        validators=[PlausibleDay()],
        description=_l(
            "The last day participants get mail. A new date plans their next e-mails again."
        ),
    )
    has_early_invitations = BooleanField(_l("Send meeting invitations before the start"))
    timezone = StringField(
        _l("Time zone"),
        validators=[Length(min=3, max=64)],
        description=_l("Times of sending are computed in it, for example Europe/Stockholm."),
    )
    language = SelectField(
        _l("Language of the content"),
        choices=[SelectChoice("sv", "Svenska"), SelectChoice("en", "English")],
    )
    rate_limit_per_minute = LocalIntegerField(
        _l("Most e-mails per minute"),
        validators=[Optional(), NumberRange(min=1, max=100_000)],
        description=_l(
            "Protects your organisation's mail server. Ask IT what it accepts; "
            "leave empty for no limit."
        ),
    )
    retention_months = LocalIntegerField(
        _l("Months personal data is kept after the end"),
        validators=[InputRequired(), NumberRange(min=0, max=120)],
        description=_l(
            "Then participants' names, addresses, free-text answers, consents and e-mail are"
            " deleted automatically; counts and the report's figures are kept. The lead"
            " administrators are told by e-mail 30 days before."
        ),
    )

    co2_kg_per_km = LocalNumberField(
        _l("CO2 per km of travel (kg)"),
        validators=[InputRequired(), NumberRange(min=0, max=10)],
        description=_l(
            "For the final report. 0.133 is the average car in traffic in Sweden in 2022"
            " (Statistics Sweden)."
        ),
    )
    cost_per_km = LocalNumberField(
        _l("Cost per km of travel (kronor)"),
        validators=[InputRequired(), NumberRange(min=0, max=1000)],
        description=_l("2.50 is Skatteverket's tax-free mileage allowance for one's own car."),
    )
    cost_per_hour = LocalNumberField(
        _l("Value of an hour of travel time (kronor)"),
        validators=[Optional(), NumberRange(min=0, max=100_000)],
        description=_l("Leave empty to leave time out of the money saved."),
    )

    def validate_ends_on(self, field: DateField) -> None:
        if self.starts_on.data and field.data and field.data < self.starts_on.data:
            raise ValidationError(_l("The campaign cannot end before it starts."))

    def validate_timezone(self, field: StringField) -> None:
        if not is_zone_name((field.data or "").strip()):
            raise ValidationError(_l("Not a known time zone; use a name such as Europe/Stockholm."))


class SenderForm(FlaskForm):
    """How a member's participants see who their mail comes from (network/senders.py)."""

    display_name = StringField(
        _l("Sender name"),
        validators=[Length(max=100), NoControlCharacters()],
        filters=[lambda text: (text or "").strip()],
        description=_l(
            "Shown as the sender of your participants' e-mail, for example “Ale kommun – Resfria"
            " möten”. The address stays the campaign's own. Empty: the campaign's sender name."
        ),
    )
    reply_to = StringField(
        _l("Reply-To address"),
        validators=[Length(max=320), NoControlCharacters()],
        filters=[lambda text: (text or "").strip()],
        description=_l(
            "Where your participants' answers go: an address at your organisation that a person"
            " reads. Empty: no Reply-To."
        ),
    )
    logo = FileField(
        _l("Logo"),
        description=_l(
            "PNG or JPEG, at most 200 KB, shown at the top of the HTML e-mail (its text is your"
            " organisation's name). Leave empty to keep the logo you have."
        ),
    )
    remove_logo = BooleanField(_l("Remove the logo"))
    logo_bytes: bytes | None = None  # the checked upload, set by validate_logo

    def validate_display_name(self, field: StringField) -> None:
        if not senders.name_is_plain(field.data or ""):
            raise ValidationError(
                _l("A sender name is a name only: without @, < >, quotation marks or backslashes.")
            )

    def validate_reply_to(self, field: StringField) -> None:
        if field.data:
            try:
                field.data = senders.reply_address(field.data)
            except EmailNotValidError as error:
                raise ValidationError(NOT_AN_ADDRESS) from error

    def validate_logo(self, field: FileField) -> None:
        upload = field.data
        if not isinstance(upload, FileStorage) or not upload.filename:
            return
        try:
            self.logo_bytes = senders.read_logo(upload.stream)
            senders.logo_type(self.logo_bytes)
        except senders.LogoRefused as refused:
            raise ValidationError(LOGO_REFUSED[refused.reason]) from refused

    def changes(self) -> dict[str, object]:
        """Return the sender settings of a valid form (the logo: new bytes, None, or KEEP)."""
        logo: object = None if self.remove_logo.data else (self.logo_bytes or senders.KEEP)
        texts = {"display_name": self.display_name.data, "reply_to": self.reply_to.data}
        return {**texts, "logo": logo}


NOT_AN_ADDRESS = _l("Not an e-mail address that mail can be sent to.")
LOGO_REFUSED = {
    "large": _l("The logo is larger than 200 KB; make it smaller and upload it again."),
    "type": _l("This is not a PNG or JPEG image (at most 2000 pixels on a side)."),
}
