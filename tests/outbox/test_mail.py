"""One mail path: every participant mail has the same footer and headers, staff mail none of
them, and every mail text is a template file in both languages that fails loudly when broken."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.accounts import invitations as accounts
from campaign.drip.materialize import materialize
from campaign.enrolment import joining
from campaign.enrolment.mail import addressee_of
from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup, PilotGroupKind
from campaign.events import invitations, reminders
from campaign.events.models import Audience, Invitation, Rsvp
from campaign.network.models import Membership
from campaign.outbox.mail import list_headers, queue_test_mail, staff_footer
from campaign.outbox.models import Message
from campaign.outbox.texts import (
    LANGUAGES,
    MailTemplateError,
    mail_part,
    mail_template,
    template_names,
)
from campaign.surveys.invitations import queue_questionnaires
from tests.conftest import START, Network
from tests.enrolment_helpers import make_event

# Every kind of mail the service writes from a template, each in Swedish and English.
MAIL_KINDS = {
    "event-invitation",
    "event-update",
    "event-cancel",
    "event-place",
    "event-reminder",
    "questionnaire",
    "questionnaire-reminder",
    "representative-invitation",
    "lead-admin-invitation",
    "password-reset",
    "join-confirmation",
    "returning",
    "test",
    "purge-warning",
    "complaint-notice",
    "webhook-disabled",
}
FOOTERS = {
    "sv": (
        "Du får det här för att du är med i provgruppen i Alpha kommun inom"
        " Testöverenskommelsen.\nDin kontaktperson: Petter Bergman, petter@alpha.se\n"
        "Pausa eller avsluta e-posten: {url}\n"
    ),
    "en": (
        "You receive this because you take part in the pilot group of Alpha kommun in"
        " Testöverenskommelsen.\nYour contact person: Petter Bergman, petter@alpha.se\n"
        "Pause or stop these e-mails: {url}\n"
    ),
}
GREETING = {"sv": "Hej Åsa!\n", "en": "Hi Bo,\n"}  # one style in every mail


@pytest.fixture
def group(session: Session, network: Network) -> PilotGroup:
    membership = session.scalars(
        select(Membership).where(Membership.organisation_id == network.alpha.id)
    ).one()
    membership.contact_name, membership.contact_email = "Petter Bergman", "petter@alpha.se"
    group = PilotGroup(
        campaign_id=network.campaign.id,
        organisation_id=network.alpha.id,
        name="Chefer",
        kind=PilotGroupKind.SELECTED_MANAGERS,
        starts_on=date(2014, 3, 3),
        sequence_name="pilot-group",
        created_at=START,
    )
    session.add(group)
    session.flush()
    for email, name, language in (("asa@alpha.se", "Åsa", "sv"), ("bo@alpha.se", "Bo", "en")):
        session.add(
            Participant(
                campaign_id=network.campaign.id,
                organisation_id=network.alpha.id,
                pilot_group_id=group.id,
                email=email,
                name=name,
                language=language,
                status=ParticipantStatus.ACTIVE,
                created_at=START,
                updated_at=START,
            )
        )
    session.commit()
    return group


def _at(day: int, hour: int) -> datetime:
    return datetime(2014, 3, day, hour, tzinfo=UTC)


def _every_participant_mail(session: Session, network: Network, group: PilotGroup) -> None:
    """Queue one of each kind of participant mail: a step, a questionnaire and its reminder,
    and a meeting's invitation, place, reminder, update and cancellation."""
    materialize(session, _at(3, 8))
    queue_questionnaires(session, _at(3, 10))
    queue_questionnaires(session, _at(10, 10))
    event = make_event(
        session, network, group, capacity=1, starts_at=_at(12, 8), ends_at=_at(12, 9)
    )
    invitations.invite(session, event, _at(4, 8))
    asa, bo = session.scalars(
        select(Invitation).where(Invitation.event_id == event.id).order_by(Invitation.id)
    )
    invitations.respond(session, asa, Rsvp.ACCEPTED, _at(4, 9))
    invitations.respond(session, bo, Rsvp.ACCEPTED, _at(4, 10))  # full: the waiting list
    invitations.respond(session, asa, Rsvp.DECLINED, _at(4, 11))  # Bo gets the place
    reminders.queue_reminders(session, _at(11, 9))
    invitations.change(session, event, {"title": "Nytt prova-på-möte"}, _at(11, 10))
    invitations.cancel(session, event, _at(11, 11))
    session.commit()


def test_every_participant_mail_has_the_same_footer_headers_and_language(
    app: Flask, session: Session, network: Network, group: PilotGroup
) -> None:
    with app.app_context():
        _every_participant_mail(session, network, group)
        sender = app.config["CAMPAIGN_MAIL_FROM"]
        people = {p.id: (p, addressee_of(session, p)) for p in session.scalars(select(Participant))}
    mails = session.scalars(
        select(Message).where(
            Message.participant_id.is_not(None),
            Message.text_body != "",  # a step decided against is only recorded
        )
    ).all()
    kinds = set()
    for mail in mails:
        person, addressee = people[mail.participant_id or 0]
        url = addressee.unsubscribe_url
        assert mail.headers == list_headers(url, sender), mail.source_key
        assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert mail.headers["List-Unsubscribe"].startswith(f"<{url}>, <mailto:")
        body, footer = mail.text_body.split("\n-- \n")
        assert footer == FOOTERS[person.language].format(url=url), mail.source_key
        assert body.startswith(GREETING[person.language]), mail.source_key
        assert "Petter Bergman, petter@alpha.se" in mail.html_body
        assert f'href="{url}"' in mail.html_body
        kinds.add(_kind(mail.source_key))
    assert kinds == PARTICIPANT_KINDS


PARTICIPANT_KINDS = {
    "step",
    "questionnaire",
    "questionnaire-reminder",
    *(f"event-{kind}" for kind in ("invitation", "update", "cancel", "place", "reminder")),
}


def _kind(source_key: str) -> str:
    """Return which kind of participant mail a source key names."""
    if source_key.startswith("p:"):
        return "step"
    if source_key.startswith("q:"):
        return "questionnaire-reminder" if ":r" in source_key else "questionnaire"
    kind = next(
        k for k in ("reminder", "place", "invitation", "update", "cancel") if f":{k}" in source_key
    )
    return f"event-{kind}"


def _staff_mails(app: Flask, session: Session, network: Network, group: PilotGroup) -> None:
    """Queue one of each mail to someone who is not a participant."""
    network.rep_beta.language = "en"
    with app.app_context():
        accounts.send_link(session, network.rep_alpha, "reset", _at(3, 8))
        accounts.send_link(session, network.rep_beta, "invitation", _at(3, 8))
        queue_test_mail(session, network.lead, _at(3, 8))
        joining.open_link(group)
        applicant = joining.Applicant("ny@alpha.se", "Ny", "", "en", "127.0.0.1", "sv")
        joining.request_confirmation(session, group, applicant, _at(3, 8))
        event = make_event(session, network, audience=Audience.WORKING_GROUP)
        invitations.invite(session, event, _at(3, 8))
        session.commit()


def test_staff_mail_has_its_reason_and_no_unsubscribe(
    app: Flask, session: Session, network: Network, group: PilotGroup
) -> None:
    _staff_mails(app, session, network, group)
    mails = session.scalars(select(Message)).all()
    assert {m.source_key.split(":")[0] for m in mails} >= {"reset", "invitation", "test", "join"}
    assert any(m.source_key.startswith("ev:") for m in mails)
    for mail in mails:
        assert mail.participant_id is None and mail.headers == {}, mail.source_key
        footer = mail.text_body.split("\n-- \n")[1]
        assert footer.startswith(("Du får det här", "You receive this")), mail.source_key
        assert "/u/" not in mail.text_body + mail.html_body
        assert "Pausa eller" not in footer and "Pause or" not in footer
    english = {m.recipient for m in mails if "You receive this" in m.text_body}
    assert english == {"rep@beta.se", "ny@alpha.se"}


def test_every_mail_kind_has_a_template_in_both_languages() -> None:
    assert template_names() == MAIL_KINDS
    for name in MAIL_KINDS:
        for language in LANGUAGES:
            letter = mail_template(name, language)
            assert letter.subject and letter.body.strip(), (name, language)
    for language in LANGUAGES:
        assert "{{ yes }}" in mail_part("event-details", language)
    staff = {
        "representative-invitation",
        "lead-admin-invitation",
        "password-reset",
        "join-confirmation",
        "returning",
        "test",
        "purge-warning",
        "complaint-notice",
        "webhook-disabled",
    }
    for name in staff | {k for k in MAIL_KINDS if k.startswith("event-")}:
        assert staff_footer(mail_template(name, "en")).reason.startswith("You receive this")


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_missing_template_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(MailTemplateError, match=r"nope\.sv\.md: no such mail template"):
        mail_template("nope", "sv", tmp_path)
    with pytest.raises(MailTemplateError, match=r"_gone\.en\.md"):
        mail_part("gone", "en", tmp_path)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Hej {{ name }}", r"bad\.sv\.md: must start with a front matter block"),
        ("---\nsubject: [unclosed\n---\nHej", r"bad\.sv\.md: the front matter is not valid YAML"),
        ("---\nreason: Why\n---\nHej", r"bad\.sv\.md: the front matter needs a subject"),
        ("---\nsubject: Hej\nfrom: me\n---\nHej", r"bad\.sv\.md: unknown keys \['from'\]"),
        ("---\nsubject: Hej\n---\nHej\n\n{{ name ", r"bad\.sv\.md:6: unexpected end"),
        ("---\nsubject: Hej {% if %}\n---\nHej", r"bad\.sv\.md:2: "),
    ],
)
def test_a_broken_template_says_where(tmp_path: Path, text: str, problem: str) -> None:
    _write(tmp_path, "bad.sv.md", text)
    with pytest.raises(MailTemplateError, match=problem):
        mail_template("bad", "sv", tmp_path)


def test_an_unknown_placeholder_names_the_template(tmp_path: Path) -> None:
    from campaign.outbox.compose import Footer

    _write(tmp_path, "typo.en.md", "---\nsubject: Hi\n---\nHello {{ nmae }}\n")
    letter = mail_template("typo", "en", tmp_path)
    with pytest.raises(MailTemplateError, match=r"typo\.en\.md: 'nmae' is undefined"):
        letter.render({"name": "Bo"}, language="en", footer=Footer("Why"))
    with pytest.raises(MailTemplateError, match=r"typo\.en\.md: a mail to staff needs a reason"):
        staff_footer(letter)
