"""A campaign's own copy of its sequences: versions of the shipped files, checked before saving,
followed by the drip, and steps known by a lasting key so that a reordering sends nothing twice."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.drip import stored
from campaign.drip.files import parse_sequence, step_text
from campaign.drip.materialize import materialize
from campaign.drip.models import SequenceVersion
from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup, PilotGroupKind
from campaign.outbox.models import Message
from tests.conftest import START, Network, SecondCampaign

NAME = "pilot-group"
WELCOME = "sv/01-valkommen.md"
NOW = datetime(2014, 6, 19, 6, 30, tzinfo=UTC)  # the welcome's moment for a 19 June start


@pytest.fixture
def person(session: Session, network: Network) -> Participant:
    group = PilotGroup(
        campaign_id=network.campaign.id,
        organisation_id=network.alpha.id,
        name="Chefer",
        kind=PilotGroupKind.SELECTED_MANAGERS,
        starts_on=date(2014, 6, 19),
        sequence_name=NAME,
        created_at=START,
    )
    person = Participant(
        campaign_id=network.campaign.id,
        organisation_id=network.alpha.id,
        pilot_group=group,
        email="asa@alpha.se",
        name="Åsa Öberg",
        status=ParticipantStatus.ACTIVE,
        created_at=START,
        updated_at=START,
    )
    session.add_all([group, person])
    session.commit()
    return person


def _edited(files: dict[str, str], key: str, old: str, new: str) -> dict[str, str]:
    assert old in files[key], (key, old)
    return {**files, key: files[key].replace(old, new)}


def _save(session: Session, network: Network, files: dict[str, str]) -> SequenceVersion | None:
    saved = stored.save(
        session, network.campaign.id, NAME, files, author_id=None, note="edit", now=START
    )
    session.commit()
    return saved


def _subjects(session: Session, person: Participant) -> dict[str, str]:
    rows = session.scalars(select(Message).where(Message.participant_id == person.id))
    return {row.source_key.rsplit(":seq:", 1)[1]: row.subject for row in rows}


def test_a_campaign_follows_the_shipped_files_until_it_saves_its_own(
    session: Session, network: Network
) -> None:
    shipped = stored.current(session, network.campaign.id, NAME)
    assert shipped.number is None and shipped.problems == []
    assert shipped.files == stored.shipped_files(NAME) and WELCOME in shipped.files
    files = _edited(shipped.files, WELCOME, "Välkommen till provgruppen", "Välkommen till oss")
    version = _save(session, network, files)
    assert version is not None and version.number == 2
    kept = stored.versions(session, network.campaign.id, NAME)
    assert [(v.number, v.note, v.author_id) for v in kept] == [
        (2, "edit", None),
        (1, "shipped", None),
    ]
    assert kept[1].files == stored.shipped_files(NAME)
    now = stored.current(session, network.campaign.id, NAME)
    assert now.number == 2 and now.files == files
    assert _save(session, network, files) is None  # the same files again: no new version


def test_the_drip_sends_the_campaigns_own_text_and_another_campaign_keeps_the_shipped(
    app: Flask,
    session: Session,
    network: Network,
    person: Participant,
    second_campaign: SecondCampaign,
) -> None:
    files = stored.current(session, network.campaign.id, NAME).files
    _save(session, network, _edited(files, WELCOME, "för webbmöten", "i resfria möten"))
    with app.app_context():
        materialize(session, NOW)
        session.commit()
    subject = _subjects(session, person)[f"{NAME}/01"]
    assert subject == "Välkommen till provgruppen i resfria möten, Åsa!"
    other = stored.current(session, second_campaign.campaign.id, NAME)
    assert other.number is None and "för webbmöten" in other.files[WELCOME]


def test_files_with_a_problem_are_never_saved(session: Session, network: Network) -> None:
    files = stored.current(session, network.campaign.id, NAME).files
    broken = _edited(files, WELCOME, 'at: "08:30"', 'at: "03:00"')  # in the quiet hours
    broken = _edited(broken, WELCOME, "{{ organisation.name }}", "{{ organisation.nme }}")
    with pytest.raises(stored.Unsaved) as refused:
        _save(session, network, broken)
    said = [(p.path.as_posix(), p.line, p.message) for p in refused.value.problems]
    assert (f"{NAME}/{WELCOME}", 3, said[0][2]) == said[0] and "quiet hours" in said[0][2]
    assert session.scalar(select(func.count()).select_from(SequenceVersion)) == 0


def test_a_reordered_step_keeps_its_key_and_is_not_sent_again(
    app: Flask, session: Session, network: Network, person: Participant
) -> None:
    with app.app_context():
        materialize(session, NOW)
        session.commit()
    assert list(_subjects(session, person)) == [f"{NAME}/01"]
    files = stored.current(session, network.campaign.id, NAME).files
    moved = {}
    for key, text in files.items():  # the welcome becomes the third step, the others move up
        language, name = key.split("/")
        number = {"01": "03", "02": "01", "03": "02"}.get(name[:2], name[:2])
        moved[f"{language}/{number}{name[2:]}"] = f'---\nkey: "{name[:2]}"\n' + text[4:]
    assert stored.problems_of(session, network.campaign.id, NAME, moved) == []
    _save(session, network, moved)
    assert stored.replan(session, network.campaign.id, NAME) == 1
    session.commit()
    with app.app_context():
        materialize(session, NOW)
        session.commit()
    assert list(_subjects(session, person)) == [f"{NAME}/01"]  # the welcome, once
    sequence = stored.campaign_sequences(session, network.campaign.id)[NAME]
    assert [(s.number, s.ident) for s in sequence.steps["sv"][:3]] == [
        ("01", "02"),
        ("02", "03"),
        ("03", "01"),
    ]


def test_replan_has_the_next_run_look_at_the_followers_again(
    session: Session, network: Network, person: Participant
) -> None:
    person.next_step_at = datetime(2014, 7, 1, tzinfo=UTC)
    session.commit()
    assert stored.replan(session, network.campaign.id, "another") == 0
    assert stored.replan(session, network.campaign.id, NAME) == 1
    session.commit()
    session.refresh(person)
    assert person.next_step_at is None


def test_a_new_step_gets_a_key_no_version_has_used(session: Session, network: Network) -> None:
    files = stored.current(session, network.campaign.id, NAME).files
    assert stored.fresh_ident(session, network.campaign.id, NAME) == "09"
    text = files["sv/08-nasta-prova-pa-mote.md"]
    added = {**files, "sv/09-extra.md": text, "en/09-extra.md": text}
    added = {
        k: v.replace("---\n", '---\nkey: "09"\n', 1) if "09-" in k else v for k, v in added.items()
    }
    _save(session, network, added)
    _save(session, network, files)  # removed again; its key stays taken
    assert stored.fresh_ident(session, network.campaign.id, NAME) == "10"


def test_the_checker_refuses_clashing_keys_and_misplaced_files() -> None:
    step = step_text({"offset": "+0d", "at": "08:30", "subject": "Hej"}, "Hej!\n")
    assert step.startswith("---\noffset: +0d\nat: 08:30\nsubject: Hej\n---\nHej!")
    files = {
        "sv/01-a.md": step,
        "sv/02-b.md": step.replace("---\n", '---\nkey: "01"\n', 1),
        "en/01-a.md": step.replace("---\n", '---\nkey: "x"\n', 1),
        "en/02-b.md": step,
        "01-loose.md": step,
    }
    _sequence, problems = parse_sequence("demo", files)
    said = {(p.path, p.message) for p in problems}
    assert (Path("demo/sv/02-b.md"), "another step has the key '01'") in said
    differing = "the key differs between the languages' files; use the same in both"
    assert any(message == differing for _path, message in said)
    assert any(path == Path("demo/01-loose.md") for path, _message in said)


def test_the_dashboard_stands_when_every_step_counts_from_a_meeting(
    client: FlaskClient, session: Session, network: Network, person: Participant
) -> None:
    """A sequence whose steps all follow meetings has no last step for everyone: the dashboard
    shows its followers with none at the end, not an error."""
    from tests.conftest import sign_in
    from tests.urls import staff

    step = step_text(
        {"offset": "+1d", "anchor": "practice_meeting", "at": "09:00", "subject": "Tack"},
        "Tack för att du var med!\n",
    )
    files = {"sv/01-tack.md": step, "en/01-tack.md": step}
    _save(session, network, files)
    sign_in(client, network.lead.email)
    page = client.get(staff("/dashboard"))
    assert page.status_code == 200
    assert "steg 01: 0" in page.get_data(as_text=True)
