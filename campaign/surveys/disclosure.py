"""Small cells: which groups' answers may be shown, so that nobody in a small group is recognised.

The one rule for every table and chart made from answers: the questionnaires' results pages
and exports, the response rates (there, on the dashboard and in the lists), and the final
report's outcomes.

A group (a member, for a whole questionnaire or for one question) with 1 to 4 respondents is
hidden. The network's figure adds up every group, so the hidden groups together are always the
network's figure minus the groups shown: while that would be one group alone, or fewer than
MIN_RESPONDENTS respondents, the shown group with the fewest respondents is hidden as well
(secondary suppression). A group without respondents has nothing to hide and hides nothing.
When no such set of hidden groups exists, the network's own figure is hidden too.

Ties go by the group's key (a member's organisation id), never by anything a page chooses: two
tables of the same answers must hide the same members, or one would show what the other hides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

MIN_RESPONDENTS = 5

K = TypeVar("K", bound=Any)  # a sortable key: organisation ids


@dataclass(frozen=True)
class Cells(Generic[K]):
    """The respondents of each group, which groups are hidden, and whether their total shows."""

    counts: Mapping[K, int]
    hidden: frozenset[K]
    is_total_shown: bool

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def shows(self, group: K) -> bool:
        return group not in self.hidden

    def too_few(self, group: K) -> bool:
        """Whether the group has fewer than MIN_RESPONDENTS respondents (none counts too)."""
        return self.counts.get(group, 0) < MIN_RESPONDENTS

    def withheld(self, group: K) -> bool:
        """Whether the group is hidden only to protect a smaller one."""
        return group in self.hidden and not self.too_few(group)


def protect(counts: Mapping[K, int], also: Iterable[K] = ()) -> Cells[K]:
    """Return which groups to hide, given each group's respondents: those with 1-4, those in
    `also` (hidden elsewhere, so here as well), and then the shown ones with the fewest
    respondents until the hidden ones together are not one group's figure."""
    hidden = {group for group, n in counts.items() if 0 < n < MIN_RESPONDENTS} | set(also)
    candidates = sorted(
        (group for group, n in counts.items() if n and group not in hidden),
        key=lambda group: (counts[group], group),
    )
    while _derivable(counts, hidden) and candidates:
        hidden.add(candidates.pop(0))
    total = sum(counts.values())
    shown = total == 0 or (total >= MIN_RESPONDENTS and not _derivable(counts, hidden))
    return Cells(dict(counts), frozenset(hidden), shown)


def _derivable(counts: Mapping[K, int], hidden: set[K]) -> bool:
    """Whether the total minus the shown groups would tell a single or a small group."""
    answered = [counts.get(group, 0) for group in hidden if counts.get(group, 0)]
    return bool(answered) and (len(answered) < 2 or sum(answered) < MIN_RESPONDENTS)
