"""Numbers written the way the reader's language writes them, through Babel.

Figures are whole numbers with their thousands grouped (203 814 in Swedish, 203,814 in
English); factors keep their decimals (0,133 in Swedish, 0.133 in English). The language is
Flask-Babel's current one: the reader's on a page, the forced one in a download.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import format_decimal

FACTOR = "#,##0.######"  # a factor keeps up to six decimals and drops trailing zeros
# Babel groups Swedish thousands with a no-break space; the reports have always used the
# narrow one, which Swedish typesetting prefers, and a reader sees the same number either way.
SPACES = str.maketrans({"\u00a0": "\u202f"})


def number(value: float) -> str:
    """Return `value` rounded to a whole number, its thousands grouped."""
    return format_decimal(round(value)).translate(SPACES)


def factor(value: float) -> str:
    """Return a factor such as kg CO2 per km with its decimals, in the reader's language."""
    return format_decimal(value, format=FACTOR).translate(SPACES)


def init_app(app: Flask) -> None:
    """Give templates the `number` and `factor` filters."""
    app.jinja_env.filters.update(number=number, factor=factor)
