"""Sample values for every placeholder a step may use: for the checker and the previews."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from campaign.drip.places import Places
from campaign.timing import long_day, moment_text

SAMPLE_MEETING = datetime(2014, 6, 26, 8, 0, tzinfo=UTC)  # 10.00 in Stockholm
SAMPLE_ZONE = ZoneInfo("Europe/Stockholm")


def sample_context(language: str = "sv") -> dict[str, Any]:
    """Return the placeholders a step may use, filled with sample values written the way
    `language` writes them (for checks and previews): participant, organisation, member,
    campaign, links, next_event (for steps anchored to an event: the next one of the same
    kind the participant is invited to), and local (a member's paragraphs: none here)."""
    return {
        "participant": {
            "name": "Åsa Öberg",
            "first_name": "Åsa",
            "email": "asa@ockero.se",
            "title": "Enhetschef",
        },
        "organisation": {"name": "Öckerö kommun", "short_name": "Öckerö"},
        "member": {
            "meeting_software": "Lync",
            "contact_name": "Petter Bergman",
            "contact_title": "energi- och klimatrådgivare",
            "contact_email": "petter.bergman@ockero.se",
            "guide_url": "https://intranat.ockero.se/lync",
        },
        "campaign": {
            "name": "Resfria möten 2014–2015",
            "ends_on": long_day(date(2015, 3, 31), language),
        },
        "links": {"unsubscribe": "https://kampanj.example.se/u/TOKEN"},
        "next_event": {
            "title": "Prova-på-möte i Lync",
            "starts": moment_text(SAMPLE_MEETING, SAMPLE_ZONE, language),
            "join_url": "https://meet.ockero.se/provapa",
        },
        "local": Places(),
    }
