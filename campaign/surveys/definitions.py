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
    """A questionnaire is wrong; the message names the file and the place.

    `problem` is the sentence alone (translated when shown), `place` the part it concerns for
    a form ("title", "q3", "q3-text", "q3-options"; "" for the whole).
    """

    def __init__(self, where: str, problem: Any, place: str = "") -> None:
        super().__init__(f"{where}: {problem}")
        self.problem = problem
        self.place = place


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


PROBLEMS = {
    "texts": _l("needs a text in each of sv, en"),
    "type": _l("type must be one of single, multiple, likert, number, text"),
    "id": _l("id must be a name such as trips_replaced"),
    "options": _l("needs at least two options with distinct values"),
    "bounds": _l("max must be above min"),
    "outcome": _l("outcome must be one of trips, km, hours"),
    "scale": _l("scale must be 3 to 10"),
    "length": _l("max_length must be 1 to 100000"),
    "yaml": _l("not valid YAML"),
    "mapping": _l("expected a mapping"),
    "kind": _l("kind must be baseline or follow_up"),
    "questions": _l("needs questions with distinct ids"),
}


@dataclass(frozen=True)
class Where:
    """A place in a questionnaire: as the file's reader says it, and as a form field names it."""

    label: str
    place: str = ""

    def part(self, name: str) -> Where:
        return Where(f"{self.label} {name}", f"{self.place}-{name}" if self.place else name)

    def error(self, code: str) -> DefinitionError:
        return DefinitionError(self.label, PROBLEMS[code], self.place)


def _texts(raw: Any, where: Where) -> dict[str, str]:
    if not isinstance(raw, dict) or any(not str(raw.get(lang, "")).strip() for lang in LANGUAGES):
        raise where.error("texts")
    return {lang: str(raw[lang]).strip() for lang in LANGUAGES}


def _question(raw: dict[str, Any], where: Where) -> Question:
    kind = raw.get("type")
    if kind not in TYPES:
        raise where.error("type")
    values: dict[str, Any] = {
        "id": str(raw.get("id", "")),
        "type": kind,
        "text": _texts(raw.get("text"), where.part("text")),
        "required": bool(raw.get("required", False)),
    }
    if not values["id"].isidentifier():
        raise where.error("id")
    if "help" in raw:
        values["help"] = _texts(raw["help"], where.part("help"))
    values.update(_TYPED[kind](raw, where))
    return Question(**values)


def _choices(raw: dict[str, Any], where: Where) -> dict[str, Any]:
    options = tuple(
        Option(str(o.get("value")), _texts(o, where.part("options")))
        for o in raw.get("options") or []
    )
    if len(options) < 2 or len({o.value for o in options}) != len(options):
        raise where.part("options").error("options")
    return {"options": options}


def _number(raw: dict[str, Any], where: Where) -> dict[str, Any]:
    values: dict[str, Any] = {"unit": _texts(raw.get("unit"), where.part("unit"))}
    values["minimum"], values["maximum"] = int(raw.get("min", 0)), int(raw.get("max", 0))
    if values["maximum"] <= values["minimum"]:
        raise where.part("bounds").error("bounds")
    if raw.get("outcome") is not None:
        if raw["outcome"] not in OUTCOMES:
            raise where.part("outcome").error("outcome")
        values["outcome"] = raw["outcome"]
    return values


def _likert(raw: dict[str, Any], where: Where) -> dict[str, Any]:
    scale = int(raw.get("scale", 5))
    if not 3 <= scale <= 10:
        raise where.part("scale").error("scale")
    low, high = (
        _texts(raw.get("low"), where.part("low")),
        _texts(raw.get("high"), where.part("high")),
    )
    return {"scale": scale, "low": low, "high": high}


def _text(raw: dict[str, Any], where: Where) -> dict[str, Any]:
    length = int(raw.get("max_length", 2000))
    if not 1 <= length <= 100_000:
        raise where.part("max_length").error("length")
    return {"max_length": length}


_TYPED = {"single": _choices, "multiple": _choices, "number": _number, "likert": _likert,
          "text": _text}  # fmt: skip


def read_definition(path: Path) -> Definition:
    """Read one questionnaire file; raise DefinitionError naming what is wrong."""
    return parse_definition(path.stem, path.read_text(encoding="utf-8"))


def parse_definition(name: str, text: str) -> Definition:
    """Read one questionnaire's YAML text; raise DefinitionError naming what is wrong."""
    where = Where(f"{name}.yaml")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise DefinitionError(where.label, f"{PROBLEMS['yaml']} ({error})") from None
    if not isinstance(raw, dict):
        raise where.error("mapping")
    try:
        definition = _definition(name, raw, where)
    except (ValueError, TypeError, AttributeError) as error:
        raise DefinitionError(where.label, str(error)) from None
    if definition.kind not in ("baseline", "follow_up"):
        raise where.error("kind")
    questions = definition.questions
    if not questions or len({q.id for q in questions}) != len(questions):
        raise where.part("questions").error("questions")
    return definition


def _definition(name: str, raw: dict[str, Any], where: Where) -> Definition:
    send = raw.get("send") or {}
    hour, minute = (int(x) for x in str(send.get("at", "09:00")).split(":"))
    questions = tuple(
        _question(q, Where(f"{where.label} question {n}", f"q{n}"))
        for n, q in enumerate(raw.get("questions") or [], start=1)
    )
    return Definition(
        name=name,
        kind=str(raw.get("kind")),
        title=_texts(raw.get("title"), where.part("title")),
        intro=_texts(raw.get("intro"), where.part("intro")),
        after=parse_offset(str(send.get("after", "+0d"))),
        at=time(hour, minute),
        reminders=tuple(parse_offset(str(r)) for r in send.get("reminders") or []),
        closes_after=parse_offset(str(send.get("closes_after", "+8w"))),
        questions=questions,
    )


@functools.cache
def definitions(root: Path = QUESTIONNAIRES_DIR) -> dict[str, Definition]:
    """Every questionnaire definition shipped, by name (the file name without .yaml)."""
    return {path.stem: read_definition(path) for path in sorted(root.glob("*.yaml"))}


def structure_of(definition: Definition) -> tuple[Any, ...]:
    """What stored answers depend on: the kind and each question's id, type, requiredness,
    option values, bounds, scale, length and outcome, in order. Everything else is wording."""
    questions = tuple(
        (q.id, q.type, q.required, tuple(o.value for o in q.options), q.minimum, q.maximum,
         q.scale, q.max_length, q.outcome)
        for q in definition.questions
    )  # fmt: skip
    return (definition.kind, questions)


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
