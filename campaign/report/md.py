"""What people typed, made safe for the report's Markdown and for the members' HTML sections.

The Markdown report is for editing, opened in whatever renders Markdown (CommonMark, GitHub,
Python-Markdown, Pandoc), so nothing a person typed may become HTML there, nor a link to another
scheme than http(s) or mailto, nor an image, nor a heading at the report's own levels (1-4),
nor leave its section:

- a name or any other plain value goes through `text` (or `cell` in a table): it stays on one
  line, `<` becomes `&lt;` (an entity is text in every Markdown, a backslash is not), `&` before
  an entity becomes `&amp;`, and the rest of Markdown's punctuation gets a backslash;
- a member's own Markdown (starting point, work done, tips) goes through `member`: its lists,
  emphasis and links stay, but every `<` becomes `&lt;` (no raw HTML, no autolinks), `&`
  before an entity `&amp;`, `![` a link instead of an image, `{` text (no attribute lists), a
  link to another scheme loses its colon (`javascript%3A…`, a harmless relative link);
  headings move four levels down, also inside lists and quotes; a setext underline that could
  make a heading there is shown as text, and so is a `#` that Python-Markdown alone would take
  for a heading (`#Title`); a code fence left open is closed.

Fenced code is rewritten like the rest: Python-Markdown without its fenced_code extension (its
default, and what `markdown.markdown(text)` does) reads the lines between two fences as prose,
so raw HTML there would be live. In a renderer that knows fences the escapes show in the code
(`&lt;` for `<`), which is the price of never letting HTML through. Only a fence at the start of
a line is taken as one (an indented one may sit in a list item that ends before its closing
fence), and a fence closes with exactly its opening fence, the only closing fenced_code knows.
`demote_headings` moves the headings alone, for the HTML report, where campaign.markup's
sanitiser drops raw HTML, headings at the report's levels and links to other schemes.
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
CONTAINERS = r"^(?P<prefix>(?:[ \t]*(?:>|(?:[-+*]|\d{1,9}[.)])(?=[ \t]|$)))*[ \t]*)"
ATX = re.compile(rf"{CONTAINERS}(?P<hashes>#{{1,6}})(?=[ \t]|$)")
# Any other hash after the containers: text in CommonMark, a heading in Python-Markdown.
HASH = re.compile(rf"{CONTAINERS}(?=#)")
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
    blocks = _fenced(LINE_BREAK.split((markdown or "").replace("\x00", "\ufffd")))
    if escape:  # all of it, fenced code too: some renderers read it as prose
        return "\n".join(_prose([line for _code, lines in blocks for line in lines], escape))
    return "\n".join(
        line for code, lines in blocks for line in (lines if code else _prose(lines, escape))
    )


def _fenced(lines: list[str]) -> list[tuple[bool, list[str]]]:
    """Return the lines as blocks of prose and of fenced code, (is code, lines), each fence
    written as CommonMark and Python-Markdown's fenced_code both read it, and none left open."""
    blocks: list[tuple[bool, list[str]]] = [(False, [])]
    fence = ""  # the open fence, e.g. "```"
    for line in lines:
        if fence:
            closing = rf" {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*"
            if re.fullmatch(closing, line):
                line, fence = fence, ""
            blocks[-1][1].append(line)
            if not fence:
                blocks.append((False, []))
            continue
        opened = FENCE.match(line)
        if opened and not (opened[1][0] == "`" and "`" in opened[2]):
            fence = opened[1]
            info = re.sub(r"[^\w+.#-]", "", opened[2])  # a language name, nothing to render
            blocks.append((True, [fence + info]))
            continue
        blocks[-1][1].append(line)
    if fence:
        blocks[-1][1].append(fence)  # closed here, not by the report's next heading
    return blocks


def _prose(lines: list[str], escape: bool) -> list[str]:
    """Rewrite lines of prose (all lines, for the Markdown report): links and HTML first (they
    may span lines)."""
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
        if ATX.match(line):
            out.append(ATX.sub(_demoted, line))
        else:
            out.append(HASH.sub(r"\g<prefix>\\", line))
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
