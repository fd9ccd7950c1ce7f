"""The lookup every campaign mail makes: the campaign's own text, read once per transaction; a
broken one never stops a send (the shipped text goes, and the log says why)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from campaign.events import invitations
from campaign.outbox.compose import Footer
from campaign.outbox.models import Message
from campaign.outbox.texts import mail_template
from campaign.outbox.wording import MailText, campaign_letter
from tests.conftest import START, Network
from tests.enrolment_helpers import group, make_event
from tests.outbox_helpers import participant


def _store(session: Session, network: Network, **fields: Any) -> MailText:
    row = MailText(
        campaign_id=network.campaign.id, name="event-invitation", language="sv",
        subject="Eget: {{ title }}", reason="Arbetsgruppen.", body="{{ greeting }} Eget.",
        updated_at=START,
    )  # fmt: skip
    for key, value in fields.items():
        setattr(row, key, value)
    session.add(row)
    session.commit()
    return row


def test_the_stored_texts_are_read_once_per_transaction(session: Session, network: Network) -> None:
    _store(session, network)
    statements: list[str] = []
    engine = session.get_bind()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM mail_text" in statement:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        for _ in range(100):
            letter = campaign_letter(session, network.campaign.id, "event-invitation", "sv")
        assert letter.subject == "Eget: {{ title }}" and len(statements) == 1
        session.commit()  # a later transaction (the next job run, say) sees a change
        session.query(MailText).update({"subject": "Nytt"})
        session.commit()
        assert (
            campaign_letter(session, network.campaign.id, "event-invitation", "sv").subject
            == "Nytt"
        )
        assert len(statements) == 2
    finally:
        event.remove(engine, "before_cursor_execute", count)


@pytest.mark.parametrize(
    "broken", [{"body": "{{ title "}, {"reason": None}, {"name": "gone-template"}]
)
def test_a_stored_text_that_cannot_load_is_logged_and_the_shipped_one_goes(
    session: Session, network: Network, caplog: pytest.LogCaptureFixture, broken: dict[str, Any]
) -> None:
    _store(session, network, **broken)
    with caplog.at_level(logging.ERROR, "campaign.outbox.wording"):
        letter = campaign_letter(session, network.campaign.id, "event-invitation", "sv")
    assert letter == mail_template("event-invitation", "sv")
    assert "the shipped text goes instead" in caplog.text or broken.get("name")


def test_a_stored_text_that_cannot_be_filled_sends_the_shipped_one(
    app: Flask, session: Session, network: Network, caplog: pytest.LogCaptureFixture
) -> None:
    _store(session, network, body="{{ greeting }} {{ no_such_value }}")
    with app.test_request_context(), caplog.at_level(logging.ERROR, "campaign.outbox.texts"):
        target = group(session, network)
        participant(session, network, "anna@alpha.se", name="Anna Berg").pilot_group_id = target.id
        invitations.invite(session, make_event(session, network, target), START)
    (mail,) = session.query(Message).all()
    assert mail.subject.startswith("Inbjudan: Prova-på-möte i Lync")
    assert "cannot be rendered" in caplog.text and "no_such_value" in caplog.text


def test_a_footer_reason_is_kept_only_where_the_shipped_text_has_one(
    session: Session, network: Network
) -> None:
    _store(session, network, name="questionnaire", reason="Ska inte synas.", body="{{ link }}")
    letter = campaign_letter(session, network.campaign.id, "questionnaire", "sv")
    assert letter.reason is None and letter.body == "{{ link }}"
    context = {"greeting": "Hej!", "title": "T", "intro": "I", "link": "https://x"}
    rendered = letter.render(context, language="sv", footer=Footer("Deltagare."))
    assert "Ska inte synas" not in rendered.text


def test_a_stored_details_part_that_cannot_be_filled_sends_the_shipped_details(
    app: Flask, session: Session, network: Network, caplog: pytest.LogCaptureFixture
) -> None:
    _store(session, network, name="_event-details", subject="", reason=None, body="{{ nej }}")
    with app.test_request_context(), caplog.at_level(logging.ERROR, "campaign.outbox.wording"):
        target = group(session, network)
        participant(session, network, "anna@alpha.se", name="Anna Berg").pilot_group_id = target.id
        invitations.invite(session, make_event(session, network, target), START)
    (mail,) = session.query(Message).all()
    assert "**Kommer du?**" in mail.text_body and "cannot be filled" in caplog.text
