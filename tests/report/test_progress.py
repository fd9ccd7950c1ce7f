"""The dashboard's sequence progress: how many participants each step reached."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import insert
from sqlalchemy.orm import Session

from campaign.outbox.models import Message, MessageKind, MessageState
from campaign.report.dashboard import sequence_progress
from tests.conftest import START, Network
from tests.enrolment_helpers import followers


def _delivered(session: Session, network: Network, keys: dict[int, list[str]]) -> None:
    """Step mail delivered to each participant, by the steps' outbox keys after `seq:`."""
    session.execute(
        insert(Message),
        [
            {
                "source_key": f"p:{pid}:seq:{key}",
                "recipient": f"{pid}@alpha.se",
                "kind": MessageKind.SEQUENCE_STEP,
                "subject": "Steg",
                "text_body": "Hej",
                "html_body": "<p>Hej</p>",
                "headers": {},
                "message_id": f"<{pid}.{n}@alpha.se>",
                "due_at": START,
                "sent_at": START + timedelta(hours=1),
                "state": MessageState.SENT,
                "attempts": 1,
                "campaign_id": network.campaign.id,
                "organisation_id": network.alpha.id,
                "participant_id": pid,
                "created_at": START,
            }
            for pid, own in keys.items()
            for n, key in enumerate(own)
        ],
    )
    session.commit()


def test_a_step_is_counted_once_a_participant_however_many_meetings_it_came_for(
    session: Session, network: Network
) -> None:
    first, second, third = followers(session, network, 3, date(2014, 6, 19))
    _delivered(
        session,
        network,
        {
            # Step 08 comes before each practice meeting one is invited to: twice for the first.
            first: ["pilot-group/01", "pilot-group/02", "pilot-group/08:e5", "pilot-group/08:e6"],
            second: ["pilot-group/01", "pilot-group/08:e5"],
            third: ["pilot-group/01"],
        },
    )
    progress = sequence_progress(session, network.campaign, None, START + timedelta(days=1))
    (alpha,) = progress[network.alpha.id]
    assert alpha.participants == 3
    assert alpha.had["01"] == 3 and alpha.had["02"] == 1 and alpha.had["08"] == 2
    assert alpha.had["03"] == 0  # every step is listed, reached or not
    # Mail sent after the moment asked about does not count.
    assert (
        sequence_progress(session, network.campaign, None, START)[network.alpha.id][0].had["01"]
        == 0
    )
