"""Every shipped mail reads well: one greeting style by first name, no empty brackets, links
or dangling colons when a member, participant or meeting leaves an optional field empty, and a
questionnaire's mail says in its subject that it is a questionnaire, and which."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from jinja2 import meta

from campaign.drip.fallbacks import OPTIONAL
from campaign.drip.files import Step, load_sequences
from campaign.drip.samples import sample_context
from campaign.outbox.compose import CONTENT, Footer, Rendered, content_template, render
from campaign.outbox.texts import LANGUAGES, greeting, mail_part, mail_template, template_names
from campaign.surveys.definitions import definitions

OPENING = {"sv": ("Hej Anna!", "Hej!"), "en": ("Hi Anna,", "Hi there,")}
BAD = [
    ("empty brackets", re.compile(r"\(\s*\)")),
    ("a space before a full stop or comma", re.compile(r"\w \s*[.,]")),
    ("a colon before nothing", re.compile(r":\s*[.,]|: +$|: +</", re.MULTILINE)),
    ("an empty link", re.compile(r"\]\(\s*\)|href=\"\s*\"")),
    ("a greeting without a name", re.compile(r"\b(Hej|Hi|Hello) +[!,]", re.IGNORECASE)),
]


def _steps() -> Iterator[Step]:
    sequences, _problems = load_sequences()
    for sequence in sequences.values():
        for steps in sequence.steps.values():
            yield from steps


def _step_context(first_name: str = "Anna", *, empty: bool = False) -> dict[str, Any]:
    """The sample placeholders, with every optional one emptied if asked."""
    context = sample_context()
    context["participant"].update(first_name=first_name, name=f"{first_name} Berg".strip())
    for dotted in OPTIONAL if empty else ():
        group, name = dotted.split(".")
        context[group][name] = ""
    return context


def _render_step(step: Step, context: dict[str, Any]) -> Rendered:
    footer = Footer("Du är med i provgruppen.", "https://kampanj.example.se/u/x")
    return render(step.subject, step.body, context, language=step.language, footer=footer)


def _template_context(name: str, language: str, person: str) -> dict[str, Any]:
    """A value for every placeholder of the template; the optional ones (the person's name,
    a meeting's description) as given or empty."""
    letter = mail_template(name, language)
    wanted = set()
    for source in (letter.subject, letter.body):
        wanted |= meta.find_undeclared_variables(CONTENT.parse(source))
    if "details" in wanted:  # the meeting's details part, as events/letters.py fills it
        wanted |= meta.find_undeclared_variables(
            CONTENT.parse(mail_part("event-details", language))
        )
    context: dict[str, Any] = {key: f"värde-{key}" for key in wanted}
    context.update(greeting=greeting(person, language), description="")
    for link in ("link", "yes", "no", "maybe", "base_url"):
        context[link] = f"https://kampanj.example.se/{link}"
    if "details" in wanted:
        context["details"] = content_template(mail_part("event-details", language)).render(context)
    return context


def _render_template(name: str, language: str, person: str) -> Rendered:
    letter = mail_template(name, language)
    footer = Footer("Du får det här.", "https://kampanj.example.se/u/x")
    return letter.render(
        _template_context(name, language, person), language=language, footer=footer
    )


def _problems(rendered: Rendered) -> list[str]:
    texts = {"subject": rendered.subject, "text": rendered.text, "html": rendered.html}
    return [
        f"{part}: {what}: {match.group(0)!r}"
        for part, text in texts.items()
        for what, pattern in BAD
        for match in [pattern.search(text)]
        if match
    ]


def _first_line(rendered: Rendered) -> str:
    return rendered.text.splitlines()[0]


TEMPLATES = [(n, lang) for n in sorted(template_names()) for lang in LANGUAGES]
STEPS = {f"{s.sequence}/{s.language}/{s.number}": s for s in _steps()}


@pytest.mark.parametrize("key", sorted(STEPS))
def test_every_step_reads_well_with_every_optional_field_empty(key: str) -> None:
    step = STEPS[key]
    for empty in (False, True):
        rendered = _render_step(step, _step_context("" if empty else "Anna", empty=empty))
        assert _problems(rendered) == [], (key, empty, rendered.subject, rendered.text)


@pytest.mark.parametrize(("name", "language"), TEMPLATES)
def test_every_mail_reads_well_with_no_name_and_no_description(name: str, language: str) -> None:
    rendered = _render_template(name, language, "")
    assert _problems(rendered) == [], (name, language, rendered.text)


@pytest.mark.parametrize("key", sorted(STEPS))
def test_every_step_greets_by_first_name_in_one_style(key: str) -> None:
    step = STEPS[key]
    named, unnamed = OPENING[step.language]
    assert _first_line(_render_step(step, _step_context("Anna"))) == named
    assert _first_line(_render_step(step, _step_context("", empty=True))) == unnamed


@pytest.mark.parametrize(("name", "language"), TEMPLATES)
def test_every_mail_greets_by_first_name_in_one_style(name: str, language: str) -> None:
    named, unnamed = OPENING[language]
    if name == "join-confirmation":  # to an address someone typed in: no name to greet
        assert _first_line(_render_template(name, language, "Anna Berg")) == unnamed
        return
    assert _first_line(_render_template(name, language, "Anna Berg")) == named
    assert _first_line(_render_template(name, language, "")) == unnamed
    assert _first_line(_render_template(name, language, "anna@berg.se")) == unnamed


def test_greeting_takes_the_first_name() -> None:
    assert greeting("Caroline Rundlöf", "sv") == "Hej Caroline!"
    assert greeting("  Bo  ", "en") == "Hi Bo,"
    assert greeting(None, "sv") == "Hej!"


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_questionnaires_mail_says_it_is_one_and_which(language: str) -> None:
    said = {
        "sv": ("Enkät: ", "Påminnelse om enkäten: "),
        "en": ("Questionnaire: ", "Reminder of the questionnaire: "),
    }
    for definition in definitions().values():
        title = definition.title[language]
        for name, opening in zip(
            ("questionnaire", "questionnaire-reminder"), said[language], strict=True
        ):
            letter = mail_template(name, language)
            context = {**_template_context(name, language, "Anna"), "title": title}
            subject = letter.render(context, language=language, footer=Footer("x")).subject
            assert subject == opening + title
