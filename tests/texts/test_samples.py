"""Each editable mail text is checked and previewed with the placeholders of the code that really
sends it: here every sender runs, and what it fills is compared with the text's sample."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from campaign.enrolment import joining
from campaign.enrolment.models import PilotGroup
from campaign.events import invitations, letters
from campaign.inbound import notices
from campaign.mailtexts.catalogue import TEXTS, sample_context
from campaign.outbox.inbound import InboundOutcome
from campaign.outbox.texts import Letter, mail_template
from campaign.retention import due
from campaign.succession import returning
from campaign.surveys.invitations import queue_questionnaires
from tests.conftest import START, Network, SecondCampaign
from tests.enrolment_helpers import group, make_event
from tests.outbox_helpers import participant

Filled = dict[str, set[frozenset[str]]]


@pytest.fixture
def filled(monkeypatch: pytest.MonkeyPatch) -> Iterator[Filled]:
    """Record, by template name, the placeholders each rendering of a mail text is given."""
    seen: Filled = {}
    render = Letter.render

    def spy(self: Letter, context: Any, **kwargs: Any) -> Any:
        name = Path(self.origin).name.split(".")[0]
        seen.setdefault(name, set()).add(frozenset(context))
        return render(self, context, **kwargs)

    monkeypatch.setattr(Letter, "render", spy)
    yield seen


def _send_everything(session: Session, network: Network, second: SecondCampaign) -> None:
    """Queue one mail of each kind a lead administrator may reword, through its real sender."""
    target = group(session, network)
    person = participant(session, network, "anna@alpha.se", name="Anna Berg")
    person.pilot_group_id = target.id
    event = make_event(session, network, target)
    invitations.invite(session, event, START)
    queue_questionnaires(session, datetime(2014, 3, 3, 9, 0, tzinfo=UTC))
    queue_questionnaires(session, datetime(2014, 3, 10, 9, 0, tzinfo=UTC))
    joining.open_link(target)
    applicant = joining.Applicant("ny@alpha.se", "Ny", "", "sv", "127.0.0.1", "sv")
    joining.request_confirmation(session, target, applicant, START)
    invitations_sent(session, network)
    due.warn(session, network.campaign, START + timedelta(days=500))
    row = SimpleNamespace(id=1, campaign_id=network.campaign.id, outcome=InboundOutcome.APPLIED)
    notices.tell_lead_admins(session, SimpleNamespace(row=row, now=START))  # type: ignore[arg-type]
    session.add(PilotGroup(
        campaign_id=second.campaign.id, organisation_id=network.alpha.id, name=target.name,
        kind=target.kind, starts_on=target.starts_on, sequence_name="pilot-group", created_at=START,
    ))  # fmt: skip
    session.flush()
    returning.invite_returning(session, network.campaign, second.campaign, None, START)


def invitations_sent(session: Session, network: Network) -> None:
    """A representative's invitation, sent from the campaign."""
    from campaign.accounts.invitations import send_link

    send_link(session, network.rep_beta, "invitation", START, network.campaign.id)


def test_every_sample_has_the_placeholders_its_sender_fills(
    app: Flask, session: Session, network: Network, second_campaign: SecondCampaign, filled: Filled
) -> None:
    with app.test_request_context():
        _send_everything(session, network, second_campaign)
    event = make_event(session, network)
    meeting = set(letters.context_of(event, "sv", "Hej!", "https://x/rsvp/t"))
    for text in TEXTS:
        for language in ("sv", "en"):
            sample = set(sample_context(text.name, language, "Kampanjen", "https://x"))
            if text.name.startswith("event-"):  # one context for every mail of a meeting
                assert sample == meeting, text.name
            elif text.name == "_event-details":  # filled before the details are there
                assert sample == meeting - {"details"}
            else:
                assert filled.get(text.name) == {frozenset(sample)}, (text.name, language)


def test_every_shipped_text_passes_its_own_check() -> None:
    from campaign.mailtexts.editing import problems_of, shipped_draft

    for text in TEXTS:
        for language in ("sv", "en"):
            draft = shipped_draft(text.name, language)
            context = sample_context(text.name, language, "Kampanjen", "https://x")
            assert problems_of(draft, draft, context) == [], (text.name, language)
            if not text.name.startswith("_"):  # a part has no front matter
                assert mail_template(text.name, language).body == draft.body
