"""The pages' forms as the API's rules: a body the request model has typed is checked again by
the form of the page that does the same, so that both accept and refuse the same values with
the same sentences (lengths, control characters, addresses, days, choices, consent boxes).

    form = checked(PauseForm, {"until": body.until})

The form is filled with the body's values written as a browser sends them (so that every
validator, InputRequired too, sees what it sees from a page), never with the request's own
form fields, and it carries no CSRF token (a bearer token authenticates the API: there is
nothing to forge).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, TypeVar

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage, MultiDict

from campaign.api.problems import Problem

F = TypeVar("F", bound=FlaskForm)


def filled(form_class: type[F], data: Mapping[str, Any]) -> F:
    """Return the page's form filled with `data` (by field name), unchecked."""
    return form_class(formdata=as_sent(data), meta={"csrf": False})


def as_sent(data: Mapping[str, Any]) -> MultiDict[str, Any]:
    """Return values as a browser's form sends them: a ticked box as "y", days in ISO 8601,
    choices by value; None and an unticked box not at all; a file as it came."""
    sent: MultiDict[str, Any] = MultiDict()
    for name, value in data.items():
        if value is None or value is False:
            continue
        if value is True:
            value = "y"
        elif isinstance(value, enum.Enum):
            value = value.value
        elif isinstance(value, date):
            value = value.isoformat()
        sent.add(name, value if isinstance(value, FileStorage) else str(value))
    return sent


def checked(
    form_class: type[F],
    data: Mapping[str, Any],
    *,
    names: Mapping[str, str] | None = None,
    prepare: Callable[[F], None] | None = None,
) -> F:
    """Return the form filled with `data` once it is valid; else a 422 problem naming each
    field (by its API name: `names` maps a form field to it) with the form's sentence.
    `prepare` sets what the page sets before validating (a select's choices)."""
    form = filled(form_class, data)
    if prepare is not None:
        prepare(form)
    if not form.validate():
        raise invalid(form.errors, names or {})
    return form


def invalid(errors: Mapping[str, Any], names: Mapping[str, str]) -> Problem:
    """Return the 422 problem of a form's errors, each under the field's API name."""
    fields = [
        {"field": names.get(name, name), "detail": str(message)}
        for name, messages in errors.items()
        for message in messages
    ]
    return Problem(422, _("Some fields are not valid."), code="invalid_input", errors=fields)


def refused(field: str, detail: str, *, status: int = 422, code: str = "invalid_input") -> Problem:
    """Return a problem about one field, saying `detail` (the page's sentence) about it."""
    return Problem(status, detail, code=code, errors=[{"field": field, "detail": detail}])
