"""Which answers count, so that nobody can be recognised in a figure, at one moment or two.

The one rule for every figure made from answers: the questionnaires' results pages and exports,
the dashboard, and the final report's outcomes, live or as of any moment:

    Answers count in whole groups of five per member, in the order they were given: a
    member's first five answers count once the fifth has come in, the next five once the
    tenth has, and so on; each question's answers count the same way among those.

So every figure of a member, or of the network (the members' figures added up), is a sum of
whole groups of at least five people's answers, and so is the difference between any two
figures: of two members, of the network and the members shown, or of two moments (the groups
of a member only ever grow by whole groups). A member with fewer than five answers counts none,
so nothing hidden is inside any total and no secondary suppression is needed; an attacker who
knows some members' answers (their own people's data exports, say) can subtract those and still
finds only whole groups of the others. The price: a member's latest one to four answers wait
for the group that completes them (in the final report too).

What this does not cover: an answer changed while the questionnaire is open counts as changed,
so one person's change moves the figures by that change. Nothing the service shows tells who
changed an answer or when (README, "Threat model").

Questions are known by id; a question is answered when the response holds its id (check_answers
leaves out what was left empty). The order of answering is (submitted_at, id): an anonymous
response keeps only its day, and ids grow in the order responses are made.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Subquery, case, func, select
from sqlalchemy.orm import Session

from campaign.surveys.models import Response

GROUP = 5  # answers count in whole groups of this many, per member
MIN_RESPONDENTS = GROUP  # the fewest people any figure stands for


def counted(where: Sequence[ColumnElement[bool]], questions: Sequence[str]) -> Subquery:
    """Return the responses that count (those matching `where`, in whole groups per
    questionnaire and member), as a subquery with the columns id, questionnaire_id,
    organisation_id, submitted_at, answers and, for each of `questions` in order, a boolean
    q0, q1, ...: whether the response's cell of that question counts (its answer counts, or it
    left the question empty before the first answer that does not count). Only an answer whose
    cell counts may be shown, added up or exported."""
    partition = (Response.questionnaire_id, Response.organisation_id)
    order = (Response.submitted_at, Response.id)
    ranked = (
        select(
            Response.id,
            Response.questionnaire_id,
            Response.organisation_id,
            Response.submitted_at,
            Response.answers,
            func.row_number().over(partition_by=partition, order_by=order).label("position"),
            func.count().over(partition_by=partition).label("responses"),
            *[
                case((Response.answers[q].as_string().is_not(None), 1), else_=0).label(f"a{i}")
                for i, q in enumerate(questions)
            ],
        )
        .where(*where)
        .subquery("ranked")
    )
    r = ranked.c
    within = (r.questionnaire_id, r.organisation_id)
    # The window functions below see only the rows the WHERE keeps: the responses that count.
    grouped = (
        select(
            r.id,
            r.questionnaire_id,
            r.organisation_id,
            r.submitted_at,
            r.answers,
            *[
                func.sum(r[f"a{i}"])
                .over(partition_by=within, order_by=(r.submitted_at, r.id), rows=(None, 0))
                .label(f"upto{i}")
                for i in range(len(questions))
            ],
            *[
                func.sum(r[f"a{i}"]).over(partition_by=within).label(f"all{i}")
                for i in range(len(questions))
            ],
        )
        .where(r.position <= r.responses - r.responses % GROUP)
        .subquery("grouped")
    )
    g = grouped.c
    return select(
        g.id,
        g.questionnaire_id,
        g.organisation_id,
        g.submitted_at,
        g.answers,
        *[
            (g[f"upto{i}"] <= g[f"all{i}"] - g[f"all{i}"] % GROUP).label(f"q{i}")
            for i in range(len(questions))
        ],
    ).subquery("counted")


def responses(db_session: Session, where: Sequence[ColumnElement[bool]]) -> dict[int, int]:
    """Return how many responses each member has (counted or not yet), for `where`."""
    return dict(
        db_session.execute(
            select(Response.organisation_id, func.count())
            .where(*where)
            .group_by(Response.organisation_id)
        ).all()
    )
