"""Questionnaire definitions: YAML files in `campaign/questionnaires/`, beside the sequences.

One file per questionnaire holds both languages: every text is `{sv: ..., en: ...}`, while ids,
types, options and bounds are shared, so the Swedish and English questionnaires cannot drift
apart. Question types: `single` and `multiple` choice, `likert` (a scale of 1..N with labelled
ends), `number` (a whole number with a unit and bounds) and free `text`. Answers are checked
here, on the server, with a sentence per problem.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any

import yaml
from flask_babel import lazy_gettext as _l

from campaign.i18n import GROUP_SPACES, page_locale, parse_number
from campaign.plaintext import lines
from campaign.timing import Offset, parse_offset

QUESTIONNAIRES_DIR = Path(__file__).parent.parent / "questionnaires"
LANGUAGES = ("sv", "en")
TYPES = ("single", "multiple", "likert", "number", "text")
OUTCOMES = ("trips", "km", "hours")
# ASCII digits only: str.isdigit() accepts "²", which int() refuses with a server error.
WHOLE_NUMBER = re.compile(r"-?[0-9]+")
# Longer than any bound; int() refuses numbers of over 4,300 digits, so never call it on one.
MAX_DIGITS = 12


class DefinitionError(Exception):
    """A questionnaire file is wrong; the message names the file and the place."""


@dataclass(frozen=True)
class Option:
    value: str
    label: dict[str, str]


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    text: dict[str, str]
    help: dict[str, str] = field(default_factory=dict)
    required: bool = False
    options: tuple[Option, ...] = ()
    unit: dict[str, str] = field(default_factory=dict)
    minimum: int = 0
    maximum: int = 1_000_000
    scale: int = 5
    low: dict[str, str] = field(default_factory=dict)
    high: dict[str, str] = field(default_factory=dict)
    max_length: int = 2000
    outcome: str | None = None

    def label_of(self, value: str, language: str) -> str:
        for option in self.options:
            if option.value == value:
                return option.label[language]
        return value


@dataclass(frozen=True)
class Definition:
    name: str
    kind: str
    title: dict[str, str]
    intro: dict[str, str]
    after: Offset
    at: time
    reminders: tuple[Offset, ...]
    closes_after: Offset
    questions: tuple[Question, ...]

    def question(self, question_id: str) -> Question:
        return next(q for q in self.questions if q.id == question_id)


def _texts(raw: Any, where: str) -> dict[str, str]:
    if not isinstance(raw, dict) or any(not str(raw.get(lang, "")).strip() for lang in LANGUAGES):
        raise DefinitionError(f"{where}: needs a text in each of {', '.join(LANGUAGES)}")
    return {lang: str(raw[lang]).strip() for lang in LANGUAGES}


def _question(raw: dict[str, Any], where: str) -> Question:
    kind = raw.get("type")
    if kind not in TYPES:
        raise DefinitionError(f"{where}: type must be one of {', '.join(TYPES)}")
    values: dict[str, Any] = {
        "id": str(raw.get("id", "")),
        "type": kind,
        "text": _texts(raw.get("text"), f"{where} text"),
        "required": bool(raw.get("required", False)),
    }
    if not values["id"].isidentifier():
        raise DefinitionError(f"{where}: id must be a name such as trips_replaced")
    if "help" in raw:
        values["help"] = _texts(raw["help"], f"{where} help")
    if kind in ("single", "multiple"):
        options = tuple(
            Option(str(o.get("value")), _texts(o, f"{where} option {o.get('value')}"))
            for o in raw.get("options") or []
        )
        if len(options) < 2 or len({o.value for o in options}) != len(options):
            raise DefinitionError(f"{where}: needs at least two options with distinct values")
        values["options"] = options
    if kind == "number":
        values["unit"] = _texts(raw.get("unit"), f"{where} unit")
        values["minimum"], values["maximum"] = int(raw.get("min", 0)), int(raw.get("max", 0))
        if values["maximum"] <= values["minimum"]:
            raise DefinitionError(f"{where}: max must be above min")
        if raw.get("outcome") is not None:
            if raw["outcome"] not in OUTCOMES:
                raise DefinitionError(f"{where}: outcome must be one of {', '.join(OUTCOMES)}")
            values["outcome"] = raw["outcome"]
    if kind == "likert":
        values["scale"] = int(raw.get("scale", 5))
        if not 3 <= values["scale"] <= 10:
            raise DefinitionError(f"{where}: scale must be 3 to 10")
        values["low"] = _texts(raw.get("low"), f"{where} low")
        values["high"] = _texts(raw.get("high"), f"{where} high")
    if kind == "text":
        values["max_length"] = int(raw.get("max_length", 2000))
    return Question(**values)


def read_definition(path: Path) -> Definition:
    """Read one questionnaire file; raise DefinitionError naming what is wrong."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise DefinitionError(f"{path.name}: not valid YAML ({error})") from None
    if not isinstance(raw, dict):
        raise DefinitionError(f"{path.name}: expected a mapping")
    send = raw.get("send") or {}
    try:
        hour, minute = (int(x) for x in str(send.get("at", "09:00")).split(":"))
        questions = tuple(
            _question(q, f"{path.name} question {n}")
            for n, q in enumerate(raw.get("questions") or [], start=1)
        )
        definition = Definition(
            name=path.stem,
            kind=str(raw.get("kind")),
            title=_texts(raw.get("title"), f"{path.name} title"),
            intro=_texts(raw.get("intro"), f"{path.name} intro"),
            after=parse_offset(str(send.get("after", "+0d"))),
            at=time(hour, minute),
            reminders=tuple(parse_offset(str(r)) for r in send.get("reminders") or []),
            closes_after=parse_offset(str(send.get("closes_after", "+8w"))),
            questions=questions,
        )
    except (ValueError, TypeError) as error:
        raise DefinitionError(f"{path.name}: {error}") from None
    if definition.kind not in ("baseline", "follow_up"):
        raise DefinitionError(f"{path.name}: kind must be baseline or follow_up")
    if not questions or len({q.id for q in questions}) != len(questions):
        raise DefinitionError(f"{path.name}: needs questions with distinct ids")
    return definition


@functools.cache
def definitions(root: Path = QUESTIONNAIRES_DIR) -> dict[str, Definition]:
    """Every questionnaire definition shipped, by name (the file name without .yaml)."""
    return {path.stem: read_definition(path) for path in sorted(root.glob("*.yaml"))}


MESSAGES = {
    "required": _l("Please answer this question."),
    "not_a_number": _l("Write a whole number, without decimals or letters."),
    "out_of_bounds": _l("Write a number from %(min)d to %(max)d."),
    "unknown_choice": _l("Choose one of the options."),
    "too_long": _l("The answer is longer than %(max)d characters."),
}


def check_answers(
    definition: Definition, form: Any
) -> tuple[dict[str, Any], dict[str, tuple[str, dict[str, int]]]]:
    """Return the answers of a submitted form, and the problems by question id.

    `form` is a MultiDict (request.form). Unanswered optional questions are left out.
    """
    answers: dict[str, Any] = {}
    problems: dict[str, tuple[str, dict[str, int]]] = {}
    for question in definition.questions:
        if question.type == "multiple":
            chosen = [v for v in form.getlist(question.id) if v]
            valid = {o.value for o in question.options}
            if any(v not in valid for v in chosen):
                problems[question.id] = ("unknown_choice", {})
            elif chosen:
                answers[question.id] = [o.value for o in question.options if o.value in chosen]
            elif question.required:
                problems[question.id] = ("required", {})
            continue
        # A text keeps its line breaks and tabs, no other control character: nobody types one
        # on purpose, PostgreSQL's JSON cannot hold a NUL, and a spreadsheet holds none.
        raw = lines(str(form.get(question.id, ""))).strip()
        if not raw:
            if question.required:
                problems[question.id] = ("required", {})
            continue
        if question.type == "number":
            number = whole_number(raw)
            if number is None:
                problems[question.id] = ("not_a_number", {})
            elif not question.minimum <= number <= question.maximum:
                problems[question.id] = (
                    "out_of_bounds",
                    {"min": question.minimum, "max": question.maximum},
                )
            else:
                answers[question.id] = number
        elif question.type == "likert":
            if (
                not WHOLE_NUMBER.fullmatch(raw)
                or len(raw) > MAX_DIGITS
                or not 1 <= int(raw) <= question.scale
            ):
                problems[question.id] = ("unknown_choice", {})
            else:
                answers[question.id] = int(raw)
        elif question.type == "single":
            if raw not in {o.value for o in question.options}:
                problems[question.id] = ("unknown_choice", {})
            else:
                answers[question.id] = raw
        else:
            if len(raw) > question.max_length:
                problems[question.id] = ("too_long", {"max": question.max_length})
            else:
                answers[question.id] = raw
    return answers, problems


def whole_number(text: str) -> int | None:
    """Return the whole number typed as the page's language writes it (1 200 and 1200 both),
    or None if it is not one."""
    digits = GROUP_SPACES.sub("", text)
    if WHOLE_NUMBER.fullmatch(digits) and len(digits) > MAX_DIGITS:
        return 10**MAX_DIGITS  # beyond any bound, without reading all of it
    try:
        number = parse_number(text, page_locale())
    except ValueError:
        return None
    return int(number) if number == number.to_integral_value() else None
