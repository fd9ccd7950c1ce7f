"""A step file written back with as few changed lines as can be, so that a version's diff shows
what the editor changed and not how YAML likes to write it: a key whose value is the same keeps
its lines as they were written (`at: "09:00"`, `unless: [x]`); a changed or new key is written
anew; the keys stand in the usual order (`files.ORDER`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

from campaign.drip.files import ORDER, step_text

KEY = re.compile(r"^(?P<key>[A-Za-z_]\w*):")
EMPTY: tuple[Any, ...] = (None, "", [], ())


def split(text: str) -> tuple[dict[str, Any], str]:
    """Return a step file's front matter (read as YAML) and its body; ({}, text) if unreadable."""
    if not text.startswith("---\n") or "\n---\n" not in text[3:]:
        return {}, text
    front, body = text[4:].split("\n---\n", 1)
    try:
        meta = yaml.safe_load(front) or {}
    except yaml.YAMLError:
        return {}, text
    return (meta, body) if isinstance(meta, dict) else ({}, text)


def rewritten(text: str, meta: Mapping[str, Any], body: str) -> str:
    """Return the step file `text` with this front matter and body, unchanged keys as written."""
    before, _body = split(text)
    blocks = _blocks(text) if before else {}
    if not blocks:
        return step_text(meta, body)
    parts = [
        blocks[key] if key in blocks and before.get(key) == meta[key] else _dumped(key, meta[key])
        for key in ORDER
        if meta.get(key) not in EMPTY
    ]
    return "---\n" + "".join(parts) + "---\n" + body


def _blocks(text: str) -> dict[str, str]:
    """Return each front matter key's lines as written (a list may run over several)."""
    blocks: dict[str, str] = {}
    key = None
    for line in text[4:].split("\n---\n", 1)[0].splitlines(keepends=True):
        if match := KEY.match(line):
            key = match["key"]
            blocks[key] = ""
        if key is not None:
            blocks[key] += line if line.endswith("\n") else line + "\n"
    return blocks


def _dumped(key: str, value: Any) -> str:
    """Return one key written as YAML (a list on one line, as the shipped files write it)."""
    if isinstance(value, list | tuple):
        listed = yaml.safe_dump(list(value), allow_unicode=True, default_flow_style=True)
        return f"{key}: {listed.strip()}\n"
    return yaml.safe_dump({key: value}, allow_unicode=True, sort_keys=False, width=1000)
