"""Figures cannot be differenced across moments: one known person answers on a later day, and
the figures before and after (the final report as of two moments, or the live results, exports
and dashboard fetched twice) must not differ by that person's answers. Answers count in whole
groups of five per member (campaign/surveys/disclosure.py), so two moments differ by nothing, or
by whole groups of at least five people's answers.

The attack of the security review: Alpha has 11 answers on one day and a 12th the next; the
report as of the day before and the day after showed Alpha going from 11 to 12 respondents, and
its trips, km and hours by exactly the newcomer's answers, anonymous questionnaires included.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.conftest import Network, sign_in
from tests.surveys.test_small_cells import (
    MEMBERS,
    OUTCOMES,
    WHO_ANSWERED,
    Pilot,
    Seen,
    _answers,
    _assert_nothing_small_or_subtractable,
    _csv,
    _everything,
    _read_report,
    _truth,
    _xlsx,
    answer,
    pilot,
)
from tests.urls import staff

# The answers given by each day (Alpha's 12th alone on the 4th, its 13th-15th on the 6th).
DAYS = {
    datetime(2014, 9, 2, 10, 0, tzinfo=UTC): {"alpha": 11, "beta": 7, "gamma": 6, "delta": 3},
    datetime(2014, 9, 4, 10, 0, tzinfo=UTC): {"alpha": 12, "beta": 7, "gamma": 6, "delta": 3},
    datetime(2014, 9, 6, 10, 0, tzinfo=UTC): {"alpha": 15, "beta": 7, "gamma": 6, "delta": 3},
}
# The report of the evening of each of those days.
EVENINGS = ["2014-09-02T20:00:00+02:00", "2014-09-04T20:00:00+02:00", "2014-09-06T20:00:00+02:00"]


def _answer_until(app: Flask, made: Pilot, before: dict[str, int], after: dict[str, int]) -> None:
    for slug, n in after.items():
        for k in range(before.get(slug, 0), n):
            answer(app, made, slug, k)


def _outcomes(answers: list[dict[str, Any]]) -> tuple[int, ...]:
    """Respondents and their trips, km and hours added up."""
    return (len(answers), *(sum(int(a[q]) for a in answers) for q in OUTCOMES))


def _report(client: FlaskClient, as_of: str) -> dict[str, tuple[int, ...]]:
    """The report's respondents, trips, km and hours per member (its CSV) and for the network
    (its Markdown), as of a moment; -1 where a figure is not shown."""
    seen = Seen()
    _read_report(seen, client, as_of)
    quantities = [("respondents",), *(("total", q) for q in OUTCOMES)]
    return {
        scope: tuple(seen.value.get((scope, quantity), -1) for quantity in quantities)
        for scope in [*MEMBERS, "network"]
    }


def _minus(after: tuple[int, ...], before: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(a - b for a, b in zip(after, before, strict=True))


@pytest.mark.parametrize("anonymous", [False, True], ids=["named", "anonymous"])
def test_the_report_as_of_two_days_does_not_give_one_persons_answers(
    app: Flask, session: Session, network: Network, anonymous: bool
) -> None:
    made = pilot(app, session, network, anonymous)
    clock = app.extensions["campaign.clock"]
    before: dict[str, int] = {}
    for day, answered in DAYS.items():
        clock.set(day)
        _answer_until(app, made, before, answered)
        before = answered
    clock.set(datetime(2014, 9, 7, 12, 0, tzinfo=UTC))
    lead = app.test_client()
    sign_in(lead, network.lead.email)
    first, second, third = (_report(lead, moment) for moment in EVENINGS)

    # The attack: the report of the day after minus the day before. Alpha's 12th answer
    # (only it came in between) must not come out, for Alpha or for the network.
    newcomer = _outcomes([_answers("alpha", 11)])
    for scope in ("alpha", "network"):
        difference = _minus(second[scope], first[scope])
        assert difference[1:] != newcomer[1:], f"{scope}: the 12th person's answers"
        assert difference == (0, 0, 0, 0), (scope, difference)
    assert first == second  # nothing else moved either
    # Alpha's first ten count; the 11th and 12th wait for their group of five ...
    assert first["alpha"] == _outcomes([_answers("alpha", k) for k in range(10)])
    # ... which the 15th completes: the report then grows by those five, together.
    group = _outcomes([_answers("alpha", k) for k in range(10, 15)])
    assert _minus(third["alpha"], second["alpha"]) == group
    assert _minus(third["network"], second["network"]) == group
    # A member with fewer than five answers counts none, in any report: Delta's 3.
    assert first["delta"] == third["delta"] == (-1, -1, -1, -1)


def _export_rows(client: FlaskClient, path: str) -> list[tuple[str, ...]]:
    """An export's rows, without the header, as a sorted list (rows are compared as a set)."""
    csv_rows = _csv(client, f"{path}/export.csv")
    xlsx_rows = _xlsx(client, f"{path}/export.xlsx")
    assert len(csv_rows) == len(xlsx_rows)
    return sorted(tuple(str(cell) for cell in row) for row in csv_rows[1:])


def _answer_figures(seen: Seen) -> dict[tuple[str, Any], Any]:
    """The figures made from answers (not the counts of who answered, which staff may know)."""
    return {key: value for key, value in seen.value.items() if key[1] not in WHO_ANSWERED}


@pytest.mark.parametrize("anonymous", [False, True], ids=["named", "anonymous"])
def test_live_results_before_and_after_one_known_person_answers(
    app: Flask, session: Session, network: Network, anonymous: bool
) -> None:
    made = pilot(app, session, network, anonymous)
    questionnaire = made.follow_up.id
    clock = app.extensions["campaign.clock"]
    lead = app.test_client()
    sign_in(lead, network.lead.email)
    rep = app.test_client()
    sign_in(rep, "rep@alpha.se")
    paths = [
        staff(f"/questionnaires/{questionnaire}"),
        staff(f"/organisations/alpha/questionnaires/{questionnaire}"),
    ]
    snapshots = []
    before: dict[str, int] = {}
    for day, answered in DAYS.items():
        clock.set(day)
        _answer_until(app, made, before, answered)
        before = answered
        truth = _truth(answered)
        seen = _everything(lead, list(MEMBERS), questionnaire, lead=True)
        own = _everything(rep, ["alpha"], questionnaire, lead=False)
        _assert_nothing_small_or_subtractable(seen, truth, f"lead on {day:%d %B}")
        _assert_nothing_small_or_subtractable(own, truth, f"alpha on {day:%d %B}", ("alpha",))
        rows = [_export_rows(lead, path) for path in paths] + [_export_rows(rep, paths[1])]
        snapshots.append((_answer_figures(seen), _answer_figures(own), rows))

    # One person answered between the first and the second look: nothing made from answers
    # moved, on any page, export or the dashboard, for the lead or for Alpha's representative;
    # the exports hold the same rows (a new row would be that person's answers).
    assert snapshots[0] == snapshots[1]
    # Three more, and the 15th completes a group: the exports grow by those five rows at once
    # (and a question's cells of earlier rows may show with them: whole groups of five again),
    # the figures by the five people's answers (checked against the truth above).
    for rows_before, rows_after in zip(snapshots[1][2], snapshots[2][2], strict=True):
        assert len(rows_after) - len(rows_before) == 5
    assert snapshots[1][0] != snapshots[2][0]
