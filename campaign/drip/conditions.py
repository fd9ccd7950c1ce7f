"""What a step depends on: the conditions of `unless:` and `only_if:`, and what it counts from.

Conditions, as a step file names them:

    attended_practice_meeting, declined_invitation, answered_baseline   (the first three)
    answered:follow-up                    the participant has answered that questionnaire
    answer:baseline.experience=weekly     their answer to a single-choice question
    attended:training                     they attended a meeting of that kind

Anchors: `start`, `campaign_end`, a kind of meeting (one mail per meeting), or a milestone,
`milestone:teams` (campaign/milestones: the campaign's date, or the member's own).

This module reads the text only; whether a campaign has that questionnaire, question, option or
milestone is campaign/drip/known.py's question, who meets a condition campaign/drip/facts.py's,
and how a page says one campaign/labels.py's (`|condition`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from flask_babel import lazy_gettext as _l

from campaign.events.models import EventKind

FIXED = {
    "attended_practice_meeting": _l("the participant has attended a practice meeting"),
    "declined_invitation": _l("the participant has declined an invitation"),
    "answered_baseline": _l("the participant has answered the baseline questionnaire"),
}
EVENT_KINDS = tuple(kind.value for kind in EventKind)
# What an offset counts from besides a milestone: the participant's start, the campaign's last
# day, or the day of each meeting of a kind the participant is invited to (one mail per meeting).
EVENT_ANCHORS = ("practice_meeting", "training", "webinar")
ANCHORS = ("start", "campaign_end", *EVENT_ANCHORS)
_SLUG = r"[a-z0-9][a-z0-9_-]*"
ANSWERED = re.compile(rf"^answered:(?P<questionnaire>{_SLUG})$")
ANSWER = re.compile(
    rf"^answer:(?P<questionnaire>{_SLUG})\.(?P<question>[A-Za-z_]\w*)=(?P<value>.+)$"
)
ATTENDED = re.compile(r"^attended:(?P<kind>\w+)$")
MILESTONE = re.compile(r"^milestone:(?P<name>[a-z0-9][a-z0-9_-]{0,39})$")
KNOWN = (
    f"{', '.join(FIXED)}, answered:<questionnaire>, answer:<questionnaire>.<question>=<option>,"
    " attended:<kind of meeting>"
)


@dataclass(frozen=True)
class Condition:
    """A condition as read: its kind (fixed, answered, answer, attended) and what it names."""

    text: str
    kind: str
    questionnaire: str = ""
    question: str = ""
    value: str = ""
    event_kind: str = ""


def read(text: str) -> Condition | None:
    """Return the condition a step names, or None when it cannot be read."""
    if text in FIXED:
        return Condition(text, "fixed")
    if found := ANSWERED.match(text):
        return Condition(text, "answered", questionnaire=found["questionnaire"])
    if found := ANSWER.match(text):
        return Condition(text, "answer", found["questionnaire"], found["question"], found["value"])
    if (found := ATTENDED.match(text)) and found["kind"] in EVENT_KINDS:
        return Condition(text, "attended", event_kind=found["kind"])
    return None


def unreadable(text: object) -> str | None:
    """Say why a condition cannot be read; None when it can."""
    if isinstance(text, str) and read(text) is not None:
        return None
    shown = repr(text)
    if isinstance(text, dict):  # `answered: x` or `answered:` is YAML for a mapping
        return f"cannot read {shown}: write a condition as one word, such as answered:follow-up"
    if not isinstance(text, str):
        return f"unknown condition {shown}; known: {KNOWN}"
    if text.startswith("answered:"):
        return f"cannot read {shown}: write answered:<questionnaire>, such as answered:follow-up"
    if text.startswith("answer:"):
        return (
            f"cannot read {shown}: write answer:<questionnaire>.<question>=<option>,"
            " such as answer:baseline.experience=weekly"
        )
    if text.startswith("attended:"):
        return f"unknown kind of meeting in {shown}; known: {', '.join(EVENT_KINDS)}"
    return f"unknown condition {shown}; known: {KNOWN}"


def milestone_of(anchor: str) -> str | None:
    """Return the milestone an anchor names (`milestone:teams`), or None for another anchor."""
    found = MILESTONE.match(anchor)
    return found["name"] if found else None


def anchor_problem(anchor: str) -> str | None:
    """Say why a step cannot count from `anchor`; None when it can."""
    if anchor in ANCHORS or milestone_of(anchor) is not None:
        return None
    if anchor.startswith("milestone:"):
        return f"cannot read {anchor!r}: a milestone's name has lowercase letters, digits, - and _"
    return f"unknown anchor {anchor!r}; use {', '.join(ANCHORS)} or milestone:<name>"


def named_in(steps: Iterable[Conditional]) -> set[str]:
    """Return every condition the steps name (under `unless` or `only_if`)."""
    return {c for step in steps for c in (*step.unless, *step.only_if)}


class Conditional(Protocol):
    """A step, as far as its conditions go."""

    @property
    def unless(self) -> tuple[str, ...]: ...

    @property
    def only_if(self) -> tuple[str, ...]: ...
