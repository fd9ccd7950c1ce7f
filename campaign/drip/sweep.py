"""The hourly sweep: the drip's safety net, which looks at participants whose next step is not
due yet, in case a change made around the ORM moved it earlier (campaign/drip/next_steps.py).

Reading everyone every hour was the drip's largest cost at national scale: about 25 s an hour
per 100,000 participants, four minutes an hour at a million. So a sweep reads one share of the
active participants: all of them while there are at most SHARE, else one of n shares by id, a
different one each hour, so that each is looked at every n hours (20 at a million) and an
hour's sweep costs what one of 50,000 does. The share follows from the hour of `now` alone, so
two workers sweeping in the same hour read the same share and queue nothing twice.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.drip.materialize import materialize
from campaign.enrolment.models import Participant, ParticipantStatus

SHARE = 50_000  # participants one sweep reads at most (27 s on SQLite, a busy 2-core machine)


def shares(db_session: Session, size: int = SHARE) -> int:
    """Return how many shares the active participants are swept in: one per `size` of them."""
    active = select(func.count()).where(Participant.status == ParticipantStatus.ACTIVE)
    return max(1, math.ceil((db_session.scalar(active) or 0) / size))


def sweep(
    db_session: Session,
    now: datetime,
    size: int = SHARE,
    checkpoint: Callable[[], None] | None = None,
) -> int:
    """Look at this hour's share of the participants, due or not, and queue what has come due
    (a step whose moment a missed change moved earlier); return how many rows were added.
    `checkpoint` is called after each chunk, as materialize's."""
    count = shares(db_session, size)
    hour = int(now.timestamp() // 3600)
    share = (hour % count, count)
    return materialize(db_session, now, everyone=True, share=share, checkpoint=checkpoint)
