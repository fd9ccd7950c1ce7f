"""The sequence editor in the real browser: the lead admin changes a step, sees the preview
change before saving, meets a problem beside its field, saves, reads how many participants are
re-planned, compares the versions and restores the first. Every page is checked with axe-core."""

from __future__ import annotations

from datetime import date
from typing import Any

from playwright.sync_api import expect
from sqlalchemy.orm import Session

from campaign.drip import stored
from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup, PilotGroupKind
from tests.browser import Live, audit, sign_in
from tests.conftest import PASSWORD, START, Network
from tests.urls import staff

NAME = "pilot-group"


def _follower(session: Session, network: Network) -> None:
    group = PilotGroup(
        campaign_id=network.campaign.id, organisation_id=network.alpha.id, name="Chefer",
        kind=PilotGroupKind.SELECTED_MANAGERS, starts_on=date(2014, 3, 3),
        sequence_name=NAME, created_at=START,
    )  # fmt: skip
    session.add_all([
        group,
        Participant(
            campaign_id=network.campaign.id, organisation_id=network.alpha.id,
            pilot_group=group, email="asa@alpha.se", name="Åsa Öberg",
            status=ParticipantStatus.ACTIVE, created_at=START, updated_at=START,
        ),
    ])  # fmt: skip
    session.commit()


def _press(page: Any, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).click()
    page.wait_for_load_state()


def test_edit_preview_save_and_revert_a_step(
    live: Live, network: Network, session: Session, browser_page: Any
) -> None:
    _follower(session, network)
    page = browser_page
    sign_in(page, network.lead.email, PASSWORD)
    page.goto(staff(f"/sequences/{NAME}"))
    audit(page)
    page.get_by_role("link", name="Ändra (steg 02)").click()
    page.wait_for_load_state()
    audit(page)

    page.locator("#subject_sv").fill("Ring en kollega, {{ participant.first_name }}")
    _press(page, "Förhandsvisa")
    assert page.locator(".preview-subject").first.inner_text() == "Ring en kollega, Åsa"
    frame = page.frame_locator("iframe.mail-preview").first
    assert "Ring upp en kollega" in frame.locator("body").inner_text()
    audit(page)
    # While one types, the preview follows (step-preview.js); nothing is saved.
    page.locator("#subject_en").fill("Call a colleague, {{ participant.first_name }}")
    expect(page.locator(".preview-subject").nth(1)).to_have_text("Call a colleague, Åsa")
    assert stored.current(session, network.campaign.id, NAME).number is None

    page.locator("#at").fill("21:30")  # in the quiet hours
    _press(page, "Spara")
    assert page.locator(".error-summary").is_visible()
    assert "21:30 är under tysta timmar" in page.locator("#at-error").inner_text()
    assert page.locator("#subject_sv").input_value().startswith("Ring en kollega")  # kept
    audit(page)

    page.locator("#at").fill("09:15")
    _press(page, "Spara")
    assert "Sparad som version 2. 1 deltagare planeras om." in page.locator(".flash").inner_text()
    assert stored.current(session, network.campaign.id, NAME).number == 2

    page.goto(staff(f"/sequences/{NAME}/history"))
    audit(page)
    page.get_by_role("link", name="2", exact=True).click()
    page.wait_for_load_state()
    assert page.locator("ins").filter(has_text="Ring en kollega").count() == 1
    audit(page)
    page.goto(staff(f"/sequences/{NAME}/history"))
    _press(page, "Återställ version 1")
    assert "Sparad som version 3. 1 deltagare planeras om." in page.locator(".flash").inner_text()
    audit(page)
    session.expire_all()
    restored = stored.current(session, network.campaign.id, NAME)
    assert restored.number == 3 and "Ring en kollega" not in str(restored.files)
