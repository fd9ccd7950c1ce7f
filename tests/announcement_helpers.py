"""Building blocks for the announcement tests: an announcement of Alpha's, and the form."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from campaign.announcements.models import Announcement, AnnouncementState
from tests.conftest import START, Network


def alpha_announcement(session: Session, network: Network) -> Announcement:
    """A scheduled announcement of Alpha's representative, to Alpha's people, next week."""
    made = Announcement(
        campaign_id=network.campaign.id,
        organisation_id=network.alpha.id,
        author_id=network.rep_alpha.id,
        segment={"organisations": [network.alpha.id]},
        subject_sv="ALPHA-SECRET-SUBJECT",
        body_sv="Hej {{ participant.first_name }}!",
        send_at=START + timedelta(days=7),
        state=AnnouncementState.SCHEDULED,
        form_key=uuid.uuid4().hex,
        created_at=START,
    )
    session.add(made)
    session.flush()
    return made


def announcement_objects(session: Session, network: Network) -> dict[str, str]:
    """Give Alpha an announcement; return its id by URL parameter."""
    made = alpha_announcement(session, network)
    session.commit()
    return {"announcement_id": str(made.id)}


def form(**values: Any) -> dict[str, Any]:
    """The announcement form as a browser sends it: Swedish text, now, plus `values`."""
    sent: dict[str, Any] = {
        "form_key": uuid.uuid4().hex,
        "subject_sv": "Nyheter för {{ organisation.name }}",
        "body_sv": "Hej {{ participant.first_name }}!\n\nVi ses på **webbmötet**.",
        "subject_en": "News for {{ organisation.name }}",
        "body_en": "Hello {{ participant.first_name }}!\n\nSee you at the **web meeting**.",
        "when": "now",
    }
    sent.update(values)
    return sent
