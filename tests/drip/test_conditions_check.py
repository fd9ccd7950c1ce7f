"""The checker knows the richer conditions and milestones: a name it cannot read is a problem
of the file; a questionnaire, question, option or milestone the campaign lacks is a problem when
checked for a campaign, with the line and the names there are; pages and the command say them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from campaign import labels
from campaign.drip import stored
from campaign.drip.files import parse_sequence
from campaign.milestones.models import Milestone
from campaign.surveys.models import Questionnaire, QuestionnaireKind
from tests.conftest import START, Network, Runner, sign_in
from tests.urls import staff

FRONT = 'offset: {offset}\nat: "09:00"\nsubject: Hej\n{extra}\n'


def step(extra: str, offset: str = "+1d") -> str:
    return "---\n" + FRONT.format(offset=offset, extra=extra) + "---\nHej!\n"


def files(**steps: str) -> dict[str, str]:
    """Both languages' files of the named steps (`s02_answered="..."` is 02-answered.md)."""
    return {
        f"{language}/{name[1:].replace('_', '-')}.md": text
        for name, text in {"s01_welcome": step("", "+0d"), **steps}.items()
        for language in ("sv", "en")
    }


@pytest.fixture
def asked(session: Session, network: Network) -> None:
    """Campaign "test" has the shipped baseline and an anonymous follow-up, and a milestone."""
    for slug, kind, anonymous in (
        ("baseline", QuestionnaireKind.BASELINE, False),
        ("follow-up", QuestionnaireKind.FOLLOW_UP, True),
    ):
        session.add(
            Questionnaire(
                campaign_id=network.campaign.id, slug=slug, kind=kind, definition=slug,
                is_anonymous=anonymous, created_at=START,
            )
        )  # fmt: skip
    session.add(
        Milestone(
            campaign_id=network.campaign.id, organisation_id=network.beta.id, name="teams",
            day=date(2014, 9, 1), updated_at=START,
        )
    )  # fmt: skip
    session.commit()


def messages(found: list) -> list[str]:  # type: ignore[type-arg]
    return [f"{p.path}:{p.line}: {p.message}" for p in found]


def test_names_that_cannot_be_read_are_problems_of_the_file() -> None:
    _sequence, problems = parse_sequence(
        "demo",
        files(
            s02_a=step("unless: [answered:]"),
            s07_f=step("unless: [answered:Enkät]"),
            s03_b=step('only_if: ["answer:baseline.experience"]'),
            s04_c=step("only_if: [attended:party]"),
            s05_d=step("anchor: milestone:Teams på Ale", "-1w"),
            s06_e=step("anchor: midsummer"),
        ),
    )
    said = messages(problems)
    assert "demo/sv/02-a.md:5: cannot read {'answered': None}: write a condition as one word" in (
        "".join(said)
    )
    assert any(
        m.startswith("demo/sv/03-b.md:5: cannot read 'answer:baseline.experience'") for m in said
    )
    assert any(
        "04-c.md:5: unknown kind of meeting in 'attended:party'; known: practice_meeting, training"
        in m
        for m in said
    )
    assert any(
        "07-f.md:5: cannot read 'answered:Enkät': write answered:<questionnaire>" in m for m in said
    )
    assert any("05-d.md:5: cannot read 'milestone:Teams på Ale'" in m for m in said)
    assert any(
        "06-e.md:5: unknown anchor 'midsummer'; use start" in m and "milestone:<name>" in m
        for m in said
    )


def test_a_milestone_anchor_may_count_backwards() -> None:
    _sequence, problems = parse_sequence(
        "demo", files(s02_a=step("anchor: milestone:teams", "-1w"))
    )
    assert problems == []


def test_a_campaign_check_names_what_the_campaign_lacks_with_the_known_ones(
    app: Flask, session: Session, network: Network, asked: None
) -> None:
    proposed = files(
        s02_a=step("only_if: [answered:folow-up]"),
        s03_b=step('only_if: ["answer:baseline.experiense=weekly"]'),
        s04_c=step('only_if: ["answer:baseline.experience=daily"]'),
        s05_d=step('unless: ["answer:baseline.trips_per_month=3"]'),
        s06_e=step('only_if: ["answer:follow-up.experience=weekly"]'),
        s07_f=step("anchor: milestone:team", "-1w"),
        s08_g=step("only_if: [answered:follow-up, attended:training]\nanchor: milestone:teams"),
    )
    with app.app_context():
        said = messages(stored.problems_of(session, network.campaign.id, "demo", proposed))
    expected = [
        "demo/sv/02-a.md:5: unknown questionnaire 'folow-up'; known: baseline, follow-up",
        "demo/sv/03-b.md:5: 'baseline' has no single-choice question 'experiense';"
        " its single-choice questions: experience",
        "demo/sv/04-c.md:5: the question 'experience' of 'baseline' has no option 'daily';"
        " its options: never, rarely, monthly, weekly",
        "demo/sv/05-d.md:5: 'baseline' has no single-choice question 'trips_per_month'",
        "demo/sv/06-e.md:5: the questionnaire 'follow-up' is anonymous: it keeps no one's"
        " answers, so no step can depend on them (answered:follow-up can)",
        "demo/sv/07-f.md:5: unknown milestone 'team'; known: teams",
    ]
    for message in expected:
        assert any(m.startswith(message) for m in said), (message, said)
    assert not any("08-g.md" in m for m in said)
    assert len([m for m in said if "/en/" in m]) == len(expected)  # each language's file too


def test_saving_refuses_a_name_the_campaign_lacks(
    app: Flask, session: Session, network: Network
) -> None:
    proposed = files(s02_a=step("anchor: milestone:teams"))
    with app.app_context(), pytest.raises(stored.Unsaved) as refused:
        stored.save(
            session, network.campaign.id, "demo", proposed, author_id=None, note="edit", now=START
        )
    assert "unknown milestone 'teams'; known: none yet" in str(refused.value)


def test_the_command_says_what_it_could_not_check_and_checks_for_a_campaign(
    runner: Runner, tmp_path: Path, network: Network, asked: None
) -> None:
    for name, text in files(
        s02_a=step("only_if: [answered:folow-up]"), s03_b=step("anchor: milestone:teams")
    ).items():
        (tmp_path / "demo" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "demo" / name).write_text(text, encoding="utf-8")
    alone = runner.invoke("sequences", "check", "--path", str(tmp_path))
    assert alone.exit_code == 0, alone.output
    assert "Not checked without --campaign: answered:folow-up, milestone:teams." in alone.output
    checked = runner.invoke("sequences", "check", "--path", str(tmp_path), "--campaign", "test")
    assert checked.exit_code == 1
    assert "02-a.md:5: unknown questionnaire 'folow-up'; known: baseline, follow-up" in (
        checked.output
    )
    assert "milestone" not in checked.output
    own = runner.invoke("sequences", "check", "--campaign", "test")  # the campaign's own copies
    assert own.exit_code == 0, own.output
    assert "steps checked: no problems" in own.output


def test_conditions_in_peoples_words_in_both_languages(app: Flask) -> None:
    said = {}
    for language in ("sv", "en"):
        with app.test_request_context(headers={"Accept-Language": language}):
            from flask import session as web_session

            web_session["language"] = language
            said[language] = [
                labels.condition(c)
                for c in (
                    "answered:follow-up",
                    "answer:baseline.experience=weekly",
                    "attended:training",
                    "answered_baseline",
                )
            ] + [str(labels.answer("skipped: not answer:baseline.experience=weekly"))]
    assert said["sv"][0] == "deltagaren har svarat på enkäten ”Hur har det gått med webbmötena?”"
    assert said["sv"][1].startswith("deltagaren svarade ”Varje vecka” på ”Hur ofta deltar du")
    assert said["sv"][2] == "deltagaren har varit med på ett möte av typen utbildning"
    assert said["sv"][4].startswith("Hoppades över: det gäller inte att deltagaren svarade ”Varje")
    assert said["en"][1].startswith("the participant answered “Every week” to “How often")
    assert said["en"][2] == "the participant has attended a meeting of the kind training"
    assert said["sv"][3] == "deltagaren har svarat på startenkäten"


def test_the_sequence_page_shows_the_conditions_and_the_milestone(
    app: Flask, session: Session, network: Network, asked: None
) -> None:
    shipped = stored.current(session, network.campaign.id, "pilot-group").files
    changed = {
        name: text.replace(
            "unless: [attended_practice_meeting]",
            'only_if: [answered:baseline, "answer:baseline.experience=weekly"]\n'
            "anchor: milestone:teams",
        )
        for name, text in shipped.items()
    }
    with app.app_context():
        stored.save(
            session, network.campaign.id, "pilot-group", changed, author_id=None, note="edit",
            now=START,
        )  # fmt: skip
        session.commit()
    client = app.test_client()
    sign_in(client, "lead@alpha.se")
    page = client.get(staff("/sequences/pilot-group")).get_data(as_text=True)
    assert "deltagaren har svarat på enkäten ”Innan du börjar”" in page
    assert "deltagaren svarade ”Varje vecka” på ”Hur ofta deltar du i webbmöten i dag?”" in page
    assert "från milstolpen teams" in page
