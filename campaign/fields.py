"""Form fields for numbers as people write them in the page's language: 0,133 and 238 407 in
Swedish (0.133 is read too), 0.133 and 238,407 in English; parsed and shown again by Babel.

A text input with an `inputmode`, not `type="number"`: browsers refuse a space in a number
input, and some send an empty value for a decimal comma they do not expect.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from wtforms import Field
from wtforms.validators import StopValidation
from wtforms.widgets import TextInput

from campaign.i18n import number_text, page_locale, parse_number


class NumberInput(TextInput):
    """A text input that brings up a keyboard for numbers on a phone."""

    def __init__(self, inputmode: str) -> None:
        super().__init__()
        self.inputmode = inputmode

    def __call__(self, field: Field, **kwargs: Any) -> Any:
        kwargs.setdefault("inputmode", self.inputmode)
        return super().__call__(field, **kwargs)


class LocalNumberField(Field):
    """A number typed the way the page's language writes it; `data` is a float (None if empty)."""

    widget = NumberInput("decimal")

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return "" if self.data is None else number_text(self.data, page_locale())

    def process_formdata(self, valuelist: list[Any]) -> None:
        text = str(valuelist[0]).strip() if valuelist else ""
        self.data = None
        if text:
            try:
                self.data = self.convert(parse_number(text, page_locale()))
            except ValueError:
                raise ValueError(self.refusal()) from None

    def pre_validate(self, form: Any) -> None:
        """Say nothing more of a value that is not a number (no range of a number not read)."""
        if self.process_errors:
            raise StopValidation()

    def convert(self, number: Decimal) -> Any:
        """Return the parsed number as the field's data."""
        return float(number)

    def refusal(self) -> str:
        """Return what is said about a value that is not a number."""
        return _("Not a number: write for example %(example)s.", example=_example(0.133))


class LocalIntegerField(LocalNumberField):
    """A whole number, with its thousands grouped if one likes (238 407); `data` is an int."""

    widget = NumberInput("numeric")

    def convert(self, number: Decimal) -> Any:
        """Return the number as an int; refuse one with decimals."""
        if number != number.to_integral_value():
            raise ValueError(f"not a whole number: {number}")
        return int(number)

    def refusal(self) -> str:
        """Return what is said about a value that is not a whole number."""
        return _("Not a whole number: write for example %(example)s.", example=_example(238_407))


def _example(value: float) -> str:
    """Return an example number as the page's language writes it."""
    return number_text(value, page_locale())
