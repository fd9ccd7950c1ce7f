"""How a consent was given, stored as facts (who, from where, when) rather than as a sentence,
so that a page says it in its reader's language (campaign.labels.consent_how).

The consent's `method` says which way it was given; its `source` holds the facts as JSON. Rows
written before held an English sentence: `facts_of` reads those back into the same facts.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

# The sentences older rows hold, by the facts they name.
LEGACY = (
    re.compile(r"^added by (?P<by>.+)$"),
    re.compile(
        r"^self-enrolment form sent from (?P<asked_from>\S*) at (?P<asked_at>\S+);"
        r" confirmed by the e-mail link from (?P<confirmed_from>\S*) at (?P<confirmed_at>\S+)$"
    ),
    re.compile(r"^import #(?P<import_id>\d+) of (?P<file>.*) by (?P<by>.+)$"),
)
INSTANTS = ("asked_at", "confirmed_at")


def source_of(**facts: str | int | datetime | None) -> str:
    """Return a consent's `source`: its facts as JSON (instants as ISO 8601)."""
    plain = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in facts.items()}
    return json.dumps(plain, ensure_ascii=False, sort_keys=True)


def facts_of(source: str) -> dict[str, Any]:
    """Return the facts of a consent's `source` (instants as datetimes); {} when it is a text
    that says them in no known way."""
    facts = _parsed(source)
    for key in INSTANTS:
        if isinstance(facts.get(key), str):
            facts[key] = datetime.fromisoformat(facts[key])
    return facts


def exported(source: str) -> dict[str, Any] | str:
    """Return a consent's `source` for a data export: its facts as stored, or its sentence."""
    return (_parsed(source) if source.startswith("{") else {}) or source


def _parsed(source: str) -> dict[str, Any]:
    if source.startswith("{"):
        try:
            loaded = json.loads(source)
        except ValueError:  # cut short at the column's length
            return {}
        return loaded if isinstance(loaded, dict) else {}
    for pattern in LEGACY:
        if match := pattern.match(source):
            found = match.groupdict()
            return {**found, "by": None} if found.get("by") == "the command line" else found
    return {}
