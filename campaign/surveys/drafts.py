"""The questionnaire editor's form: a draft (the YAML mapping of a definition) read from the
posted fields, the YAML text written from it, and the blocks the page shows from a draft.

Question and option ids travel in the form, so a draft shown again after a problem is read back
the same way. A structure field that is not posted (the page leaves them out once answers
exist) keeps the saved value of the question with that id; stored.check refuses any change.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from flask_babel import lazy_gettext as _l

from campaign.plaintext import lines
from campaign.surveys.definitions import LANGUAGES, MESSAGES, TYPES, WHOLE_NUMBER

Raw = dict[str, Any]
Form = Any  # a MultiDict: request.form
OPTION_VALUE = re.compile(r"[a-z0-9_]{1,40}")
QUESTION_ID = re.compile(r"[a-z][a-z0-9_]{0,39}")
COUNT = re.compile(r"[0-9]{1,9}")
TEXTS = ("text", "help", "unit", "low", "high")
BAD_VALUE = _l("Write a short name in small letters, digits and _ such as video_room.")
BAD_ID = _l("Write a short name in small letters, digits and _ such as meetings_per_week.")
TAKEN = ("csrf_token",)  # the answer form's own field


def load(text: str) -> Raw:
    """Return the mapping of a definition's YAML text (an empty one if it is not one)."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError:
        return {}
    return raw if isinstance(raw, dict) else {}


class _Dumper(yaml.SafeDumper):
    """Write texts of several lines as blocks (|), as the shipped files do."""


def _text(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _text)


def dump(raw: Raw) -> str:
    """Return the YAML text of a draft, in the shipped files' order of keys."""
    return yaml.dump(raw, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)


def from_form(form: Form, saved: Raw) -> tuple[Raw, dict[str, str]]:
    """Return the draft the form describes, and its own problems by place (numbers that are
    not numbers, option values that are not names); the loader's checks come after."""
    by_id = {str(q.get("id")): q for q in saved.get("questions") or [] if isinstance(q, dict)}
    draft: Raw = {"kind": saved.get("kind")}
    for part in ("title", "intro"):
        draft[part] = _texts(form, part, saved.get(part))
    if "send" in saved:
        draft["send"] = saved["send"]
    found = [_question(form, i, by_id) for i in range(1, _count(form, "questions") + 1)]
    found.append(_new_question(form))
    ordered = sorted((q for q in found if q is not None), key=lambda q: q.pop("_position"))
    problems = {}
    for n, question in enumerate(ordered, start=1):
        problems.update({f"q{n}-{p}": m for p, m in question.pop("_problems").items()})
    draft["questions"] = ordered
    return draft, problems


def _count(form: Form, key: str) -> int:
    value = form.get(key, "")
    return min(int(value), 200) if COUNT.fullmatch(value) else 0


def _texts(form: Form, prefix: str, saved: Any) -> dict[str, str]:
    saved = saved if isinstance(saved, dict) else {}
    return {
        lang: lines(str(form.get(f"{prefix}-{lang}", saved.get(lang, "")))).strip()
        for lang in LANGUAGES
    }


def _question(form: Form, i: int, by_id: dict[str, Raw]) -> Raw | None:
    """Read question block i; None if it is to be removed."""
    key = f"q{i}"
    if form.get(f"{key}-remove"):
        return None
    qid = form.get(f"{key}-id", "").strip()
    saved = by_id.get(qid, {})
    kind = form.get(f"{key}-type", saved.get("type", "text"))
    required = form.getlist(f"{key}-required")
    question: Raw = {"id": qid, "type": kind}
    question["required"] = "1" in required if required else bool(saved.get("required"))
    question["text"] = _texts(form, f"{key}-text", saved.get("text"))
    helps = _texts(form, f"{key}-help", saved.get("help"))
    if any(helps.values()):
        question["help"] = helps
    question["_problems"] = {} if saved else _id_problems(qid)
    _typed(form, key, saved, question)
    # A question moved to a taken place goes before the one that was there.
    position = _position(form, key, i)
    question["_position"] = (position, position == i, i)
    return question


def _id_problems(qid: str) -> dict[str, Any]:
    """A new question's id: a short name the answer form can use as a field."""
    return {} if QUESTION_ID.fullmatch(qid) and qid not in TAKEN else {"id": BAD_ID}


def _position(form: Form, key: str, i: int) -> int:
    value = form.get(f"{key}-position", "").strip()
    return int(value) if WHOLE_NUMBER.fullmatch(value) and len(value) < 6 else i


def _typed(form: Form, key: str, saved: Raw, question: Raw) -> None:
    """Add the fields of the question's type (those of another type are dropped)."""
    kind = question["type"]
    if kind == "number":
        question["unit"] = _texts(form, f"{key}-unit", saved.get("unit"))
        _number(form, key, saved, question, "min", 0)
        _number(form, key, saved, question, "max", 1000)
        outcome = form.get(f"{key}-outcome", saved.get("outcome") or "")
        if outcome:
            question["outcome"] = outcome
    elif kind == "likert":
        _number(form, key, saved, question, "scale", 5)
        question["low"] = _texts(form, f"{key}-low", saved.get("low"))
        question["high"] = _texts(form, f"{key}-high", saved.get("high"))
    elif kind in ("single", "multiple"):
        question["options"] = _options(form, key, saved, question["_problems"])
    elif kind == "text":
        _number(form, key, saved, question, "max_length", 2000)


def _number(form: Form, key: str, saved: Raw, question: Raw, name: str, default: int) -> None:
    value = str(form.get(f"{key}-{name}", saved.get(name, default))).strip()
    if WHOLE_NUMBER.fullmatch(value) and len(value) < 10:
        question[name] = int(value)
    else:
        question[name] = default
        question["_problems"][name] = MESSAGES["not_a_number"]


def _options(form: Form, key: str, saved: Raw, problems: dict[str, Any]) -> list[Raw]:
    """Read the question's options: the listed ones not removed, then a new one if given."""
    if f"{key}-options" not in form:
        return list(saved.get("options") or [])
    by_value = {str(o.get("value")): o for o in saved.get("options") or [] if isinstance(o, dict)}
    options = []
    for j in range(1, _count(form, f"{key}-options") + 1):
        value = form.get(f"{key}-o{j}-value", "").strip()
        if not OPTION_VALUE.fullmatch(value):
            problems["options"] = BAD_VALUE
        if not form.get(f"{key}-o{j}-remove"):
            options.append({"value": value, **_texts(form, f"{key}-o{j}", by_value.get(value))})
    new = form.get(f"{key}-onew-value", "").strip()
    if new:
        if not OPTION_VALUE.fullmatch(new):
            problems["onew"] = BAD_VALUE
        options.append({"value": new, **_texts(form, f"{key}-onew", None)})
    return options


def _new_question(form: Form) -> Raw | None:
    """The question added at the end, if an id is given."""
    qid = form.get("new-id", "").strip()
    if not qid:
        return None
    kind = form.get("new-type", "text")
    question: Raw = {"id": qid, "type": kind if kind in TYPES else "text", "required": False}
    question["text"] = _texts(form, "new-text", None)
    question["_problems"] = _id_problems(qid)
    _typed(form, "new", {}, question)
    question["_position"] = (10**6, True, 0)
    return question


def blocks(draft: Raw) -> list[Raw]:
    """Return the draft's questions with every field the page shows (empty when missing)."""
    shown = []
    for n, raw in enumerate(draft.get("questions") or [], start=1):
        question = {"n": n, **(raw if isinstance(raw, dict) else {})}
        for part in TEXTS:
            question[part] = _texts({}, "", question.get(part))
        question["options"] = [
            {"value": o.get("value", ""), **_texts({}, "", o)}
            for o in question.get("options") or []
            if isinstance(o, dict)
        ]
        shown.append(question)
    return shown
