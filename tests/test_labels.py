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
from campaign.webhooks.models import DeliveryState

SHOWN = (
    LockKind, ImportState, ParticipantStatus, PilotGroupKind, RowOutcome, Audience, EventKind,
    Rsvp, MembershipStatus, OrganisationKind, MessageKind, MessageState, SuppressionReason, Phase,
    Role, Standing, DeliveryState,
)  # fmt: skip
BADGED = (MembershipStatus, ImportState, RowOutcome, MessageState, Phase, Standing, DeliveryState)


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


def test_every_audit_action_the_code_records_has_a_label() -> None:
    from campaign.network.views.audit import ACTIONS
    from tests.swedish_text import audit_actions

    assert sorted(audit_actions() - set(ACTIONS)) == []


def test_every_sequence_has_a_name(app: Flask) -> None:
    from campaign.drip.files import load_sequences

    sequences, _problems = load_sequences()
    assert sorted(set(sequences) - set(labels.SEQUENCES)) == []


def test_answers_the_service_writes_are_said_in_the_request_language(app: Flask) -> None:
    with app.test_request_context(), force_locale("sv"):
        assert labels.answer("skipped: not answered_baseline") == (
            "Hoppades över: det gäller inte att deltagaren har svarat på startenkäten"
        )
        assert labels.answer("cancelled by rep@alpha.se") == "Stoppat av rep@alpha.se"
        # The server's own words, as they came, marked as its language and escaped.
        assert labels.answer("250 OK") == '<span lang="en">250 OK</span>'
        escaped = '<span lang="en">550 &lt;a@b.se&gt; unknown</span>'
        assert labels.answer("550 <a@b.se> unknown") == escaped


def test_consent_written_as_a_sentence_before_is_said_in_the_request_language(app: Flask) -> None:
    from campaign.enrolment.models import Consent, ConsentMethod

    old = Consent(
        method=ConsentMethod.SELF_ENROLMENT,
        source="self-enrolment form sent from 127.0.0.1 at 2026-12-03T07:55:12.628069+00:00;"
        " confirmed by the e-mail link from 10.0.0.2 at 2026-12-03T07:58:00+00:00",
    )
    with app.test_request_context(), force_locale("sv"):
        said = labels.consent_how(old)
    assert said == (
        "Skickade formuläret för självanmälan från 127.0.0.1 den 3 december 2026 kl. 08.55 och"
        " bekräftade med länken i e-postmeddelandet från 10.0.0.2 den 3 december 2026 kl. 08.58"
    )
    added = Consent(method=ConsentMethod.STAFF_FORM, source="added by rep@alpha.se")
    with app.test_request_context(), force_locale("sv"):
        assert labels.consent_how(added).startswith("Tillagd av rep@alpha.se")


def test_audit_details_are_said_in_words(app: Flask) -> None:
    from campaign.network.views import audit

    kept = {"fields": ["people_reached", "ends_on"], "method": "staff_form", "how": "by a@b.se",
            "old": {"starts_on": "2014-01-01"}, "via": "command line", "count": 3}  # fmt: skip
    with app.test_request_context(), force_locale("sv"):
        said = audit.details(kept)
        action, target = audit.action("participant.enrolled"), audit.target("participant:3")
    assert said == [
        ("Ändrat", "Personer som nåtts av information, Slutar"),
        ("Sätt", "Tillagd av en representant"),
        ("Hur", "av a@b.se"),
        ("Före", "Startar: 1 januari 2014"),
        ("Via", "kommandoraden"),
        ("Antal", "3"),
    ]
    assert (action, target) == ("Anmälde en deltagare", "Deltagare 3")
