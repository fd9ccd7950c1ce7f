"""The final report with hostile names and member texts, in every format: the HTML (and so the
PDF) carries no element or attribute that the template does not make, the Markdown renders to no
raw HTML, no unsafe link and no heading at the report's levels, and no spreadsheet cell is a
formula. Made through the real `campaign report` command and the Report page's downloads."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import markdown as python_markdown
import openpyxl
import pytest
from flask.testing import FlaskClient
from markdown_it import MarkdownIt
from sqlalchemy.orm import Session

from campaign.exports import neutralise
from campaign.report import md
from campaign.report.document import MEMBER_TAGS
from tests.conftest import Network, Runner, sign_in
from tests.urls import staff

CAMPAIGN = "<img src=x onerror=alert(1)>"
LEAD = '<script>alert(2)</script> & "Alpha" &amp; co'
SHORT = '=HYPERLINK("http://evil.example/","click")'
BETA = "# Beta [x](javascript:alert(3)) | pipes | **bold** {: onclick=alert(4)}"
MEMBER_MD = r"""# Heading one
<script>alert(7)</script>
<img src=x onerror=alert(8)>
[click](javascript:alert(9)) and [ok](https://example.org/a?b=1&c=2) and ![pic](http://evil.example/p.png)
<https://autolink.example> and <javascript:alert(10)> and <a href="javascript:alert(11)">a</a>
[ent](&#106;avascript:alert(12)) and [esc](javascript\:alert(13)) and [spaced](
 JaVaScRiPt:alert(14))
\<img src=x onerror=alert(15)> and \\<img src=x onerror=alert(16)>
- # heading in a list
> ## heading in a quote
Setext
===
- item

  paragraph
  ---
> quoted
> ===
<h2>Fake section</h2>
<!-- an open comment
[ref]: javascript:alert(17)
[use the ref][ref]
{: onclick="alert(18)"}

| a | b |
|---|---|
| =cmd | <b onclick="alert(19)">x</b> |

~~~
<img src=x onerror=alert(21)>
[fenced](javascript:alert(22)) ![fenced](http://evil.example/f.png)
# a heading to Python-Markdown without fenced_code
~~~
===
```

<script>alert(23)</script>

```
```
<b onclick=alert(24)>closed by a longer fence</b>
````
<i onclick=alert(25)>after it</i>
#Forged heading to Python-Markdown
- ##Forged in a list
"""
UNCLOSED = "Some text.\n\n```\n# inside code <b>\n\n## still code"
TIPS = "<div>\n\n## breakout\n\n</section><section class=member><h2>Forged</h2>"


def _members(session: Session, network: Network, hostile: bool) -> None:
    """Give both members every field the report prints: hostile, or plain of the same shape."""
    campaign = network.campaign
    campaign.name = CAMPAIGN if hostile else "Överenskommelsen"
    network.alpha.name = LEAD if hostile else "Alpha kommun"
    network.alpha.short_name = SHORT if hostile else "Alpha"
    network.beta.name = BETA if hostile else "Beta högskola"
    network.beta.short_name = "@SUM(1+1)" if hostile else "Beta"
    for membership in campaign.memberships:
        membership.meeting_software = "| pipes | <b>bold</b>" if hostile else "Lync"
        membership.software_comment = " =1+1 <iframe src=javascript:alert(5)>" if hostile else "-"
        membership.contact_name = "<i onmouseover=alert(6)>Kim</i>" if hostile else "Kim"
        membership.contact_title = "-2+3 ## title" if hostile else "Chef"
        membership.contact_email = "javascript:alert(20)" if hostile else "kim@alpha.se"
        membership.starting_point_md = MEMBER_MD if hostile else "# Heading one\n\nText."
        membership.work_done_md = UNCLOSED if hostile else "Some text."
        membership.tips_md = TIPS if hostile else "Tips."
    session.commit()


def _cli(runner: Runner, tmp_path: Path, fmt: str) -> bytes:
    out = tmp_path / f"report.{fmt}"
    result = runner.invoke("report", "--format", fmt, "-o", str(out), "--language", "en")
    assert result.exit_code == 0, result.output
    return out.read_bytes()


def _download(client: FlaskClient, fmt: str) -> bytes:
    response = client.get(staff(f"/report/final.{fmt}?language=en"))
    assert response.status_code == 200, fmt
    return response.data


class Elements(HTMLParser):
    """Every element (tag and attributes) of a page, in order, and its text."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.headings: list[tuple[int, str]] = []
        self._heading: int | None = None
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, {name: value or "" for name, value in attrs}))
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = int(tag[1])
            self.headings.append((self._heading, ""))

    def handle_endtag(self, tag: str) -> None:
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._heading is not None:
            level, text = self.headings[-1]
            self.headings[-1] = (level, text + data)


def _safe_links(elements: Elements) -> None:
    for tag, attrs in elements.found:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        for name in ("href", "src", "action", "formaction", "xlink:href"):
            if name in attrs:
                scheme = re.match(r"\s*([a-zA-Z][a-zA-Z0-9+.\-]*):", attrs[name])
                assert scheme is None or scheme[1].lower() in {"http", "https", "mailto"}, attrs


def _report_headings(elements: Elements) -> list[int]:
    return [level for level, _text in elements.headings if level <= 4]


def test_the_html_report_has_no_markup_but_the_templates(
    runner: Runner, client: FlaskClient, session: Session, network: Network, tmp_path: Path
) -> None:
    _members(session, network, hostile=False)
    plain = Elements(_cli(runner, tmp_path, "html").decode())
    allowed: dict[str, set[str]] = {}
    for tag, attrs in plain.found:
        allowed.setdefault(tag, set()).update(attrs)
    for tag in MEMBER_TAGS:  # what a member's Markdown may make in its section, no more
        allowed.setdefault(tag, set()).update({"href", "title", "rel"} if tag == "a" else set())

    _members(session, network, hostile=True)
    sign_in(client, network.lead.email)
    for page in (_cli(runner, tmp_path, "html"), _download(client, "html")):
        hostile = Elements(page.decode())
        for tag, attrs in hostile.found:
            assert tag in allowed and set(attrs) <= allowed[tag], (tag, attrs)
        _safe_links(hostile)
        assert [t for t, _a in hostile.found].count("script") == 0
        assert [t for t, _a in hostile.found].count("style") == 1  # the template's own
        # The report's own headings are all there is at levels 1-4: the members' sit below.
        assert _report_headings(hostile) == _report_headings(plain)
        assert hostile.headings[0] == (1, CAMPAIGN)  # the name shown as it was typed
        text = "".join(hostile.text)
        assert f"The agreement {CAMPAIGN} ran from" in text
        assert f"{LEAD} led the agreement." in text
        assert "<i onmouseover=alert(6)>Kim</i>" in text


def _commonmark(text: str) -> str:
    renderer = MarkdownIt("commonmark", {"html": True}).enable("table")
    renderer.validateLink = lambda url: True  # show what the text asks for, unfiltered
    return str(renderer.render(text))


def _python_markdown(text: str) -> str:
    return python_markdown.markdown(text, extensions=["tables", "fenced_code"])


def _python_markdown_plain(text: str) -> str:
    """Python-Markdown as `markdown.markdown(text)` calls it: no fenced code, so the lines
    between two fences are prose to it."""
    return python_markdown.markdown(text)


MARKDOWN_TAGS = {
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "a", "em", "strong", "code",
    "pre", "blockquote", "hr", "br", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip


@pytest.mark.parametrize(
    "render",
    [_commonmark, _python_markdown, _python_markdown_plain],
    ids=["commonmark", "python-fenced-code", "python-plain"],
)
def test_the_markdown_report_renders_no_html_no_unsafe_link_and_no_member_headings(
    runner: Runner,
    client: FlaskClient,
    session: Session,
    network: Network,
    tmp_path: Path,
    render: Callable[[str], str],
) -> None:
    _members(session, network, hostile=False)
    plain = Elements(render(_cli(runner, tmp_path, "md").decode()))
    _members(session, network, hostile=True)
    sign_in(client, network.lead.email)
    for text in (_cli(runner, tmp_path, "md").decode(), _download(client, "md").decode()):
        rendered = Elements(render(text))
        for tag, attrs in rendered.found:
            assert tag in MARKDOWN_TAGS, (tag, attrs)  # no raw HTML, no image
            assert set(attrs) <= {"href", "title", "class", "style", "align"}, (tag, attrs)
        _safe_links(rendered)
        assert _report_headings(rendered) == _report_headings(plain)
        # The unclosed fence ends with its member's text: the tips still have their heading.
        tips = [t for level, t in rendered.headings if level == 4 and t.startswith("Tips")]
        assert tips == [f"Tips from {SHORT}", "Tips from @SUM(1+1)"]
        if render is _commonmark:
            assert rendered.headings[0] == (1, CAMPAIGN)
            names = [t for level, t in rendered.headings if level == 3]
            assert sorted(names) == sorted([LEAD, BETA])
    assert "<https://autolink" not in text and "&lt;https://autolink.example>" in text


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("<b>x</b>", "&lt;b\\>x&lt;/b\\>"),
        ("a | b", "a \\| b"),
        ("# not a heading", "\\# not a heading"),
        ("[x](javascript:alert(1))", "\\[x\\](javascript:alert(1))"),
        ("Fyrbodal & Co &amp; AB", "Fyrbodal & Co &amp;amp; AB"),
        ("two\nlines", "two lines"),
    ],
)
def test_a_plain_value_shows_as_typed_in_markdown(typed: str, shown: str) -> None:
    assert md.text(typed) == shown
    rendered = Elements(_commonmark(md.text(typed)))
    assert [tag for tag, _attrs in rendered.found] == ["p"]
    assert "".join(rendered.text).strip() == " ".join(typed.split())


def test_members_markdown_keeps_its_lists_links_and_code() -> None:
    text = "- one\n- [two](https://example.org)\n\n```py\nx = 1\n<b>code</b>\n````\n\n*em*"
    written = md.member(text)
    assert "```py\nx = 1\n&lt;b>code&lt;/b>\n```\n" in written  # closed as it was opened
    for render in (_commonmark, _python_markdown):
        rendered = render(written)
        assert '<li><a href="https://example.org">two</a></li>' in rendered
        # Code, with the escape that keeps it text where fences are not known.
        assert "x = 1\n&amp;lt;b&gt;code&amp;lt;/b&gt;\n</code></pre>" in rendered
        assert "<em>em</em>" in rendered


def _cells_are_not_formulas(rows: list[list[object]]) -> None:
    for row in rows:
        for value in row:
            if isinstance(value, str) and value.lstrip()[:1] in ("=", "+", "-", "@", "\uff1d"):
                assert value.startswith("'"), value


def test_the_figures_as_csv_and_xlsx_hold_no_formula(
    runner: Runner, client: FlaskClient, session: Session, network: Network, tmp_path: Path
) -> None:
    _members(session, network, hostile=True)
    sign_in(client, network.lead.email)
    for body in (_cli(runner, tmp_path, "csv"), _download(client, "csv")):
        # In English, commas and decimal points, as Excel in English reads them.
        rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=","))
        assert {r[0] for r in rows[1:]} == {"'" + SHORT, "'@SUM(1+1)"}
        assert rows[1][4].startswith("' =1+1")  # after leading spaces, too
        _cells_are_not_formulas(rows)
    for body in (_cli(runner, tmp_path, "xlsx"), _download(client, "xlsx")):
        sheet = openpyxl.load_workbook(io.BytesIO(body)).active
        assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
        _cells_are_not_formulas([[c.value for c in row] for row in sheet.iter_rows()])


@pytest.mark.parametrize("typed", [" =1+1", "\n=1+1", "\uff1dSUM(A1)", "\t@x", "-1+1"])
def test_formula_looking_text_gets_an_apostrophe(typed: str) -> None:
    assert neutralise(typed) == "'" + typed
    assert neutralise(-3) == -3 and neutralise("Ale") == "Ale"


def _weasyprint_loads() -> bool:
    try:
        import weasyprint  # noqa: F401  (needs the Pango library of the system)
    except OSError:
        return False
    return True


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs pdftotext (poppler-utils)")
@pytest.mark.skipif(not _weasyprint_loads(), reason="needs Pango for weasyprint (libpango)")
def test_the_pdf_shows_hostile_names_as_text(
    runner: Runner, session: Session, network: Network, tmp_path: Path
) -> None:
    _members(session, network, hostile=True)
    (tmp_path / "r.pdf").write_bytes(_cli(runner, tmp_path, "pdf"))
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "r.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert CAMPAIGN in text and "<script>alert(2)</script>" in text
