"""bench/fanout.py's pieces on a few hundred participants: everyone due a mail of each kind gets
exactly one, and it is the very mail a full render for that person gives (the fan-outs lay a
mail out once and put each person's values in; some names send a person down the full render).
"""

from __future__ import annotations

import runpy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from campaign import db
from campaign.announcements.letters import Person, message
from campaign.announcements.models import Announcement
from campaign.enrolment.mail import addressee_of
from campaign.enrolment.models import Participant, PilotGroup
from campaign.events import calendar
from campaign.events.letters import organiser_of, rsvp_token
from campaign.events.models import Event, Invitation
from campaign.network.models import Campaign, Membership, Organisation
from campaign.outbox.mail import mail_settings, participant_footer
from campaign.outbox.models import Message, MessageKind
from campaign.outbox.texts import greeting
from campaign.outbox.wording import campaign_letter
from campaign.surveys import stored
from campaign.surveys.models import Questionnaire
from campaign.surveys.service import link_token

ROOT = Path(__file__).resolve().parent.parent
BENCH = runpy.run_path(str(ROOT / "bench" / "fanout.py"))
PEOPLE = 300


@pytest.fixture(scope="module")
def fanned_out(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any]]:
    """A database of PEOPLE participants after all four fan-outs, and a session on it."""
    folder = tmp_path_factory.mktemp("fanout")
    app = BENCH["make_app"](f"sqlite:///{folder / 'bench.sqlite3'}", folder)
    with app.test_request_context(), db.open_session(app) as session:
        event = BENCH["build"](session, PEOPLE, lambda _text: None)
        BENCH["announce"](session, lambda _text: None)
        BENCH["invite"](session, event, lambda _text: None)
        BENCH["questionnaire"](session, lambda _text: None)
        BENCH["remind"](session, lambda _text: None)
        yield session, event
    db.engine_of(app).dispose()


@pytest.mark.parametrize("kind", ["announcement", "invitation", "questionnaire", "reminder"])
def test_each_person_due_a_mail_gets_exactly_one(fanned_out: tuple[Any, Any], kind: str) -> None:
    session, _event = fanned_out
    assert BENCH["check"](session, kind) == "ok"
    assert len(BENCH["expected"](session, kind)) > PEOPLE * 0.9


def _mails(session: Any, kind: MessageKind) -> dict[int, Message]:
    rows = session.scalars(select(Message).where(Message.kind == kind))
    return {m.participant_id: m for m in rows}


def _same(row: Message, subject: str, text: str, html: str) -> None:
    assert (row.subject, row.text_body, row.html_body) == (subject, text, html)


def test_each_announcement_is_the_persons_full_render(fanned_out: tuple[Any, Any]) -> None:
    session, _event = fanned_out
    mails = _mails(session, MessageKind.ANNOUNCEMENT)
    texts = session.scalars(select(Announcement)).one().texts
    rows = session.execute(
        select(Participant, PilotGroup, Membership, Organisation, Campaign)
        .join(PilotGroup, PilotGroup.id == Participant.pilot_group_id)
        .join(Membership, Membership.organisation_id == Participant.organisation_id)
        .join(Organisation, Organisation.id == Participant.organisation_id)
        .join(Campaign, Campaign.id == Participant.campaign_id)
        .where(Participant.id.in_(mails))
    ).all()
    full_renders = 0
    for row in rows:
        person = Person(*row)
        mail = mails[person.participant.id]
        whole = message(texts, person, source_key=mail.source_key, due_at=mail.due_at)
        _same(mail, whole["rendered"].subject, whole["rendered"].text, whole["rendered"].html)
        assert mail.headers == whole["headers"]
        full_renders += "&lt;Ola&gt;" in mail.html_body or "<Ola>" in mail.text_body
    assert len(rows) == len(mails) and full_renders >= 2  # the names Markdown reads are there


def test_each_questionnaire_is_the_persons_full_render(fanned_out: tuple[Any, Any]) -> None:
    session, _event = fanned_out
    mails = _mails(session, MessageKind.QUESTIONNAIRE)
    questionnaire = session.scalars(select(Questionnaire).where(Questionnaire.slug == "baseline"))
    questionnaire = questionnaire.one()
    definition = stored.definition_of(session, questionnaire)
    for participant in session.scalars(select(Participant).where(Participant.id.in_(mails))):
        to = addressee_of(session, participant)
        language = to.language
        context = {
            "greeting": greeting(participant.name, language),
            "title": definition.title[language],
            "intro": definition.intro[language],
            "link": mail_settings().link(f"/q/{link_token(questionnaire, participant)}"),
        }
        letter = campaign_letter(session, to.campaign_id, "questionnaire", language)
        whole = letter.render(context, language=language, footer=participant_footer(to))
        _same(mails[participant.id], whole.subject, whole.text, whole.html)


def test_each_invitation_carries_the_persons_whole_calendar(fanned_out: tuple[Any, Any]) -> None:
    session, event = fanned_out
    event = session.get(Event, event.id)
    mails = _mails(session, MessageKind.INVITATION)
    organiser = organiser_of(session, event)
    for invitation, participant in session.execute(
        select(Invitation, Participant).join(
            Participant, Participant.id == Invitation.participant_id
        )
    ):
        link = mail_settings().link(f"/rsvp/{rsvp_token(invitation)}")
        whole = calendar.invitation(
            event,
            stamp=BENCH["NOW"],
            organiser=organiser,
            attendee=calendar.Person(participant.name, participant.email),
            partstat="NEEDS-ACTION",
            description=f"{event.description_md}\n\n{link}".strip(),
        )
        mail = mails[participant.id]
        assert mail.calendar == whole
        assert greeting(participant.name, participant.language) in mail.text_body
        assert f"{link}?answer=accepted" in mail.text_body


def test_each_reminder_greets_its_person_and_carries_their_own_answer_link(
    fanned_out: tuple[Any, Any],
) -> None:
    session, _event = fanned_out
    mails = _mails(session, MessageKind.REMINDER)
    for invitation, participant in session.execute(
        select(Invitation, Participant).join(
            Participant, Participant.id == Invitation.participant_id
        )
    ):
        mail = mails[participant.id]
        link = mail_settings().link(f"/rsvp/{rsvp_token(invitation)}")
        assert mail.source_key.endswith(f":reminder:1440m:i{invitation.id}")
        assert greeting(participant.name, participant.language) in mail.text_body
        assert f"{link}?answer=accepted" in mail.text_body and mail.calendar is None
