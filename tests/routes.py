"""Every route of the app, and a URL for each with real objects filled in."""

from __future__ import annotations

import re

from flask import Flask

# The signed links of each public page (the `token` of the URL differs by purpose).
TOKEN_OF = {
    "outbox.unsubscribe_page": "token",
    "enrolment.join": "join_token",
    "enrolment.join_confirm": "confirm_token",
    "accounts.accept_invitation": "invitation_token",
    "accounts.reset_password": "reset_token",
    "events.feed": "feed_token",
    "events.rsvp": "rsvp_token",
    "events.rsvp_calendar": "rsvp_token",
    "surveys.answer": "questionnaire_token",
}


def url_of(rule: str, values: dict[str, str]) -> str:
    """Fill a rule's <parameters> from `values` (a campaign's page takes its slug as `campaign`:
    the rule of every such page starts with /campaigns/<campaign>/)."""
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], rule)


def routes(app: Flask, *, api: bool = False) -> list[tuple[str, str, str]]:
    """Return (endpoint, rule, method) for every page's route (static files excepted), or with
    `api` every route of the REST API (tests/api/test_matrix.py is its role matrix)."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule.startswith("/api/") is not api:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, rule.rule, method))
    return found
