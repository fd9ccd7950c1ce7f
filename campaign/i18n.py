"""Swedish by default, English complete: Flask-Babel with catalogs read straight from .po files.

Message ids are English; `translations/sv/LC_MESSAGES/messages.po` holds the Swedish. The .po
files are compiled in memory on first use, so no generated .mo file is kept in the source tree.
"""

from __future__ import annotations

import functools
from functools import cached_property
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import Flask, current_app, has_request_context, session
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
