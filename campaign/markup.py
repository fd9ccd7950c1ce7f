"""Markdown written by staff, turned into HTML that cannot carry scripts: the one place for it."""

from __future__ import annotations

import threading

import markdown
import nh3
from flask import Flask
from markupsafe import Markup

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "a",
    "ul",
    "ol",
    "li",
    "blockquote",
    "code",
    "pre",
    "h2",
    "h3",
    "h4",
    "hr",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}


def render_markdown(text: str, tags: set[str] = ALLOWED_TAGS) -> Markup:
    """Return sanitised HTML for Markdown `text` with only the `tags` allowed (by default
    ALLOWED_TAGS); links keep only http(s) and mailto."""
    html = _converter().reset().convert(text or "")
    clean = nh3.clean(
        html,
        tags=tags,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above


_local = threading.local()


def _converter() -> markdown.Markdown:
    """Return this thread's Markdown converter: building one costs as much as converting a
    mail, and one is reused after a reset (it keeps state while it converts: one per thread)."""
    if not hasattr(_local, "converter"):
        _local.converter = markdown.Markdown(extensions=["sane_lists", "tables"])
    converter: markdown.Markdown = _local.converter
    return converter


def init_app(app: Flask) -> None:
    """Offer `|markdown` in templates."""
    app.jinja_env.filters["markdown"] = render_markdown
