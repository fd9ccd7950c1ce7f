"""What the step form offers a campaign: the anchors (its milestones too) and the conditions
(its questionnaires, their single-choice answers, each kind of meeting), so that everything
the checker knows can be chosen in the browser, not only written into a file."""

from __future__ import annotations

from sqlalchemy.orm import Session

from campaign.drip.conditions import ANCHORS, EVENT_KINDS, FIXED
from campaign.drip.known import known_in


def offered(db_session: Session, campaign_id: int) -> tuple[list[str], list[str]]:
    """Return the anchors and the conditions a step of the campaign may name."""
    known = known_in(db_session, campaign_id)
    anchors = [*ANCHORS, *(f"milestone:{name}" for name in known.milestones)]
    conditions = [*FIXED, *(f"attended:{kind}" for kind in EVENT_KINDS)]
    for slug, asked in sorted(known.questionnaires.items()):
        conditions.append(f"answered:{slug}")
        if not asked.is_anonymous and asked.definition is not None:
            conditions += [
                f"answer:{slug}.{question.id}={option.value}"
                for question in asked.definition.questions
                if question.type == "single"
                for option in question.options
            ]
    return anchors, list(dict.fromkeys(conditions))
