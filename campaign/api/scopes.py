"""A token's scopes in words: each kind of resource of the API (tokens.RESOURCES) by a name a
person reads, and a scope such as "participants:write" as "Participants: read and change"."""

from __future__ import annotations

from flask import Flask
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

RESOURCE_NAMES: dict[str, object] = {
    "campaigns": _l("Campaigns"),
    "members": _l("Members and their facts"),
    "groups": _l("Pilot groups"),
    "participants": _l("Participants"),
    "imports": _l("Imports of participants"),
    "events": _l("Meetings, invitations and attendance"),
    "questionnaires": _l("Questionnaire results"),
    "reports": _l("Report figures"),
    "outbox": _l("The outbox's e-mails"),
}
LEVEL_NAMES: dict[str, object] = {"read": _l("read"), "write": _l("read and change")}


def said(scope: str) -> str:
    """Say a scope in the request's language ("read" is "Everything: read"); an unknown one
    as it is."""
    resource, _sep, level = scope.rpartition(":")
    if level not in LEVEL_NAMES or (resource and resource not in RESOURCE_NAMES):
        return scope
    what = RESOURCE_NAMES[resource] if resource else _("Everything")
    return _("%(what)s: %(level)s", what=what, level=LEVEL_NAMES[level])


def init_app(app: Flask) -> None:
    """Give the templates the filter `scope`."""
    app.jinja_env.filters["scope"] = said
