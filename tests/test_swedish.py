"""Every page and every mail in Swedish: no English fragments, no raw enum values or slugs.

The pages come from the URL map (as in the role matrix and the axe test), opened as the lead
admin, as Alpha's representative and through the public signed links, on a campaign where
something has happened: a participant added by the representative's form, one who enrolled
themself, a representative's facts changed, twelve days of sequence steps (sent, skipped, and
held back by the campaign's sending rate). The mails are every message the outbox then holds,
every sequence step as the preview renders it, and every mail template rendered with Swedish
values. Each test reports every offending fragment, by page.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign import jobs
from campaign.accounts import invitations
from campaign.accounts import invitations as accounts
from campaign.enrolment import joining
from campaign.enrolment.models import Participant, PilotGroup
from campaign.events import invitations as meetings
from campaign.network.models import Campaign
from campaign.outbox.compose import Footer
from campaign.outbox.mail import queue_test_mail
from campaign.outbox.models import Message
from campaign.outbox.texts import greeting, mail_template, template_names
from campaign.surveys import service
from campaign.timing import FixedClock, install_clock
from tests.accounts.test_scope import EXPECTED
from tests.conftest import START, Network, csrf_token, sign_in
from tests.enrolment_helpers import join_request, make_event
from tests.routes import TOKEN_OF, routes, url_of
from tests.swedish_text import mail_text, offences, visible
from tests.test_browser_pages import NOT_PAGES, PAGES_OF
from tests.urls import staff

LATER = START + timedelta(days=12)
STEPS = ("01", "02", "03", "04", "05", "06", "07", "08")


@pytest.fixture
def lived_in(
    app: Flask, session: Session, network: Network, alpha_objects: dict[str, str]
) -> dict[str, str]:
    """Alpha's objects, after twelve days of a campaign where people did things."""
    rep = _client(app, network.rep_alpha.email)
    _add_participant(rep, alpha_objects["group_id"])
    _change_facts(rep)
    _enrol_themself(app, session, alpha_objects["group_id"])
    _answer(app, session, alpha_objects["questionnaire_token"])
    session.get(Campaign, network.campaign.id).rate_limit_per_minute = 1  # type: ignore[union-attr]  # the fixture's campaign exists
    session.commit()
    install_clock(app, FixedClock(LATER))
    jobs.tick(app, LATER)
    jobs.tick(app, LATER + timedelta(seconds=10))
    _staff_mails(app, session, network, int(alpha_objects["group_id"]))
    with app.app_context():  # signing in changed what the first reset link was signed with
        reset = invitations.token_for(session.merge(network.rep_alpha), "reset")
    people = session.scalars(select(Participant.id).order_by(Participant.id)).all()
    return {**alpha_objects, "reset_token": reset, "participants": ",".join(map(str, people))}


def _client(app: Flask, email: str | None) -> FlaskClient:
    client = app.test_client()
    if email:
        sign_in(client, email)
    return client


def _add_participant(rep: FlaskClient, group_id: str) -> None:
    data = {"email": "per@alpha.se", "name": "Per Persson", "title": "Chef", "language": "sv",
            "pilot_group": group_id, "agreed": "y", "csrf_token": csrf_token(rep)}  # fmt: skip
    response = rep.post(staff("/organisations/alpha/participants/new"), data=data)
    assert response.status_code == 302, visible(response.get_data(as_text=True))


def _change_facts(rep: FlaskClient) -> None:
    data = {"meeting_software": "Teams", "software_comment": "Alla", "people_reached": "120",
            "people_with_access": "80", "csrf_token": csrf_token(rep)}  # fmt: skip
    response = rep.post(staff("/organisations/alpha/facts"), data=data)
    assert response.status_code == 302, visible(response.get_data(as_text=True))


def _enrol_themself(app: Flask, session: Session, group_id: str) -> None:
    group = session.get(PilotGroup, int(group_id))
    assert group is not None
    wish = join_request(session, group, "sjalv@alpha.se", name="Sigrid Själv")
    with app.test_request_context():
        joining.confirm(session, wish, "127.0.0.1", START + timedelta(minutes=5))
    session.commit()


def _staff_mails(app: Flask, session: Session, network: Network, group_id: int) -> None:
    """Queue, after the tick, one of each mail to staff and to someone joining, and a meeting's
    invitations: they stay in the outbox to be read."""
    with app.app_context():
        accounts.send_link(session, session.merge(network.rep_alpha), "reset", LATER)
        accounts.send_link(session, session.merge(network.rep_beta), "invitation", LATER)
        queue_test_mail(session, session.merge(network.lead), LATER)
        group = session.get(PilotGroup, group_id)
        applicant = joining.Applicant("ny@alpha.se", "Ny Person", "", "sv", "127.0.0.1", "sv")
        joining.request_confirmation(session, group, applicant, LATER)
        meeting = make_event(session, network, group, starts_at=LATER + timedelta(days=7),
                             ends_at=LATER + timedelta(days=7, hours=1))  # fmt: skip
        meetings.invite(session, meeting, LATER)
        session.commit()


def _answer(app: Flask, session: Session, token: str) -> None:
    with app.test_request_context():
        opened = service.open_link(session, token, START + timedelta(days=1))
        assert opened is not None
        service.save(session, opened, {}, START + timedelta(days=1))
    session.commit()


def _pages(app: Flask, actor: str, objects: dict[str, str]) -> list[str]:
    found = []
    for endpoint, rule, method in routes(app):
        if method != "GET" or endpoint in NOT_PAGES or EXPECTED[endpoint] not in PAGES_OF[actor]:
            continue
        if endpoint == "drip.preview":
            found += [url_of(rule, {**objects, "number": n}) for n in STEPS]
            continue
        if endpoint in ("enrolment.participant", "drip.schedule"):  # each way of enrolling too
            people = objects["participants"].split(",")
            found += [url_of(rule, {**objects, "participant_id": p}) for p in people]
            continue
        found.append(url_of(rule, {**objects, "token": objects[TOKEN_OF.get(endpoint, "token")]}))
    return found


def _page_offences(app: Flask, network: Network, actor: str, objects: dict[str, str]) -> dict:  # type: ignore[type-arg]
    email = {"lead": network.lead.email, "rep_alpha": network.rep_alpha.email}.get(actor)
    client = _client(app, email)
    found: dict[str, list[str]] = {}
    for url in _pages(app, actor, objects):
        response = client.get(url, follow_redirects=True)  # "/" leads a stranger to sign in
        assert response.status_code in (200, 400, 410), f"{url}: {response.status_code}"
        text = visible(response.get_data(as_text=True))
        if offending := offences(text):
            found[url] = offending
    return found


def _report(found: dict[str, list[str]]) -> str:
    count = sum(len(f) for f in found.values())
    lines = [f"{count} English fragments or raw codes:"]
    for where, fragments in found.items():
        lines += [f"  {where}"] + [f"      {fragment}" for fragment in fragments]
    return "\n".join(lines)


@pytest.mark.parametrize("actor", ["lead", "rep_alpha", "anonymous"])
def test_every_page_is_in_swedish(
    app: Flask, network: Network, lived_in: dict[str, str], actor: str
) -> None:
    found = _page_offences(app, network, actor, lived_in)
    assert not found, _report(found)


def _mails(session: Session) -> dict[str, str]:
    """Every mail the outbox holds, by recipient and subject: its subject and plain text."""
    messages = session.scalars(select(Message).where(Message.text_body != "")).all()
    assert len(messages) >= 5
    return {f"mail to {m.recipient}: {m.subject}": f"{m.subject}\n{m.text_body}" for m in messages}


def _templates() -> dict[str, str]:
    """Every mail template, rendered in Swedish with Swedish values."""
    found = {}
    for name in sorted(template_names()):
        context = {**SAMPLE, "greeting": greeting(SAMPLE["name"], "sv")}
        rendered = mail_template(name, "sv").render(
            context, language="sv", footer=Footer("Du får det här för att du är med.", None)
        )
        found[f"template {name}.sv.md"] = f"{rendered.subject}\n{rendered.text}"
    return found


SAMPLE: dict[str, Any] = {
    "name": "Åsa", "title": "Prova-på-möte", "link": "https://kampanj.example.se/x",
    "organisation": "Alpha kommun", "when": "10 mars 2014 kl. 09.00", "details": "Sal 3",
    "campaign": "Testöverenskommelsen", "email": "asa@alpha.se", "group": "Alpha-gruppen",
    "date": "31 mars 2015", "yes": "https://kampanj.example.se/ja", "where": "Sal 3",
    "starts": "10 mars 2014 kl. 09.00", "sent": "3 mars 2014", "previous": "3 mars 2014",
    "no": "https://kampanj.example.se/nej", "maybe": "https://kampanj.example.se/kanske",
    "intro": "Hej!", "ends": "31 mars 2015", "ended": "31 mars 2015", "description": "Ett möte",
    "base_url": "https://kampanj.example.se", "applied": True, "status": 500,
    "url": "https://intranat.alpha.se/kampanj",
}  # fmt: skip


def _mail_offences(session: Session) -> dict[str, list[str]]:
    found = {}
    for where, text in {**_mails(session), **_templates()}.items():
        if offending := offences(mail_text(text)):
            found[where] = offending
    return found


def test_every_mail_is_in_swedish(session: Session, lived_in: dict[str, str]) -> None:
    found = _mail_offences(session)
    assert not found, _report(found)


def test_the_checker_sees_what_the_issue_saw() -> None:
    seen = (
        "skipped: more than two days late · waiting: the campaign's sending rate limit"
        " · Hur: added by rep@alpha.se · 2014-03-03T07:55:12.628069+00:00 · baseline:"
        " · pilot-group · fields: ['people_reached']"
    )
    assert len(offences(seen)) >= 8
    swedish = "Åsa Öberg i Alpha kommun fick mejlet den 3 december 2026 kl. 08.58. Nej, inte än."
    assert offences(swedish) == []
    assert offences(visible('<a href="/campaigns/test/sequences/pilot-group">Kö</a>')) == []
