"""The form that sets up a webhook: the receiver's address and the events it hears of."""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from campaign.webhooks.models import URL_LENGTH, DeliveryState
from campaign.webhooks.payloads import SUBSCRIBABLE

# What each event type is called in the UI (the type itself stays English, as receivers see it).
EVENT_LABELS = {
    "participant.enrolled": _l("A participant was enrolled"),
    "participant.confirmed": _l("A person confirmed joining through a link"),
    "participant.paused": _l("A participant was paused"),
    "participant.unsubscribed": _l("A participant unsubscribed"),
    "participant.bounced": _l("A participant's address bounced"),
    "participant.erased": _l("A participant was erased"),
    "rsvp.changed": _l("An answer to a meeting changed"),
    "attendance.marked": _l("Attendance at a meeting was marked"),
    "questionnaire.answered": _l("A questionnaire was answered"),
    "message.failed": _l("An e-mail could not be delivered"),
    "import.applied": _l("A list of participants was imported"),
    "campaign.phase_changed": _l("The campaign started, ended, was archived, reopened or purged"),
}

# A delivery's state, and its badge's colour (campaign/labels.py gathers them with the others).
STATE_LABELS: dict[enum.Enum, object] = {
    DeliveryState.PENDING: _l("Waiting"),
    DeliveryState.SENDING: _l("Sending"),
    DeliveryState.RETRYING: _l("Will retry"),
    DeliveryState.SUCCEEDED: _l("Delivered"),
    DeliveryState.FAILED: _l("Failed"),
}
STATE_BADGES: dict[enum.Enum, str] = {
    DeliveryState.PENDING: "badge-lead",
    DeliveryState.SENDING: "badge-lead",
    DeliveryState.RETRYING: "badge-informal",
    DeliveryState.SUCCEEDED: "badge-signed",
    DeliveryState.FAILED: "badge-muted",
}


class Checkboxes(SelectMultipleField):
    """A list of checkboxes, one per choice."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class WebhookForm(FlaskForm):
    """Set up a receiver of events."""

    url = StringField(
        _l("Receiver address"),
        validators=[DataRequired(), Length(max=URL_LENGTH)],
        filters=[lambda text: (text or "").strip()],
        description=_l("An https:// address of your system that accepts the events."),
    )
    events = Checkboxes(
        _l("Events"),
        choices=[SelectChoice(name, EVENT_LABELS[name]) for name in SUBSCRIBABLE],
        validators=[DataRequired(message=_l("Choose at least one event."))],
    )
