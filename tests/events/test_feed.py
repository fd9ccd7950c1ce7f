"""The member's calendar feed: its address can be replaced, and the old one then stops."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.audit import AuditEvent
from campaign.events import feeds
from campaign.network.models import Organisation
from campaign.security import sign
from tests.conftest import START, Network, csrf_token, sign_in
from tests.enrolment_helpers import make_event
from tests.urls import staff

EVENTS = staff("/organisations/alpha/events")
REPLACE = staff("/organisations/alpha/events/calendar-address")
REPLACED = (
    "Kalenderadressen har ersatts och fungerar inte längre. Be din organisations representant"
    " om den nya."
)


def _signed_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    sign_in(client, email)
    return client


def _address(client: FlaskClient) -> str:
    """The feed address shown on the member's events page, as a path."""
    page = client.get(EVENTS).get_data(as_text=True)
    start = page.index("http://localhost/calendar/")
    return page[start : page.index('"', start)].removeprefix("http://localhost")


def _titles(app: Flask, address: str) -> list[str]:
    response = app.test_client().get(address)
    assert response.status_code == 200, response.get_data(as_text=True)
    return [str(item["SUMMARY"]) for item in Calendar.from_ical(response.get_data()).walk("VEVENT")]


def _replace(client: FlaskClient):  # type: ignore[no-untyped-def]
    return client.post(REPLACE, data={"csrf_token": csrf_token(client, EVENTS)})


def test_replacing_the_address_stops_the_old_one_and_the_new_one_works(
    app: Flask, session: Session, network: Network
) -> None:
    with app.app_context():
        make_event(session, network, title="Alphas möte")
        session.commit()
    rep = _signed_in(app, "rep@alpha.se")
    old = _address(rep)
    assert _titles(app, old) == ["Alphas möte"]
    page = rep.get(EVENTS).get_data(as_text=True)
    assert "Byt kalenderns adress" in page and "Den gamla adressen slutar fungera" in page

    replaced = _replace(rep)
    assert replaced.status_code == 302
    assert replaced.headers["Location"] == f"{EVENTS}#feed-heading"
    assert "Den gamla adressen fungerar inte längre" in rep.get(EVENTS).get_data(as_text=True)
    new = _address(rep)
    assert new != old
    assert _titles(app, new) == ["Alphas möte"]

    gone = app.test_client().get(old)
    assert gone.status_code == 410 and gone.mimetype == "text/plain"
    assert gone.get_data(as_text=True).strip() == REPLACED
    assert gone.headers["Cache-Control"] == "no-store"
    (audit,) = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "calendar_feed.replaced")
    )
    assert audit.actor_id == network.rep_alpha.id and audit.organisation_id == network.alpha.id


def test_an_address_from_before_keys_works_until_the_first_replacement(
    app: Flask, session: Session, network: Network
) -> None:
    with app.app_context():
        legacy = f"/calendar/{sign(feeds.PURPOSE, network.alpha.id)}.ics"
    assert _titles(app, legacy) == []
    _replace(_signed_in(app, "lead@alpha.se"))  # the lead administrator may replace it too
    assert app.test_client().get(legacy).status_code == 410


def test_another_members_representative_cannot_replace_it(
    app: Flask, session: Session, network: Network
) -> None:
    address = _address(_signed_in(app, "rep@alpha.se"))
    beta = _signed_in(app, "rep@beta.se")
    refused = beta.post(
        REPLACE, data={"csrf_token": csrf_token(beta, staff("/organisations/beta"))}
    )
    assert refused.status_code == 404
    no_token = _signed_in(app, "rep@alpha.se").post(REPLACE, data={})
    assert no_token.status_code == 400  # CSRF
    session.expire_all()
    assert session.get(Organisation, network.alpha.id).calendar_key is None
    assert session.scalars(select(AuditEvent.action)).all().count("calendar_feed.replaced") == 0
    assert app.test_client().get(address).status_code == 200


def test_forged_and_expired_addresses_get_a_sentence(
    app: Flask, session: Session, network: Network
) -> None:
    forged = app.test_client().get("/calendar/forged.ics")
    assert forged.status_code == 404 and forged.mimetype == "text/plain"
    assert forged.get_data(as_text=True).strip() == "Kalenderadressen är inte giltig."
    address = _address(_signed_in(app, "rep@alpha.se"))
    app.extensions["campaign.clock"].set(START + feeds.LIFETIME + timedelta(days=1))
    expired = app.test_client().get(address)
    assert expired.status_code == 410
    assert expired.get_data(as_text=True).strip() == "Kalenderadressen har gått ut."
