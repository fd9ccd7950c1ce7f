"""Every edit form of the app round-trips: opened and saved as shown, it changes nothing.

Each object is given values other than the defaults and other than each select's first choice,
the page is read as a browser reads it (tests/forms_as_sent.py), the form is posted as shown,
and every stored column must be as before.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from campaign.accounts.models import User
from campaign.enrolment.models import Participant, PilotGroup
from campaign.events.models import Audience, Event, EventKind, Invitation, Rsvp
from campaign.network.models import Campaign, Membership
from tests.conftest import START, Network, sign_in
from tests.enrolment_helpers import group, make_event
from tests.forms_as_sent import form_with
from tests.outbox_helpers import participant
from tests.urls import staff


def _columns(obj: Any) -> dict[str, Any]:
    """Every stored column of the row (or of each of several rows), by attribute name."""
    if isinstance(obj, _Rows):
        return dict(enumerate(obj.rows))
    return {c.key: getattr(obj, c.key) for c in sa_inspect(type(obj)).column_attrs}


def _saved_as_shown(client: FlaskClient, path: str, field: str) -> None:
    """Open the page, post its form with `field` as a browser would, and expect it saved."""
    page = client.get(path)
    assert page.status_code == 200, path
    form = form_with(page.get_data(as_text=True), field)
    response = client.post(form.action or path, data=MultiDict(form.data()))
    assert response.status_code in (200, 302), response.get_data(as_text=True)[:2000]
    if response.status_code == 200:  # a confirmation step, or errors: show them
        assert "Nothing was saved" not in response.get_data(as_text=True)


def _round_trip(
    client: FlaskClient, session: Session, path: str, field: str, row: Callable[[], Any]
) -> None:
    session.expire_all()
    before = _columns(row())
    _saved_as_shown(client, path, field)
    session.expire_all()
    after = _columns(row())
    changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    assert not changed, f"{path} changed {changed}"


@pytest.fixture
def rep(client: FlaskClient, network: Network) -> FlaskClient:
    sign_in(client, "rep@alpha.se")
    return client


@pytest.fixture
def lead(client: FlaskClient, network: Network) -> FlaskClient:
    sign_in(client, "lead@alpha.se")
    return client


def test_pilot_group(rep: FlaskClient, session: Session, network: Network) -> None:
    made = group(session, network)  # volunteers: not the first kind of the list
    session.commit()
    path = staff(f"/organisations/alpha/groups/{made.id}")
    _round_trip(rep, session, path, "kind", lambda: session.get(PilotGroup, made.id))


def _filled_facts(session: Session, network: Network, org: str) -> Membership:
    membership = session.query(Membership).filter_by(organisation_id=getattr(network, org).id).one()
    membership.enrolment_target = 40
    membership.people_reached = 2300
    membership.people_with_access = 812
    membership.starting_point_md = "Vi hade **Lync** sedan 2012.\n\n- en rad\n- två rader"
    membership.work_done_md = "Två prova-på-möten."
    membership.contact_name = "Caroline Rundlöf"
    membership.contact_title = "miljöstrateg"
    membership.contact_email = "caroline@beta.se"
    membership.guide_url = "https://intra.beta.se/lync"
    session.commit()
    return membership


@pytest.mark.parametrize("who", ["rep@beta.se", "lead@alpha.se"])
def test_member_facts(client: FlaskClient, session: Session, network: Network, who: str) -> None:
    membership = _filled_facts(session, network, "beta")  # informal: not the first status
    sign_in(client, who)
    path = staff("/organisations/beta/facts")
    _round_trip(
        client, session, path, "contact_name", lambda: session.get(Membership, membership.id)
    )


def test_member_sender(rep: FlaskClient, session: Session, network: Network) -> None:
    from campaign.network.models import MemberSender
    from tests.sender_helpers import give_sender, image_bytes

    row = give_sender(session, network, logo=image_bytes())
    session.commit()
    path = staff("/organisations/alpha/sender")
    _round_trip(rep, session, path, "reply_to", lambda: session.get(MemberSender, row.id))


def test_campaign_settings(lead: FlaskClient, session: Session, network: Network) -> None:
    campaign = session.get(Campaign, network.campaign.id)
    campaign.language, campaign.timezone = "en", "Europe/Helsinki"
    campaign.rate_limit_per_minute, campaign.retention_months = 120, 18
    campaign.co2_kg_per_km, campaign.cost_per_km, campaign.cost_per_hour = 0.133, 2.5, 310.0
    campaign.has_early_invitations = True
    session.commit()
    path = staff("/network/settings")
    _round_trip(lead, session, path, "retention_months", lambda: session.get(Campaign, campaign.id))


def test_meeting(rep: FlaskClient, session: Session, network: Network) -> None:
    made = make_event(
        session,
        network,
        group(session, network),
        kind=EventKind.TRAINING,
        description_md="Ta med **headset**.\n\nVi börjar 9.00.",
        capacity=12,
        reminders="48h,2h",
        starts_at=datetime(2014, 3, 10, 8, 30, tzinfo=UTC),
        ends_at=datetime(2014, 3, 10, 10, 15, tzinfo=UTC),
    )
    session.commit()
    assert made.audience is Audience.PILOT_GROUP
    path = staff(f"/organisations/alpha/events/{made.id}/edit")
    _round_trip(rep, session, path, "title", lambda: session.get(Event, made.id))


def test_participant(rep: FlaskClient, session: Session, network: Network) -> None:
    person = participant(session, network, "anna@alpha.se", "Anna Berg")
    person.title, person.language = "Enhetschef", "en"
    person.pilot_group_id = group(session, network).id
    person.paused_until = date(2014, 6, 1)
    session.commit()
    path = staff(f"/organisations/alpha/participants/{person.id}/edit")
    _round_trip(rep, session, path, "title", lambda: session.get(Participant, person.id))


def test_own_account(rep: FlaskClient, session: Session, network: Network) -> None:
    user = session.get(User, network.rep_alpha.id)
    user.language = "en"
    session.commit()
    _round_trip(rep, session, "/account", "profile-name", lambda: session.get(User, user.id))


def test_change_person(lead: FlaskClient, session: Session, network: Network) -> None:
    path = staff(f"/people/{network.rep_beta.id}/change")
    _round_trip(lead, session, path, "role", lambda: session.get(User, network.rep_beta.id))


def test_attendance(rep: FlaskClient, session: Session, network: Network) -> None:
    target = group(session, network)
    held = make_event(
        session,
        network,
        target,
        starts_at=datetime(2014, 2, 20, 8, tzinfo=UTC),
        ends_at=datetime(2014, 2, 20, 9, tzinfo=UTC),
    )
    marks = [(Rsvp.ACCEPTED, True), (Rsvp.PENDING, False), (Rsvp.DECLINED, False)]
    for n, (rsvp, came) in enumerate(marks):
        person = participant(session, network, f"p{n}@alpha.se", f"Person {n}")
        session.add(
            Invitation(
                event_id=held.id, participant_id=person.id, rsvp=rsvp, has_attended=came,
                created_at=START,
            )
        )  # fmt: skip
    session.commit()
    path = staff(f"/organisations/alpha/events/{held.id}/attendance")

    def rows() -> list[dict[str, Any]]:
        found = session.query(Invitation).filter_by(event_id=held.id).order_by(Invitation.id)
        return [_columns(i) for i in found]

    _round_trip(rep, session, path, "attended", lambda: _Rows(rows()))


class _Rows:
    """Several rows compared as one (the attendance form stores one flag per invitation)."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
