"""The Report page after `campaign demo --pilot`, read as the lead administrator reads it: its
figures are those campaign.report.figures.compute gives for the moment it names, its charts
draw one bar per member with the member's name and a length that follows the figure, and the
downloads made from it (HTML and Markdown) carry the same figures, member by member."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from campaign.report.figures import Figures, MemberFigures, compute
from tests.conftest import Runner, csrf_token, sign_in
from tests.demo.test_demo import SEED_TABLE, _load, demo_campaign, staff
from tests.report.test_document import _pilot

NOW = datetime(2015, 4, 1, 10, 0, tzinfo=UTC)  # after the demo pilot's follow-up
MEMBERS = [name for name, _software, _comment in SEED_TABLE]  # the report's order
SVG = "{http://www.w3.org/2000/svg}"
BAR_WIDTH = 330  # campaign/report/charts.py: the longest bar
GROUPED = {"sv": r"\d{1,3}(?:[ \u00a0\u202f]\d{3})*", "en": r"\d{1,3}(?:[,\u202f]\d{3})*"}


@pytest.fixture
def lead(app: Flask, runner: Runner, client: FlaskClient) -> FlaskClient:
    """The lead administrator of the demo pilot, signed in, on 1 April 2015."""
    _pilot(runner)
    app.extensions["campaign.clock"].set(NOW)
    email, password = _load(runner)["lead_admin"]
    sign_in(client, email, password)
    return client


def in_english(client: FlaskClient) -> None:
    """Press the page's language switch (English), as a person does."""
    token = csrf_token(client, staff("/report"))
    answer = client.post(
        "/language", data={"language": "en", "next": staff("/report"), "csrf_token": token}
    )
    assert answer.status_code == 302


def page_of(client: FlaskClient, path: str = staff("/report")) -> str:
    answer = client.get(path)
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def download_link(page: str, fmt: str) -> str:
    """The page's link to download the Swedish report as `fmt` (of the page's moment)."""
    link = re.search(rf'href="({staff("/report")}/final\.{fmt}\?language=sv[^"]*)"', page)
    assert link, f"no {fmt} download"
    return link[1].replace("&amp;", "&")


def figures_named_on(page: str, session: Session) -> Figures:
    """The figures of the moment the page says it shows, computed afresh."""
    moment = re.search(r'(?:Siffror per|Figures as of) <time datetime="([^"]+)">', page)
    assert moment, "the page names no moment"
    return compute(session, demo_campaign(session), datetime.fromisoformat(moment[1]))


def number(shown: str) -> int:
    """The number a person reads in a figure, whichever way its thousands are grouped."""
    return int(re.sub(r"[\s\u202f,]", "", shown))


def cards(page: str) -> dict[str, str]:
    found = re.findall(r'<span class="value">([^<]*)</span> <span class="label">([^<]*)<', page)
    return {label: value for value, label in found}


def charts(page: str) -> list[ET.Element]:
    """The page's charts, parsed: each must be well-formed SVG."""
    return [ET.fromstring(svg) for svg in re.findall(r"<svg\b.*?</svg>", page, re.DOTALL)]


def bars(chart: ET.Element) -> list[tuple[str, float, str]]:
    """(label, bar length, value written) of each row of a bar chart."""
    texts = chart.findall(f"{SVG}text")
    labels = [t.text or "" for t in texts if t.get("text-anchor") == "end"]
    lengths = [float(r.get("width", "0")) for r in chart.findall(f"{SVG}rect")]
    values = [t.text or "" for t in texts[1:] if t.get("text-anchor") is None]
    return list(zip(labels, lengths, values, strict=True))


def by_name(figures: Figures) -> dict[str, MemberFigures]:
    return {m.organisation.short_name: m for m in figures.members}


def test_the_cards_show_the_figures_of_the_moment_the_page_names(
    lead: FlaskClient, session: Session
) -> None:
    page = page_of(lead)
    figures = figures_named_on(page, session)
    assert '<time datetime="2015-04-01T12:00:00+02:00">1 april 2015 kl. 12.00</time>.' in page
    shown = {label: number(value) for label, value in cards(page).items()}
    assert shown == {
        "pilotanvändare": figures.participants,
        "utbildade": figures.trained,
        "levererade e-postmeddelanden": figures.delivered,
        "km undvikna resor": figures.outcomes.km,
    }
    assert figures.participants > 500 and figures.outcomes.km > 100_000  # a pilot, not zeros


def test_each_figure_chart_has_one_bar_per_member_named_and_sized_by_its_figure(
    lead: FlaskClient, session: Session
) -> None:
    page = page_of(lead)
    members = by_name(figures_named_on(page, session))
    drawn = charts(page)
    assert len(drawn) == 4
    titles = [c.findtext(f"{SVG}title") for c in drawn]
    assert titles[:3] == [
        "Deltagare per medlem",
        "Utbildade per medlem",
        "Undvikna resor per medlem",
    ]
    for chart, figure in zip(
        drawn[:3],
        (lambda m: m.participants, lambda m: m.trained, lambda m: m.outcomes.km),
        strict=True,
    ):
        rows = bars(chart)
        assert [label for label, _length, _value in rows] == MEMBERS
        peak = max(figure(members[name]) for name in MEMBERS)
        for name, length, value in rows:
            assert number(value.removesuffix(" km")) == figure(members[name]), name
            assert length == pytest.approx(BAR_WIDTH * figure(members[name]) / peak, abs=0.06)


def test_the_mail_chart_has_one_column_per_month_with_its_count(
    lead: FlaskClient, session: Session
) -> None:
    page = page_of(lead)
    figures = figures_named_on(page, session)
    chart = charts(page)[3]
    texts = [t.text or "" for t in chart.findall(f"{SVG}text")][1:]
    counts, months = texts[0::2], texts[1::2]
    assert list(zip(months, map(number, counts), strict=True)) == figures.mail_by_month
    assert len(chart.findall(f"{SVG}rect")) == len(figures.mail_by_month) > 1


def test_the_cards_group_their_thousands_the_swedish_way(lead: FlaskClient) -> None:
    for value in cards(page_of(lead)).values():
        assert re.fullmatch(GROUPED["sv"], value), value


def test_the_english_page_shows_the_same_figures(lead: FlaskClient, session: Session) -> None:
    swedish = page_of(lead)
    in_english(lead)
    english = page_of(lead)
    assert '<html lang="en">' in english and "April 1, 2015 at 12:00</time>." in english
    figures = figures_named_on(english, session)
    shown = {label: number(value) for label, value in cards(english).items()}
    assert shown == {
        "pilot users": figures.participants,
        "people trained": figures.trained,
        "e-mails delivered": figures.delivered,
        "km of travel avoided": figures.outcomes.km,
    }
    assert sorted(shown.values()) == sorted(map(number, cards(swedish).values()))
    for chart in charts(english)[:3]:
        assert [label for label, _length, _value in bars(chart)] == MEMBERS


def test_the_english_cards_group_their_thousands_the_english_way(lead: FlaskClient) -> None:
    in_english(lead)
    for value in cards(page_of(lead)).values():
        assert re.fullmatch(GROUPED["en"], value), value


def test_the_english_page_draws_its_charts_in_english(lead: FlaskClient) -> None:
    in_english(lead)
    titles = [c.findtext(f"{SVG}title") for c in charts(page_of(lead))]
    assert titles[0] == "Participants per member"


def member_line(m: MemberFigures, co2_kg_per_km: float) -> str:
    """A member's sentence of figures in the Swedish report, numbers grouped by thin spaces."""
    o = m.outcomes
    counted = (
        f"Uppföljning: {o.respondents} svar räknas; {o.trips} resor ersattes, {o.km} km undveks"
        f" och {o.hours} timmar restid sparades, ungefär {round(o.km * co2_kg_per_km)} kg"
        f" koldioxid och {round(m.money or 0)} kronor."
    )
    done = f"{m.participants} pilotanvändare, {m.trained} utbildade, {m.delivered} levererade"
    return f"{done} e-postmeddelanden. {counted}"


def grouped(text: str) -> str:
    """`text` with every number of four digits or more grouped by thin spaces, as reports do."""
    return re.sub(r"\d{4,}", lambda found: f"{int(found[0]):,}".replace(",", "\u202f"), text)


def thin_spaced(text: str) -> str:
    """`text` with the thousands of its numbers grouped by thin spaces, whichever space the
    report used (a thin one today, Babel's no-break space for Swedish maybe tomorrow)."""
    return re.sub(r"(?<=\d)[ \u00a0\u202f](?=\d{3}\b)", "\u202f", text)


def test_the_markdown_download_carries_the_same_figures(
    lead: FlaskClient, session: Session
) -> None:
    page = page_of(lead)
    figures = figures_named_on(page, session)
    text = thin_spaced(page_of(lead, download_link(page, "md")))
    f, factor = figures.outcomes, figures.campaign.co2_kg_per_km
    assert figures.co2_kg is not None and figures.money is not None
    for sentence in (
        f"{f.respondents} pilotanvändare räknas",
        f"ersatte de {f.trips} resor med webbmöten, slapp {f.km} km resor och sparade"
        f" {f.hours} timmar restid",
        f"ungefär {round(f.km * factor)} kg koldioxid och {round(figures.money)} kronor",
        f"{figures.trained} personer har deltagit i utbildningar",
        f"{figures.participants} pilotanvändare deltog, och {figures.delivered} e-postmeddelanden",
    ):
        assert grouped(sentence) in text, sentence
    sections = re.split(r"\n### ", text)[1:]
    assert len(sections) == 20
    for m in figures.members:
        section = next(s for s in sections if s.startswith(f"{m.organisation.name}\n"))
        assert grouped(member_line(m, factor)) in section, m.organisation.name


def test_the_html_download_has_one_section_per_member_with_its_figures(
    lead: FlaskClient, session: Session
) -> None:
    page = page_of(lead)
    figures = figures_named_on(page, session)
    html = thin_spaced(page_of(lead, download_link(page, "html")))
    sections = re.findall(r'<section class="member">\s*<h3>(.*?)</h3>(.*?)</section>', html, re.S)
    members = [by_name(figures)[name] for name in MEMBERS]
    assert [name for name, _body in sections] == [m.organisation.name for m in members]
    for (_name, body), m in zip(sections, members, strict=True):
        assert grouped(member_line(m, figures.campaign.co2_kg_per_km)) in body
    assert len(charts(html)) == 4


def test_the_swedish_report_writes_its_factors_with_a_decimal_comma(lead: FlaskClient) -> None:
    text = page_of(lead, staff("/report/final.md?language=sv"))
    assert "Faktorer: 0,133 kg koldioxid och 2,5" in text
