"""Swedish by default, English complete: Flask-Babel with catalogs read straight from .po files.

Message ids are English; `translations/sv/LC_MESSAGES/messages.po` holds the Swedish. The .po
files are compiled in memory on first use, so no generated .mo file is kept in the source tree.
"""

from __future__ import annotations

import functools
import re
from decimal import Decimal
from functools import cached_property
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import NumberFormatError, format_decimal, parse_decimal
from babel.support import NullTranslations, Translations
from flask import Flask, current_app, g, has_app_context, has_request_context, request, session
from flask_babel import Babel, Domain, get_locale
from flask_login import current_user

LANGUAGES = {"sv": "Svenska", "en": "English"}
CATALOG_DIR = Path(__file__).parent / "translations"


class PoDomain(Domain):
    """A message domain whose catalogs come from .po files compiled in memory, once each."""

    def get_translations(self) -> NullTranslations:
        locale = str(get_locale() or "sv")
        if locale not in self.cache:
            self.cache[locale] = load_catalog(locale)
        return self.cache[locale]


@functools.cache  # catalogs are part of the installed code: read each once per process
def load_catalog(locale: str) -> NullTranslations:
    """Return the translations for `locale` from its .po file (none for English, the source)."""
    path = CATALOG_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


class CampaignBabel(Babel):
    @cached_property
    def domain_instance(self) -> Domain:
        return PoDomain()


def select_language() -> str:
    """Choose the UI language: the user's own setting, then the session's, then the default."""
    if not has_request_context():  # a command or a background job
        return current_app.config["CAMPAIGN_DEFAULT_LANGUAGE"]
    if g.get("stateless"):  # an API request: its Accept-Language, else its token's account's
        return request.accept_languages.best_match(LANGUAGES) or current_user.language
    if current_user and current_user.is_authenticated:
        return current_user.language
    chosen = session.get("language")
    return chosen if chosen in LANGUAGES else current_app.config["CAMPAIGN_DEFAULT_LANGUAGE"]


def init_app(app: Flask) -> None:
    """Install Babel with the language selector and expose the languages to templates."""
    CampaignBabel(app, locale_selector=select_language, default_locale="sv")
    app.config.setdefault("WTF_I18N_ENABLED", True)
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
    app.jinja_env.globals["current_language"] = lambda: str(get_locale() or "sv")


# What people type between the groups of digits: a space, a no-break space (Babel's Swedish
# group separator), a narrow no-break space (the reports') or a thin space.
GROUP_SPACES = re.compile(r"[ \u00a0\u202f\u2009]")
# Babel's Swedish minus is U+2212; people type a hyphen.
MINUS_SIGNS = str.maketrans({"\u2212": "-", "\u2013": "-"})
NUMBER_CHARACTERS = re.compile(r"-?[0-9.,]{1,30}")
# A number in a form: grouped, up to six decimals, no trailing zeros (0,133; 238 407).
FORM_NUMBER = "#,##0.######"


def page_locale() -> str:
    """Return the language of the page (or of the command): 'sv' or 'en'."""
    return str(get_locale() or "sv") if has_app_context() else "sv"


def parse_number(text: str, locale: str) -> Decimal:
    """Return the number in `text` as `locale` writes it, also with a full stop for a decimal
    comma (0.133 in Swedish) and spaces between the groups (238 407); raise ValueError."""
    compact = GROUP_SPACES.sub("", text.strip()).translate(MINUS_SIGNS)
    if not NUMBER_CHARACTERS.fullmatch(compact):
        raise ValueError(f"not a number: {text!r}")
    try:
        number = parse_decimal(compact, locale=locale, strict=True)
    except NumberFormatError:
        raise ValueError(f"not a number: {text!r}") from None
    if not number.is_finite():
        raise ValueError(f"not a number: {text!r}")
    return number


def number_text(value: float | int | Decimal, locale: str) -> str:
    """Return a number as `locale` writes it in a form: grouped, its decimals kept (0,133)."""
    return format_decimal(value, format=FORM_NUMBER, locale=locale)
