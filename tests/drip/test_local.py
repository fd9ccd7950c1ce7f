"""Member-level wording in the mail: a member's own paragraph at a step's marked place reaches
that member's participants only, in their language, survives a reordering, and is data only."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.drip import stored
from campaign.drip.check import render_problems
from campaign.drip.files import parse_sequence
from campaign.drip.local import Where, marked_steps, places_of, save_paragraph
from campaign.drip.materialize import materialize
from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup, PilotGroupKind
from campaign.network.models import Membership
from campaign.outbox.models import Message
from tests.conftest import START, Network

NAME = "pilot-group"
NOW = datetime(2014, 6, 19, 6, 30, tzinfo=UTC)  # the welcome's moment for a 19 June start
HELP_SV = "Ring Alphas webbmötessupport på 0303-12 34 56."
HELP_EN = "Call Alpha's web meeting support on 0303-12 34 56."


def _member(session: Session, organisation_id: int) -> Membership:
    return session.scalars(
        select(Membership).where(Membership.organisation_id == organisation_id)
    ).one()


def _person(session: Session, network: Network, email: str, org: str, language: str) -> Participant:
    organisation = getattr(network, org)
    group = PilotGroup(
        campaign_id=network.campaign.id,
        organisation_id=organisation.id,
        name=f"Grupp {email}",
        kind=PilotGroupKind.SELECTED_MANAGERS,
        starts_on=date(2014, 6, 19),
        sequence_name=NAME,
        created_at=START,
    )
    person = Participant(
        campaign_id=network.campaign.id,
        organisation_id=organisation.id,
        pilot_group=group,
        email=email,
        name="Åsa Öberg",
        language=language,
        status=ParticipantStatus.ACTIVE,
        created_at=START,
        updated_at=START,
    )
    session.add_all([group, person])
    session.commit()
    return person


def _write(session: Session, network: Network, ident: str, language: str, text: str) -> None:
    member = _member(session, network.alpha.id)
    where = Where(NAME, ident, language)
    assert save_paragraph(session, member, where, "help", text, network.rep_alpha, START)
    session.commit()


def _welcome(app: Flask, session: Session, person: Participant) -> Message:
    with app.app_context():
        materialize(session, NOW)
        session.commit()
    return session.scalars(
        select(Message).where(
            Message.participant_id == person.id, Message.source_key.endswith("/01")
        )
    ).one()


def test_a_paragraph_reaches_only_that_members_participants_in_its_language(
    app: Flask, session: Session, network: Network
) -> None:
    _write(session, network, "01", "sv", HELP_SV)
    _write(session, network, "01", "en", HELP_EN)
    swede = _person(session, network, "asa@alpha.se", "alpha", "sv")
    english = _person(session, network, "ann@alpha.se", "alpha", "en")
    other = _person(session, network, "bo@beta.se", "beta", "sv")
    mail = _welcome(app, session, swede)
    assert HELP_SV in mail.text_body and HELP_SV in mail.html_body
    assert mail.text_body.index("Så här går det till") < mail.text_body.index(HELP_SV)
    assert mail.text_body.index(HELP_SV) < mail.text_body.index("Vi hörs snart!")
    assert f"{HELP_SV}\n\nVi hörs snart!" in mail.text_body  # a paragraph of its own
    english_mail = _welcome(app, session, english)
    assert HELP_EN in english_mail.text_body and HELP_SV not in english_mail.text_body
    beta = _welcome(app, session, other)
    assert "0303" not in beta.text_body and "0303" not in beta.html_body
    assert "\n\n\n" not in beta.text_body  # the empty place leaves no gap


def test_a_paragraph_is_data_never_html_or_a_template(
    app: Flask, session: Session, network: Network
) -> None:
    text = (
        "Hjälp: {{ 7 * 7 }} {% for x in range(3) %}x{% endfor %}"
        " {{ participant.email }}\n\n<script>alert('x')</script>"
        ' <a href="javascript:alert(1)" onclick="steal()">klicka</a> <img src=x onerror=alert(1)>'
    )
    _write(session, network, "01", "sv", text)  # as if stored past the form's checks
    mail = _welcome(app, session, _person(session, network, "asa@alpha.se", "alpha", "sv"))
    assert "{{ 7 * 7 }}" in mail.text_body and "49" not in mail.text_body
    assert "{% for x in range(3) %}x{% endfor %}" in mail.text_body
    assert "{{ participant.email }}" in mail.text_body and "asa@alpha.se" not in mail.text_body
    html = mail.html_body.lower()
    for danger in ("<script", "javascript:", "onclick", "onerror", "<img"):
        assert danger not in html, danger
    assert "klicka" in html


def test_a_reordered_step_keeps_its_paragraphs(
    app: Flask, session: Session, network: Network
) -> None:
    _write(session, network, "01", "sv", HELP_SV)
    files = stored.current(session, network.campaign.id, NAME).files
    moved = {}
    for key, text in files.items():  # the welcome becomes the third step, the others move up
        language, name = key.split("/")
        number = {"01": "03", "02": "01", "03": "02"}.get(name[:2], name[:2])
        moved[f"{language}/{number}{name[2:]}"] = f'---\nkey: "{name[:2]}"\n' + text[4:]
    stored.save(session, network.campaign.id, NAME, moved, author_id=None, note="edit", now=START)
    session.commit()
    mail = _welcome(app, session, _person(session, network, "asa@alpha.se", "alpha", "sv"))
    assert HELP_SV in mail.text_body  # filed under the ident "01", now the file 03
    sequence = stored.campaign_sequences(session, network.campaign.id)[NAME]
    welcome = next(s for s in sequence.steps["sv"] if s.ident == "01")
    assert welcome.number == "03" and places_of(welcome.body) == ["help"]


def test_the_shipped_steps_mark_places_in_both_languages() -> None:
    files = stored.shipped_files(NAME)
    sequence, problems = parse_sequence(NAME, files)
    assert problems == []
    marked = marked_steps(sequence)
    assert [(m.ident, m.places) for m in marked][:2] == [("01", ["help"]), ("02", ["help"])]
    assert all(set(m.steps) == {"sv", "en"} for m in marked)
    assert {"tips"} <= {p for m in marked for p in m.places}


STEP = '---\noffset: +0d\nat: "08:30"\nsubject: {subject}\n---\nHej!\n\n{body}\n'


@pytest.mark.parametrize(
    ("subject", "body", "line"),
    [
        ("Hej", "{{ local.Help }}", 8),
        ("Hej", "{{ local.help-me }}", 8),
        ("Hej", "{{ local }}", 8),
        ("Hej", "{{ local['help'] }}", 8),
        ("Hej", "{{ local.help|upper }}", 8),
        ("Hej", "{{ local." + "a" * 41 + " }}", 8),
        ("Hej", "{% if local.help %}x{% endif %}", 8),
        ("Hej", "Ring oss: {{ local.help }}", 8),
        ("Hej {{ local.help }}", "Text", 4),
    ],
)
def test_the_checker_reports_a_malformed_place(subject: str, body: str, line: int) -> None:
    files = {f"{lang}/01-a.md": STEP.format(subject=subject, body=body) for lang in ("sv", "en")}
    sequence, problems = parse_sequence("s", files)
    assert problems == []
    step = sequence.steps["sv"][0]
    found = [p for p in render_problems(step) if "local place" in p.message]
    assert len(found) == 1, render_problems(step)
    assert found[0].line == line and found[0].path == Path("s/sv/01-a.md")


def test_the_checker_takes_any_well_formed_place() -> None:
    body = "{{ local.help }}\n\n  {{local.any_place_2}}  \n"
    files = {f"{lang}/01-a.md": STEP.format(subject="Hej", body=body) for lang in ("sv", "en")}
    sequence, _problems = parse_sequence("s", files)
    step = sequence.steps["sv"][0]
    assert render_problems(step) == []
    assert places_of(step.body) == ["help", "any_place_2"]
