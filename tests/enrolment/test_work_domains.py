"""Self-enrolment asks for a work address and warns, never refuses, when the address is at
none of the member's known work domains; the member's representative keeps the list."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.enrolment import domains, joining
from campaign.enrolment.models import Participant, PilotGroup
from campaign.network.models import Organisation
from campaign.security import sign
from tests.conftest import Network, csrf_token, sign_in
from tests.enrolment.test_selfservice import _open_link
from tests.enrolment_helpers import join_request
from tests.urls import staff

SETTINGS = staff("/organisations/alpha/email-domains")
WARNING = "hör inte till någon av domänerna som Alpha kommun använder"


def _rep(app: Flask):  # type: ignore[no-untyped-def]
    client = app.test_client()
    sign_in(client, "rep@alpha.se")
    return client


def _save(client, text: str):  # type: ignore[no-untyped-def]
    return client.post(SETTINGS, data={"csrf_token": csrf_token(client, SETTINGS), "domains": text})


def test_the_domains_round_trip_through_the_members_page(
    app: Flask, session: Session, network: Network
) -> None:
    client = _rep(app)
    assert 'href="/campaigns/test/organisations/alpha/email-domains"' in client.get(
        staff("/organisations/alpha")
    ).get_data(as_text=True)
    saved = _save(client, " @Alpha.se, skola.alpha.se\n\nalpha.se\nkungälv.se ")
    assert saved.status_code == 302
    session.expire_all()
    alpha = session.get(Organisation, network.alpha.id)
    assert domains.of(alpha) == ["alpha.se", "skola.alpha.se", "kungälv.se"]
    form = client.get(SETTINGS).get_data(as_text=True)
    shown = form.split("</textarea>")[0].rsplit(">", 1)[1]
    assert shown.split() == ["alpha.se", "skola.alpha.se", "kungälv.se"]  # one per line
    assert "alpha.se, skola.alpha.se, kungälv.se" in client.get(
        staff("/organisations/alpha")
    ).get_data(as_text=True)
    _save(client, shown)  # saved as shown: unchanged
    session.expire_all()
    assert domains.of(session.get(Organisation, network.alpha.id)) == [
        "alpha.se", "skola.alpha.se", "kungälv.se",
    ]  # fmt: skip


def test_a_bad_domain_is_named_and_nothing_saved(
    app: Flask, session: Session, network: Network
) -> None:
    client = _rep(app)
    _save(client, "alpha.se")
    refused = _save(client, "alpha.se\nnot a domain")
    assert refused.status_code == 200
    assert "”not” är ingen domän" in refused.get_data(as_text=True)
    session.expire_all()
    assert domains.of(session.get(Organisation, network.alpha.id)) == ["alpha.se"]


def test_another_members_representative_cannot_change_them(
    app: Flask, session: Session, network: Network
) -> None:
    client = app.test_client()
    sign_in(client, "rep@beta.se")
    response = client.post(SETTINGS, data={"csrf_token": csrf_token(client), "domains": "evil.se"})
    assert response.status_code in (403, 404)
    session.expire_all()
    assert session.get(Organisation, network.alpha.id).email_domains == ""


@pytest.mark.parametrize(
    ("address", "known", "warned"),
    [("asa@alpha.se", "alpha.se", False), ("asa@skola.alpha.se", "alpha.se", False),
     ("asa@gmail.com", "alpha.se", True), ("asa@notalpha.se", "alpha.se", True),
     ("asa@gmail.com", "", False)],
)  # fmt: skip
def test_the_confirmation_step_warns_of_an_address_elsewhere_and_still_enrols(
    app: Flask, session: Session, network: Network, address: str, known: str, warned: bool
) -> None:
    _path, group_id = _open_link(app, session, network)
    with app.app_context():
        session.get(Organisation, network.alpha.id).email_domains = known
        wish = join_request(session, session.get(PilotGroup, group_id), address)
        session.commit()
        confirm = f"/join/confirm/{sign(joining.CONFIRM, [wish.id, wish.secret])}"
    visitor = app.test_client()
    page = visitor.get(confirm).get_data(as_text=True)
    assert (WARNING in page) is warned
    assert "Ja, jag är med" in page  # the button is there either way
    done = visitor.post(
        confirm, data={"csrf_token": csrf_token(visitor, confirm), "confirm": "yes"}
    )
    assert done.status_code == 200
    session.expire_all()
    assert session.scalars(select(Participant.email)).all() == [address]


def test_the_form_asks_for_the_work_address_and_names_the_domains(
    app: Flask, session: Session, network: Network
) -> None:
    path, _group_id = _open_link(app, session, network)
    visitor = app.test_client()
    page = visitor.get(path).get_data(as_text=True)
    assert "Din e-postadress på jobbet" in page
    assert "slutar den på" not in page  # no domains known: no hint
    with app.app_context():
        session.get(Organisation, network.alpha.id).email_domains = "alpha.se"
        session.commit()
    page = visitor.get(path).get_data(as_text=True)
    assert "Adressen du använder på jobbet; på Alpha kommun slutar den på alpha.se." in page


def test_domains_are_parsed_and_matched() -> None:
    assert domains.parse("Alpha.se; @b.se c.se.") == ["alpha.se", "b.se", "c.se"]
    for bad in ("alpha", "-a.se", "a..se", "a_b.se", "x" * 64 + ".se"):
        with pytest.raises(ValueError):
            domains.parse(bad)
    assert domains.is_known("A@X.ALPHA.SE", ["alpha.se"])
    assert not domains.is_known("a@xalpha.se", ["alpha.se"])
    assert domains.is_known("a@anything.com", [])
