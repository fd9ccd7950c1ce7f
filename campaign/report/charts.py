"""Charts as plain SVG: horizontal bars per member, and columns over time.

Made here rather than by a plotting library because they are a few rectangles and labels; the
SVG is embedded in the HTML report, the PDF and the dashboard. Each chart has a title and a
description for screen readers, and the numbers are printed on the bars, so nothing is read
from colour alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from campaign.report.numbers import number

BAR = "#1d5fa8"  # the UI's link blue: 6.3:1 on white
MUTED = "#6b7280"
TEXT = "#1f2933"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # None: suppressed or unknown, drawn as a note instead of a bar
    note: str = ""


LABEL_WIDTH, BAR_WIDTH, ROW, TOP = 190, 330, 22, 34  # a bar chart's measures


def bars(title: str, description: str, items: Sequence[Bar], unit: str = "") -> Markup:
    """Horizontal bars, one per item, labelled with its value (or its note)."""
    height = TOP + ROW * len(items) + 10
    peak = max((b.value for b in items if b.value), default=0) or 1
    parts = _opening(title, description, 600, height)
    for n, item in enumerate(items):
        parts += _bar(TOP + n * ROW, item, peak, unit)
    parts.append("</svg>")
    return Markup("".join(parts))


def _bar(y: int, item: Bar, peak: float, unit: str) -> list[str]:
    """One row of a bar chart: its label, then the bar and its value, or the note instead."""
    label = (
        f'<text x="{LABEL_WIDTH - 8}" y="{y + 15}" font-size="12" text-anchor="end" '
        f'fill="{TEXT}">{escape(item.label)}</text>'
    )
    if item.value is None:
        note = f'<text x="{LABEL_WIDTH}" y="{y + 15}" font-size="12" fill="{MUTED}">'
        return [label, f"{note}{escape(item.note)}</text>"]
    width = max(BAR_WIDTH * item.value / peak, 1 if item.value else 0)
    return [
        label,
        f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{width:.1f}" height="{ROW - 6}" '
        f'fill="{BAR}"/>',
        f'<text x="{LABEL_WIDTH + width + 6:.1f}" y="{y + 15}" font-size="12" '
        f'fill="{TEXT}">{number(item.value)}{(" " + escape(unit)) if unit else ""}</text>',
    ]


def columns(title: str, description: str, items: Sequence[tuple[str, int]]) -> Markup:
    """Columns over time (e.g. mail sent per month), the count above each column."""
    left, bottom, plot_height, width = 10, 40, 160, 600
    height = plot_height + bottom + 40
    peak = max((v for _, v in items), default=0) or 1
    step = (width - 2 * left) / max(len(items), 1)
    parts = _opening(title, description, width, height)
    base = 30 + plot_height
    for n, (label, value) in enumerate(items):
        column = plot_height * value / peak
        parts += _column(left + n * step, step, base, column, label, value)
    parts.append("</svg>")
    return Markup("".join(parts))


def _column(x: float, step: float, base: float, column: float, label: str, value: int) -> list[str]:
    """One column: the bar `column` high above `base`, its count on top, its label below."""
    return [
        f'<rect x="{x + step * 0.15:.1f}" y="{base - column:.1f}" width="{step * 0.7:.1f}" '
        f'height="{column:.1f}" fill="{BAR}"/>',
        f'<text x="{x + step / 2:.1f}" y="{base - column - 4:.1f}" font-size="10" '
        f'text-anchor="middle" fill="{TEXT}">{number(value)}</text>',
        f'<text x="{x + step / 2:.1f}" y="{base + 14}" font-size="10" '
        f'text-anchor="middle" fill="{TEXT}">{escape(label)}</text>',
    ]


def _opening(title: str, description: str, width: int, height: int) -> list[str]:
    """A chart's opening tag, its title and description for screen readers, and its heading."""
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-labelledby="{_id(title)}-t {_id(title)}-d">',
        f'<title id="{_id(title)}-t">{escape(title)}</title>',
        f'<desc id="{_id(title)}-d">{escape(description)}</desc>',
        f'<text x="0" y="18" font-size="14" font-weight="bold" fill="{TEXT}">'
        f"{escape(title)}</text>",
    ]


def _id(title: str) -> str:
    """A stable element id from the title: the same report gives the same bytes."""
    return "c" + hashlib.sha256(title.encode()).hexdigest()[:10]
