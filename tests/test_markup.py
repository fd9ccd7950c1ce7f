"""Markdown written by staff becomes HTML that keeps its layout and links but can carry no
script: what the sanitiser keeps, what it strips, and how text is escaped."""

from __future__ import annotations

import pytest
from flask import Flask, render_template_string
from markupsafe import Markup

from campaign import markup
from campaign.markup import render_markdown


def html(text: str | None, **options: set[str]) -> str:
    return str(render_markdown(text, **options))  # None too: stored text may be empty


def test_emphasis_and_paragraphs_become_html() -> None:
    assert html("**fet** och *kursiv*") == "<p><strong>fet</strong> och <em>kursiv</em></p>"


def test_the_result_is_markup_so_templates_do_not_escape_it_again() -> None:
    assert isinstance(render_markdown("*a*"), Markup)


@pytest.mark.parametrize("empty", ["", None])
def test_no_text_gives_no_html(empty: str | None) -> None:
    assert html(empty) == ""


def test_swedish_letters_stay_letters_not_entities() -> None:
    assert html("Åsa Öberg är här") == "<p>Åsa Öberg är här</p>"


def test_angle_brackets_and_ampersands_in_text_are_escaped() -> None:
    assert html("a < b & c > d") == "<p>a &lt; b &amp; c &gt; d</p>"


def test_entities_written_by_hand_stay_entities() -> None:
    assert html("&amp; &lt;") == "<p>&amp; &lt;</p>"


def test_code_shows_html_as_text() -> None:
    assert html("`<b>`") == "<p><code>&lt;b&gt;</code></p>"
    assert "&lt;script&gt;" in html("    <script>x</script>")


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>hej",
        "<style>p{}</style>hej",
        "<iframe src=https://e.se></iframe>hej",
    ],
)
def test_scripts_styles_and_frames_go_with_their_content(text: str) -> None:
    assert html(text).strip() == "<p>hej</p>"


def test_an_image_and_its_event_handler_are_dropped() -> None:
    assert html("<img src=x onerror=alert(1)>") == "<p></p>"
    assert html("![alt](https://e.se/a.png)") == "<p></p>"


def test_a_tag_not_allowed_keeps_its_text() -> None:
    assert html("<b>fet</b> <u>och</u> <span>mer</span>") == "<p>fet och mer</p>"
    assert html("<details><summary>s</summary>d</details>") == "sd"


def test_a_top_level_heading_is_text_and_lower_ones_stay() -> None:
    assert html("# Rubrik\n\n## Under\n\n### Mer") == "Rubrik\n<h2>Under</h2>\n<h3>Mer</h3>"


def test_attributes_other_than_a_links_href_and_title_are_dropped() -> None:
    anchor = '<a href="https://e.se" onclick="x()" style="color:red" class="c">l</a>'
    assert html(anchor) == '<p><a href="https://e.se" rel="noopener noreferrer">l</a></p>'


def test_web_links_keep_their_address_and_title_and_open_without_referrer() -> None:
    assert html('[sida](https://e.se/å "Titel")') == (
        '<p><a href="https://e.se/å" title="Titel" rel="noopener noreferrer">sida</a></p>'
    )


@pytest.mark.parametrize("address", ["mailto:a@b.se", "http://e.se", "/relative"])
def test_links_to_mail_web_and_this_site_are_kept(address: str) -> None:
    assert f'href="{address}"' in html(f"[x]({address})")


@pytest.mark.parametrize(
    "text",
    [
        "[x](javascript:alert(1))",
        "[x](data:text/html,hi)",
        "[x](vbscript:msgbox)",
        '<A HREF="JaVaScRiPt:alert(1)">x</A>',
        "[x](java&#x09;script:alert(1))",
    ],
)
def test_links_to_other_schemes_lose_their_address(text: str) -> None:
    assert html(text) == '<p><a rel="noopener noreferrer">x</a></p>'


def test_tables_lists_quotes_and_line_breaks_are_kept() -> None:
    table = html("| a | b |\n|---|---|\n| 1 | 2 |")
    assert table.startswith("<table>\n<thead>") and "<td>2</td>" in table
    assert (
        html("1. a\n2. b\n\n- c") == "<ol>\n<li>a</li>\n<li>b</li>\n</ol>\n<ul>\n<li>c</li>\n</ul>"
    )
    assert html("> citat") == "<blockquote>\n<p>citat</p>\n</blockquote>"
    assert html("rad  \nbrytning") == "<p>rad<br>\nbrytning</p>"


def test_fewer_tags_can_be_asked_for() -> None:
    assert html("**a** [l](https://x.se)", tags={"p"}) == "<p>a l</p>"


def test_the_template_filter_renders_markdown() -> None:
    app = Flask(__name__)
    markup.init_app(app)
    with app.app_context():
        page = render_template_string("{{ text|markdown }}", text="**<i>x</i>**")
    assert page == "<p><strong>x</strong></p>"
