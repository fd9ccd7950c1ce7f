"""The questionnaire form on a phone, in the real browser: at 360 px each Likert scale is on
one row, every answer's label and the button is a touch target of at least 44 x 44 CSS px
(WCAG 2.5.5), and axe stays clean."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from campaign.surveys import service
from tests.browser import Live, audit
from tests.conftest import START, Network
from tests.enrolment_helpers import group
from tests.outbox_helpers import participant

TARGET = 44  # CSS px, WCAG 2.5.5 (AAA) and the platforms' own guidance
# The clickable box of every answer (the label holding or following its input), the buttons,
# and the language buttons above the form.
BOXES = """() => [...document.querySelectorAll(
    'form.questionnaire label:has(input), form.questionnaire input + label,'
    + ' form.questionnaire button, .lang-switch button')].map(e => {
        const r = e.getBoundingClientRect();
        return {text: e.textContent.trim().slice(0, 40), width: r.width, height: r.height};
    })"""
CHOICES = """() => document.querySelectorAll(
    'form.questionnaire input[type=radio], form.questionnaire input[type=checkbox],'
    + ' form.questionnaire button, .lang-switch button').length"""
ROWS = """() => [...document.querySelectorAll('.likert')].map(scale =>
    [...scale.querySelectorAll('label')].map(l => Math.round(l.getBoundingClientRect().y)))"""


def _links(live: Live, session: Session, network: Network) -> list[str]:
    """The two questionnaires' signed links of one participant of a pilot group."""
    with live.app.app_context():
        person = participant(session, network, "mobil@alpha.se", name="Mobil Person")
        person.pilot_group_id = group(session, network).id
        found = service.questionnaires_of(session, network.campaign, START)
        session.commit()
        return [f"/q/{service.link_token(q, person)}" for q in found]


@pytest.mark.parametrize("width", [360, 320])
def test_the_questionnaire_fits_a_phone(
    live: Live, session: Session, network: Network, browser_page: Any, width: int
) -> None:
    browser_page.set_viewport_size({"width": width, "height": 740})
    links = _links(live, session, network)
    assert len(links) == 2  # the baseline and the follow-up: both have a Likert scale
    for link in links:
        browser_page.goto(link)
        rows = browser_page.evaluate(ROWS)
        assert rows and all(len(r) == 5 and len(set(r)) == 1 for r in rows), (link, rows)
        boxes = browser_page.evaluate(BOXES)
        assert len(boxes) == browser_page.evaluate(CHOICES) >= 10, boxes
        small = [b for b in boxes if b["width"] < TARGET or b["height"] < TARGET]
        assert small == [], small
        scroll = browser_page.evaluate("() => document.documentElement.scrollWidth")
        assert scroll <= width, f"{link}: the page is {scroll} px wide"
        audit(browser_page)
