"""A segment is counted in SQL, one criterion at a time and together, with who is left out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.announcements.segments import LeftOut, Segment, conditions, left_out, reach, reachable
from campaign.enrolment.models import Participant
from tests.announcements.conftest import People
from tests.conftest import Network

EVERYONE = {
    LeftOut.PAUSED: 1,
    LeftOut.UNSUBSCRIBED: 1,
    LeftOut.BOUNCED: 1,
    LeftOut.SUPPRESSED: 1,
}
SUPPRESSED = {LeftOut.SUPPRESSED: 1}


def _reached(session: Session, network: Network, segment: Segment) -> set[int]:
    statement = select(Participant.id).where(*conditions(network.campaign.id, segment), reachable())
    return set(session.scalars(statement))


def test_the_whole_campaign_with_who_is_left_out_and_why(
    session: Session, network: Network, people: People
) -> None:
    found = reach(session, network.campaign.id, Segment())
    assert found.reached == 5 and found.total == 9
    assert found.left_out == EVERYONE
    assert _reached(session, network, Segment()) == people.ids("anna", "bo", "cia", "hugo", "ida")
    named = {(p.name, why) for p, why in left_out(session, network.campaign.id, Segment())}
    assert named == {
        ("Dan Ek", LeftOut.PAUSED),
        ("Eva Ek", LeftOut.UNSUBSCRIBED),
        ("Fia Ek", LeftOut.BOUNCED),
        ("Gun Ek", LeftOut.SUPPRESSED),
    }


@pytest.mark.parametrize(
    ("criteria", "reached", "left"),
    [
        (lambda p: Segment(statuses=("active",)), ("anna", "bo", "cia", "hugo"), SUPPRESSED),
        (lambda p: Segment(statuses=("completed",)), ("ida",), {}),
        (lambda p: Segment(attended=p.meeting.id), ("anna",), {LeftOut.PAUSED: 1}),
        (lambda p: Segment(absent=p.meeting.id), ("bo",), {}),
        (lambda p: Segment(answered=p.baseline.id), ("cia",), {}),
        (lambda p: Segment(unanswered=p.baseline.id), ("anna", "bo", "hugo", "ida"), EVERYONE),
        (lambda p: Segment(started_after=date(2014, 4, 1)), ("cia",), SUPPRESSED),
        (lambda p: Segment(started_before=date(2014, 4, 1)), ("anna", "bo", "hugo", "ida"), {
            LeftOut.PAUSED: 1, LeftOut.UNSUBSCRIBED: 1, LeftOut.BOUNCED: 1,
        }),
    ],
    ids=["active", "completed", "attended", "absent", "answered", "unanswered", "after", "before"],
)  # fmt: skip
def test_each_criterion(
    session: Session,
    network: Network,
    people: People,
    criteria: Callable[[People], Segment],
    reached: tuple[str, ...],
    left: dict[LeftOut, int],
) -> None:
    segment = criteria(people)
    found = reach(session, network.campaign.id, segment)
    assert (found.reached, found.left_out) == (len(reached), left)
    assert _reached(session, network, segment) == people.ids(*reached)


def test_members_and_groups(session: Session, network: Network, people: People) -> None:
    beta = Segment(organisations=(network.beta.id,))
    assert _reached(session, network, beta) == people.ids("hugo", "ida")
    late = Segment(groups=(people.late_group.id,))
    assert reach(session, network.campaign.id, late).left_out == {LeftOut.SUPPRESSED: 1}
    assert _reached(session, network, late) == people.ids("cia")
    both = Segment(groups=(people.alpha_group.id, people.beta_group.id), statuses=("active",))
    assert _reached(session, network, both) == people.ids("anna", "bo", "hugo")


def test_criteria_narrow_each_other_and_a_member_is_kept_within(
    session: Session, network: Network, people: People
) -> None:
    segment = Segment(statuses=("active",), started_before=date(2014, 4, 1))
    assert _reached(session, network, segment) == people.ids("anna", "bo", "hugo")
    assert _reached(session, network, segment.within(network.alpha.id)) == people.ids("anna", "bo")
    # A representative's segment naming another member stays within theirs.
    foreign = Segment(organisations=(network.alpha.id,)).within(network.beta.id)
    assert _reached(session, network, foreign) == people.ids("hugo", "ida")


def test_the_criteria_survive_being_kept(network: Network, people: People) -> None:
    segment = Segment(
        organisations=(network.alpha.id,),
        groups=(people.alpha_group.id,),
        statuses=("active", "paused"),
        attended=people.meeting.id,
        unanswered=people.baseline.id,
        started_after=date(2014, 1, 1),
        started_before=date(2014, 12, 31),
    )
    assert Segment.from_json(segment.to_json()) == segment
    assert Segment.from_json({}) == Segment()
