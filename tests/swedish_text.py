"""What a Swedish page or mail must not show: English words and raw codes (enum values, slugs).

`offences(text)` returns every such fragment of a text a person reads; `visible(html)` is that
text of a page (no tags, scripts, attributes, input values or URLs).
"""

from __future__ import annotations

import enum
import html
import importlib
import pkgutil
import re
from functools import cache
from pathlib import Path

import campaign
from campaign.drip import fallbacks
from campaign.webhooks.payloads import PAYLOADS

# Words and phrases that never occur in Swedish prose (nor in the names of the test network).
# Case-sensitive where the Swedish word differs only by case.
ENGLISH = (
    " the ", "The ", " and ", " of ", " with ", " from ", " for ", " to the ", " is ", " by ",
    " not ", " your ", " you ", "skipped", "Skipped", "waiting", "Waiting", "added by",
    "sent from", "confirmed", "Version", "Yes", " No ", "Active", "Paused", "Sent", "Queued",
    "Failed", "Cancelled", "Invited", "Completed", "Unsubscribed", "Erased", "Running", "Ended",
    "None", "True", "False", "Municipality", "University", "Hospital", "Meeting", "meeting",
    "Practice", "Questionnaire", "questionnaire", "Invitation", "invitation", "Reminder",
    "Participant", "participant", "Pilot group", "pilot group", "e-mail", "E-mail",
    "fields:", "Stopped", "Show ", "Save", "Cancel", "Delete", "Edit", "Sign in", "Sign out",
    "Please", "please", "Thank you", "Welcome", "rate limit", "Page ", " days", " day ",
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
    "January", "February", "March", "April", "June", "July", "August", "October",
    " AM", " PM", "+00:00", "+01:00", "+02:00",
)  # fmt: skip
# Times as machines write them: ISO 8601 days and instants, seconds with fractions; and a
# template's placeholder left unfilled.
ISO_INSTANT = re.compile(r"\d{4}-\d\d-\d\d(?:T\d\d:\d\d)?|\d\d:\d\d:\d\d\.\d+|\{\{[^}]*\}\}")
# Values that are also Swedish words, or names the test network uses.
NOT_CODES = {"test", "alpha", "beta", "organisation", "sending", "sent"}
SLUG_DIRS = ("sequences", "questionnaires")


@cache
def codes() -> frozenset[str]:
    """Return every string value of every enum of the app, and every sequence and questionnaire
    slug: what a person must never read as it is stored."""
    _import_all()
    values = {
        str(member.value)
        for kind in _enums(enum.Enum)
        if kind.__module__.startswith("campaign.")
        for member in kind
        if isinstance(member.value, str)
    }
    return frozenset((values | _slugs() | step_slugs() | audit_actions()) - NOT_CODES)


# Dotted literals of the code that are not audit actions: settings, columns, files, extensions.
NOT_ACTIONS = re.compile(
    r".*\.(html|txt|po|yaml|md|py|dat|id|url|campaign_id|organisation_id)$"
    r"|^campaign\.(db|clock|zone|outbox_policy)$"
)


# A dotted literal, or the action of a direct call of record(session, actor, "action", ...).
ACTION_LITERAL = r'"([a-z_]+\.[a-z_]+)"|\brecord\(\s*\w+,\s*[\w.]+,\s*"([a-z_]+)"'


@cache
def audit_actions() -> frozenset[str]:
    """Return every audit action the code records: its dotted literals that are not endpoints,
    settings, columns or files."""
    endpoints = {rule.endpoint for rule in _url_map().iter_rules()}
    root = Path(campaign.__file__).parent
    found = {
        dotted or word
        for path in root.rglob("*.py")
        if "migrations" not in path.parts
        for dotted, word in re.findall(ACTION_LITERAL, path.read_text(encoding="utf-8"))
    }
    placeholders = fallbacks.OPTIONAL  # names a mail's text uses, not actions
    placeholders |= set(PAYLOADS)  # the webhooks' event types, not actions
    return frozenset(a for a in found - endpoints - placeholders if not NOT_ACTIONS.match(a))


def _url_map():  # type: ignore[no-untyped-def]
    from campaign import create_app

    app = create_app({"TESTING": True, "CAMPAIGN_DATABASE_URL": "sqlite://",
                      "CAMPAIGN_SECRET_KEY": "x"})  # fmt: skip
    return app.url_map


def _import_all() -> None:
    for module in pkgutil.walk_packages(campaign.__path__, "campaign."):
        if ".migrations" not in module.name and not module.name.endswith("__main__"):
            importlib.import_module(module.name)


def _enums(root: type[enum.Enum]) -> set[type[enum.Enum]]:
    found = set()
    for kind in root.__subclasses__():
        found |= {kind} | _enums(kind)
    return found


def _slugs() -> set[str]:
    root = Path(campaign.__file__).parent
    sequences = {p.name for p in (root / "sequences").iterdir() if p.is_dir()}
    questionnaires = {p.stem for p in (root / "questionnaires").glob("*.yaml")}
    return sequences | questionnaires


def step_slugs() -> frozenset[str]:
    """Return the slugs of the sequences' steps (their file names without number and suffix)."""
    root = Path(campaign.__file__).parent / "sequences"
    return frozenset(p.stem.split("-", 1)[1] for p in root.glob("*/*/[0-9][0-9]-*.md"))


def visible(page: str) -> str:
    """Return the text a person reads on an HTML page."""
    page = re.sub(r"(?is)<(script|style|template)\b.*?</\1>", " ", page)
    page = re.sub(r"(?is)<textarea\b.*?</textarea>", " ", page)  # what a person typed
    page = re.sub(r'(?is)<(\w+)[^>]*\blang="en"[^>]*>.*?</\1>', " ", page)  # English content
    page = re.sub(r'(?is)<(\w+)[^>]*\btranslate="no"[^>]*>.*?</\1>', " ", page)  # a file's source
    page = re.sub(r"(?s)<!--.*?-->", " ", page)
    page = re.sub(r"(?s)<[^>]*>", " ", page)
    return _without_urls(html.unescape(page))


def _without_urls(text: str) -> str:
    text = re.sub(r"https?://\S+|mailto:\S+|/campaigns/\S+|\bcampaign/[\w./-]+", " ", text)
    return re.sub(r"[ \t\u00a0]+", " ", text)


def mail_text(text: str) -> str:
    """Return the text of a mail (its plain part) without the URLs in it."""
    return _without_urls(text)


def offences(text: str) -> list[str]:
    """Return every English fragment and raw code in `text`, each with a little context."""
    found = [_around(text, m.start(), m.end()) for m in _english().finditer(text)]
    found += [_around(text, m.start(), m.end()) for m in ISO_INSTANT.finditer(text)]
    found += [_around(text, m.start(), m.end()) for m in _codes_pattern().finditer(text)]
    return list(dict.fromkeys(found))


@cache
def _english() -> re.Pattern[str]:
    return re.compile("|".join(re.escape(fragment) for fragment in ENGLISH))


@cache
def _codes_pattern() -> re.Pattern[str]:
    alternatives = "|".join(re.escape(code) for code in sorted(codes(), key=len, reverse=True))
    return re.compile(rf"(?<![\w/.@-])(?:{alternatives})(?![\w/@-]|\.\w)")


def _around(text: str, start: int, end: int) -> str:
    before = text[max(0, start - 30) : start].split("\n")[-1]
    after = text[end : end + 30].split("\n")[0]
    return f"{before}[{text[start:end]}]{after}".strip()
