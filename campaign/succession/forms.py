"""The form that starts the next campaign: its name, address name, period, and whether last
year's pilot users are asked to join again. What makes a plan wrong is decided once, by
campaign/succession/copying.py, for this form and the command line alike."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, StringField
from wtforms.validators import InputRequired


class NextCampaignForm(FlaskForm):
    name = StringField(
        _l("Name"), validators=[InputRequired()],
        description=_l("For example Resfria möten 2026–2027."),
    )  # fmt: skip
    slug = StringField(
        _l("Address name"),
        description=_l("Used in addresses; made from the name if left empty."),
    )
    starts_on = DateField(_l("Starts"), validators=[InputRequired()])
    ends_on = DateField(_l("Ends"), validators=[InputRequired()])
    returning = BooleanField(
        _l("Invite last time's pilot users to join again"),
        description=_l(
            "Each active or completed pilot user gets one e-mail with the link to their pilot"
            " group in the new campaign; they are enrolled only if they join and confirm."
        ),
    )
