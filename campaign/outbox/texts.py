"""What each kind of mail says: template files in `campaign/templates/mail/`, like the sequences.

`<name>.<language>.md` holds one kind of mail in one language (Swedish and English, both
required): a front matter block with its `subject` (and, for a mail that does not go to a
participant, the `reason` its footer gives), then the Markdown body. Placeholders are filled by
the outbox's renderer; an unknown one is an error, never a blank. A file whose name starts with
`_` is a part without front matter that several mails put in (the details of a meeting, say).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import yaml

from campaign.i18n import load_catalog
from campaign.outbox.compose import Footer, Rendered, content_template, render

MAIL_DIR = Path(__file__).parent.parent / "templates" / "mail"
LANGUAGES = ("sv", "en")
KEYS = ("subject", "reason")
log = logging.getLogger(__name__)


class MailTemplateError(Exception):
    """A mail template is missing or broken; the message names the file."""


@dataclass(frozen=True)
class Letter:
    """What one mail says, before its placeholders are filled: a template's, or a step's."""

    subject: str
    body: str
    origin: str  # the file it comes from, named in errors
    reason: str | None = None  # the footer of a mail to someone who is not a participant
    shipped: Letter | None = None  # a campaign's own text falls back to the shipped one

    def render(self, context: Mapping[str, Any], *, language: str, footer: Footer) -> Rendered:
        """Fill the placeholders and lay the mail out; a bad placeholder names the file (a
        campaign's own text that fails is logged, and the shipped text goes instead)."""
        try:
            return render(self.subject, self.body, context, language=language, footer=footer)
        except jinja2.TemplateError as error:
            if self.shipped is None:
                raise MailTemplateError(f"{self.origin}: {error}") from error
            log.error(
                "%s cannot be rendered (%s); the shipped text goes instead", self.origin, error
            )
            return self.shipped.render(context, language=language, footer=footer)


def greeting(name: str | None, language: str) -> str:
    """Return the first line of every mail to a person: "Hej Anna!" / "Hi Anna," by their first
    name, or "Hej!" / "Hi there," when it is unknown (no name, or only an address)."""
    return greeting_by_first_name(first_name(name), language)


def greeting_by_first_name(first: str, language: str) -> str:
    """Return the first line of a mail to a person known by this first name (empty: unknown)."""
    _ = load_catalog(language).gettext
    return _("Hi %(name)s,") % {"name": first} if first else _("Hi there,")


def first_name(name: str | None) -> str:
    """Return the first word of a person's name; empty when there is none, or an address."""
    words = (name or "").split()
    return words[0] if words and "@" not in words[0] else ""


def mail_template(name: str, language: str, root: Path = MAIL_DIR) -> Letter:
    """Return the mail template `name` in `language`; raise MailTemplateError if missing or
    broken."""
    return _read(root / f"{name}.{language}.md")


@functools.cache  # the templates are part of the installed code: read each once per process
def mail_part(name: str, language: str, root: Path = MAIL_DIR) -> str:
    """Return the Markdown of the part `_<name>.<language>.md`, with its placeholders."""
    path = root / f"_{name}.{language}.md"
    return _compiled(path, _text(path), 1)


def template_names(root: Path = MAIL_DIR) -> set[str]:
    """Return the names of the mail templates (parts left out), whatever their languages."""
    return {p.name.split(".", 1)[0] for p in root.glob("*.md") if not p.name.startswith("_")}


@functools.cache
def _read(path: Path) -> Letter:
    """Return the mail template in this file, read and checked once."""
    meta, body, body_line = _front_matter(path, _text(path))
    subject = _compiled(path, meta["subject"], 2)
    return Letter(subject, _compiled(path, body, body_line), str(path), meta.get("reason"))


def _front_matter(path: Path, text: str) -> tuple[dict[str, Any], str, int]:
    """Return a template's checked front matter, its body, and the line the body starts on."""
    if not text.startswith("---\n") or "\n---\n" not in text[3:]:
        raise MailTemplateError(f"{path}: must start with a front matter block between ---")
    front, body = text[4:].split("\n---\n", 1)
    return _meta(path, front), body, front.count("\n") + 4


def _meta(path: Path, front: str) -> dict[str, Any]:
    """Return the keys of a front matter, checked: a subject, perhaps a reason, nothing else."""
    try:
        meta = yaml.safe_load(front) or {}
    except yaml.YAMLError as error:
        raise MailTemplateError(f"{path}: the front matter is not valid YAML: {error}") from error
    if not isinstance(meta, dict) or not isinstance(meta.get("subject"), str):
        raise MailTemplateError(f"{path}: the front matter needs a subject")
    if unknown := sorted(set(meta) - set(KEYS)):
        raise MailTemplateError(f"{path}: unknown keys {unknown}; allowed: {', '.join(KEYS)}")
    if not isinstance(meta.get("reason", ""), str):
        raise MailTemplateError(f"{path}: the reason must be one line of text")
    return meta


def _text(path: Path) -> str:
    """Return a template file's text; MailTemplateError if there is no such file."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MailTemplateError(f"{path}: no such mail template") from None


def _compiled(path: Path, source: str, first_line: int) -> str:
    """Return `source` once it is known to compile; raise MailTemplateError naming the line."""
    try:
        content_template(source)
    except jinja2.TemplateSyntaxError as error:
        line = first_line + (error.lineno or 1) - 1
        raise MailTemplateError(f"{path}:{line}: {error.message}") from error
    return source
