"""Enum labels are named once (campaign/labels.py) and read in the page's language."""

from __future__ import annotations

import enum

import pytest
from flask import Flask, render_template_string
from flask_babel import force_locale

from campaign import labels
from campaign.accounts.models import Role
from campaign.accounts.roles import Standing
from campaign.accounts.throttle import LockKind
from campaign.enrolment.models import ImportState, ParticipantStatus, PilotGroupKind, RowOutcome
from campaign.events.models import Audience, EventKind, Rsvp
from campaign.network.models import MembershipStatus, OrganisationKind
from campaign.network.phases import Phase
from campaign.outbox.models import MessageKind, MessageState, SuppressionReason

SHOWN = (
    LockKind, ImportState, ParticipantStatus, PilotGroupKind, RowOutcome, Audience, EventKind,
    Rsvp, MembershipStatus, OrganisationKind, MessageKind, MessageState, SuppressionReason, Phase,
    Role, Standing,
)  # fmt: skip
BADGED = (MembershipStatus, ImportState, RowOutcome, MessageState, Phase, Standing)


@pytest.mark.parametrize("kind", SHOWN)
def test_every_member_of_a_shown_enum_has_a_label(kind: type[enum.Enum]) -> None:
    assert [m for m in kind if m not in labels.LABELS] == []


@pytest.mark.parametrize("kind", BADGED)
def test_every_member_of_a_badged_enum_has_a_colour(kind: type[enum.Enum]) -> None:
    assert [m for m in kind if m not in labels.BADGES] == []


def test_labels_speak_the_request_language(app: Flask) -> None:
    page = "{{ kind|label }} · {{ kind|plural }} · {{ status|badge }}"
    values = {"kind": OrganisationKind.MUNICIPALITY, "status": MembershipStatus.SIGNED}
    with app.test_request_context(), force_locale("sv"):
        swedish = render_template_string(page, **values)
    with app.test_request_context(), force_locale("en"):
        english = render_template_string(page, **values)
    badge = '<span class="badge badge-signed">{}</span>'
    assert swedish == "Kommun · Kommuner · " + badge.format("Har skrivit på")
    assert english == "Municipality · Municipalities · " + badge.format("Signed")


def test_form_choices_use_fuller_words_where_a_form_asks(app: Flask) -> None:
    with app.test_request_context(), force_locale("en"):
        offered = [(c.value, str(c.label)) for c in labels.choices(MembershipStatus)]
        kinds = [str(c.label) for c in labels.choices([EventKind.WEBINAR, EventKind.TRAINING])]
    assert offered == [
        ("signed", "Signed the agreement"),
        ("informal", "Takes part without signing"),
    ]
    assert kinds == ["Webinar", "Training"]
