"""What people typed, made safe for the report's Markdown and for the members' HTML sections.

The Markdown report is for editing, opened in whatever renders Markdown (CommonMark, GitHub,
Python-Markdown, Pandoc), so nothing a person typed may become HTML there, nor a link to another
scheme than http(s) or mailto, nor an image, nor a heading at the report's own levels (1-4),
nor leave its section:

- a name or any other plain value goes through `text` (or `cell` in a table): it stays on one
  line, `<` becomes `&lt;` (an entity is text in every Markdown, a backslash is not), `&` before
  an entity becomes `&amp;`, and the rest of Markdown's punctuation gets a backslash;
- a member's own Markdown (starting point, work done, tips) goes through `member`: its lists,
  emphasis and links stay, but every `<` outside fenced code becomes `&lt;` (no raw HTML, no
  autolinks), `&` before an entity `&amp;`, `![` a link instead of an image, `{` text (no
  attribute lists), a link to another scheme loses its colon (`javascript%3A…`, a harmless
  relative link); headings move four levels down, also inside lists and quotes; a setext
  underline that could make a heading there is shown as text; a code fence left open is closed.

Only a code fence at the start of a line is taken as code, since an indented one may sit in a
list item that ends before its closing fence; in code that is not taken as such the escapes show
(`&lt;` for `<`), which is the price of never letting HTML through. `demote_headings` moves the
headings alone, for the HTML report, where campaign.markup's sanitiser drops raw HTML and links
to other schemes.
"""

from __future__ import annotations

import re

LEVELS = 4  # the report's own headings use levels 1 to 4
SAFE_SCHEMES = {"http", "https", "mailto"}

INLINE = re.compile(r"[\\`*_{}\[\]>|~#]")
ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
LINE_BREAK = re.compile(r"\r\n|\r|\n")
FENCE = re.compile(r"^(`{3,}|~{3,})(.*)$")
# A line's containers (spaces, quotes, list markers), then 1-6 hashes: an ATX heading.
ATX = re.compile(
    r"^(?P<prefix>(?:[ \t]*(?:>|(?:[-+*]|\d{1,9}[.)])(?=[ \t]|$)))*[ \t]*)"
    r"(?P<hashes>#{1,6})(?=[ \t]|$)"
)
UNDERLINE = re.compile(r"^(?P<prefix>[ \t>]*)(?P<bar>=+|-+)[ \t]*$")
CONTAINER = re.compile(r"^ {0,3}([-*+>]|\d{1,9}[.)])([ \t]|$)")
# `![` or `{` not yet escaped: an even number of backslashes before it.
UNESCAPED = re.compile(r"(?<!\\)((?:\\\\)*)(!(?=\[)|\{)")
# A link's destination (after `](` or a reference's `]:`): its scheme and colon.
DESTINATION = re.compile(
    r"(?P<before>\](?:\(|:)[ \t]*(?:\n[ \t]*)?)"
    r"(?P<scheme>[A-Za-z](?:\\?[A-Za-z0-9+.\-])*)(?P<colon>\\?:)"
)


def text(value: object) -> str:
    """Return a plain value as Markdown text that shows it as it is, on one line."""
    one_line = " ".join(str(value if value is not None else "").split())
    return _entities(INLINE.sub(lambda found: "\\" + found[0], one_line))


def cell(value: object) -> str:
    """Return a plain value as one cell of a Markdown table (pipes are escaped by `text`)."""
    return text(value)


def member(markdown: str | None) -> str:
    """Return a member's Markdown that stays within its section of the Markdown report."""
    return _rewrite(markdown, escape=True)


def demote_headings(markdown: str | None) -> str:
    """Return a member's Markdown with its headings moved below the report's (for HTML)."""
    return _rewrite(markdown, escape=False)


def _rewrite(markdown: str | None, escape: bool) -> str:
    lines = LINE_BREAK.split((markdown or "").replace("\x00", "\ufffd"))
    out: list[str] = []
    prose: list[str] = []  # the lines since the last fence, rewritten together
    fence: tuple[str, int] | None = None
    for line in lines:
        if fence is not None:
            out.append(line)
            if re.fullmatch(rf" {{0,3}}{re.escape(fence[0])}{{{fence[1]},}}[ \t]*", line):
                fence = None
            continue
        opened = FENCE.match(line)
        if opened and not (opened[1][0] == "`" and "`" in opened[2]):
            out.extend(_prose(prose, escape))
            prose = []
            info = re.sub(r"[^\w+.#-]", "", opened[2])  # a language name, nothing to render
            out.append(opened[1] + info)
            fence = (opened[1][0], len(opened[1]))
            continue
        prose.append(line)
    out.extend(_prose(prose, escape))
    if fence is not None:
        out.append(fence[0] * fence[1])  # closed here, not by the report's next heading
    return "\n".join(out)


def _prose(lines: list[str], escape: bool) -> list[str]:
    """Rewrite lines outside code fences: links and HTML first (they may span lines)."""
    if not lines:
        return []
    if escape:
        joined = DESTINATION.sub(_harmless_scheme, "\n".join(lines))
        joined = UNESCAPED.sub(lambda found: f"{found[1]}\\{found[2]}", joined)
        lines = _entities(joined).split("\n")
    out: list[str] = []
    for line in lines:
        underline = UNDERLINE.match(line)
        if underline and out and not _blank(out[-1]):
            if _makes_heading(underline, out[-1]):
                level = 1 if underline["bar"].startswith("=") else 2
                out[-1] = "#" * min(6, level + LEVELS) + " " + out[-1].strip()
            else:  # in a list or a quote: text, so that it makes no heading there
                out.append(f"{underline['prefix']}\\{line[len(underline['prefix']) :]}")
            continue
        out.append(ATX.sub(_demoted, line))
    return out


def _entities(text: str) -> str:
    """`&` before an entity and every `<` as entities: text in every kind of Markdown."""
    return ENTITY.sub("&amp;", text).replace("<", "&lt;")


def _harmless_scheme(found: re.Match[str]) -> str:
    scheme = found["scheme"].replace("\\", "")
    if scheme.lower() in SAFE_SCHEMES:
        return found[0]
    return f"{found['before']}{found['scheme']}%3A"


def _demoted(found: re.Match[str]) -> str:
    return found["prefix"] + "#" * min(6, len(found["hashes"]) + LEVELS)


def _blank(line: str) -> bool:
    return not line.strip(" \t>")


def _makes_heading(underline: re.Match[str], previous: str) -> bool:
    """Whether an underline makes a heading of the line above that can be written as ATX."""
    prefix = underline["prefix"]
    return (
        ">" not in prefix
        and len(prefix.expandtabs(4)) <= 3
        and len(previous) - len(previous.lstrip(" ")) <= 3
        and not previous.startswith("\t")
        and not CONTAINER.match(previous)
        and not ATX.match(previous)
        and not FENCE.match(previous)
    )
