"""Inviting a whole campaign: the request returns at once, the clock's job queues the mail in
batches with visible progress, a restart resumes, nobody is mailed twice; and the mail built
from parts once per event version is the mail built whole for each person."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from icalendar import Calendar
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from campaign.enrolment.mail import addressee_of
from campaign.enrolment.models import Participant, ParticipantStatus
from campaign.events import calendar, fanout, invitations, letters
from campaign.events.models import (
    Audience,
    Event,
    Fanout,
    FanoutKind,
    FanoutState,
    Invitation,
    Rsvp,
)
from campaign.jobs import JOBS, run_job
from campaign.outbox.mail import list_headers, participant_footer
from campaign.outbox.models import Message
from campaign.outbox.texts import greeting, mail_template
from campaign.outbox.unsubscribe import token_for
from tests.browser import Live, audit
from tests.browser import sign_in as browser_sign_in
from tests.conftest import PASSWORD, START, Network, csrf_token, sign_in
from tests.enrolment_helpers import make_event
from tests.urls import staff

JOB = next(job for job in JOBS if job.name == "invitations")
MANY = fanout.IN_REQUEST + 50  # more than the request queues itself


def _crowd(session: Session, network: Network, count: int) -> None:
    """`count` active participants, split between Alpha and Beta, one in five writing English."""
    session.execute(
        insert(Participant),
        [
            {
                "campaign_id": network.campaign.id,
                "organisation_id": (network.alpha if n % 2 else network.beta).id,
                "email": f"deltagare{n}@{'alpha' if n % 2 else 'beta'}.se",
                "name": f"Åsa Öberg {n}",
                "language": "en" if n % 5 == 0 else "sv",
                "status": ParticipantStatus.ACTIVE,
                "created_at": START,
                "updated_at": START,
            }
            for n in range(count)
        ],
    )
    session.commit()


def _campaign_event(session: Session, network: Network) -> Event:
    event = make_event(session, network, audience=Audience.CAMPAIGN, organiser_id=network.lead.id)
    session.commit()
    return event


def _mails_per_invitation(session: Session, event: Event) -> Counter[int]:
    """How many calendar mails each invitation of the event has in the outbox."""
    keys = session.scalars(
        select(Message.source_key).where(Message.source_key.startswith(f"ev:{event.id}:"))
    )
    return Counter(int(re.search(r":i(\d+):", key).group(1)) for key in keys)  # type: ignore[union-attr]


def test_a_campaign_wide_invitation_returns_at_once_and_the_job_queues_each_mail_once(
    app: Flask, session: Session, network: Network
) -> None:
    _crowd(session, network, MANY)
    event = _campaign_event(session, network)
    client = app.test_client()
    sign_in(client, "lead@alpha.se")
    page = staff(f"/organisations/alpha/events/{event.id}")
    assert f"Skicka inbjudan till {MANY} personer" in client.get(page).get_data(as_text=True)

    response = client.post(f"{page}/invite", data={"csrf_token": csrf_token(client, page)})
    assert response.status_code == 302
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Invitation)) == MANY
    assert session.scalar(select(func.count()).select_from(Message)) == 0  # none in the request
    (pending,) = session.scalars(select(Fanout))
    assert (pending.state, pending.total, pending.done) == (FanoutState.QUEUED, MANY, 0)

    shown = client.get(page).get_data(as_text=True)
    assert f"0 av {MANY} inbjudningar ligger i kön." in shown
    assert f'data-progress-url="{staff("/organisations/alpha/events/")}' in shown
    assert "/static/progress.js" in shown and "<script>" not in shown  # no inline script (CSP)
    progress = client.get(f"{page}/mailing.json").get_json()
    assert progress == {
        "state": "queued",
        "done": 0,
        "total": MANY,
        "text": f"0 av {MANY} inbjudningar ligger i kön.",
        "finished": False,
    }

    # Another member's representative learns nothing about it, by either address.
    other = app.test_client()
    sign_in(other, "rep@beta.se")
    assert other.get(f"{page}/mailing.json").status_code == 404
    assert (
        other.get(staff(f"/organisations/beta/events/{event.id}/mailing.json")).status_code == 404
    )

    assert run_job(app, JOB, START)
    assert run_job(app, JOB, START)  # again: nothing more
    session.expire_all()
    mails = _mails_per_invitation(session, event)
    invited = set(session.scalars(select(Invitation.id)))
    assert set(mails) == invited and set(mails.values()) == {1}
    progress = client.get(f"{page}/mailing.json").get_json()
    assert progress["state"] == "done" and progress["done"] == MANY and progress["finished"]
    assert progress["text"] == f"Alla {MANY} inbjudningar ligger i kön."
    assert "/static/progress.js" not in client.get(page).get_data(as_text=True)

    # Each mail is its own: the recipient is the ATTENDEE, and the link answers for them.
    message = session.scalars(select(Message).order_by(Message.id.desc()).limit(1)).one()
    item = Calendar.from_ical(message.calendar).walk("VEVENT")[0]
    assert str(item["ATTENDEE"]) == f"mailto:{message.recipient}"
    token = re.search(r"/rsvp/([\w.-]+)", str(item["DESCRIPTION"])).group(1)  # type: ignore[union-attr]
    answering = app.test_client()
    path = f"/rsvp/{token}"
    answered = answering.post(
        path, data={"csrf_token": csrf_token(answering, path), "answer": "accepted"}
    )
    assert answered.status_code == 200
    session.expire_all()
    accepted = session.execute(
        select(Participant.email)
        .join(Invitation, Invitation.participant_id == Participant.id)
        .where(Invitation.rsvp == Rsvp.ACCEPTED)
    ).all()
    assert accepted == [(message.recipient,)]


def test_the_lead_organisations_representative_sees_only_their_own_people_of_a_network_meeting(
    app: Flask, session: Session, network: Network
) -> None:
    """A meeting for the whole campaign belongs to the lead organisation, so its representative
    reaches the page: not the other members' invitees, nor the network's mailing."""
    _crowd(session, network, 6)
    event = _campaign_event(session, network)
    lead = app.test_client()
    sign_in(lead, "lead@alpha.se")
    page = staff(f"/organisations/alpha/events/{event.id}")
    lead.post(f"{page}/invite", data={"csrf_token": csrf_token(lead, page)})
    everyone = lead.get(page).get_data(as_text=True)
    assert "deltagare1@alpha.se" in everyone and "deltagare0@beta.se" in everyone

    rep = app.test_client()
    sign_in(rep, "rep@alpha.se")
    shown = rep.get(page)
    assert shown.status_code == 200
    text = shown.get_data(as_text=True)
    assert "deltagare1@alpha.se" in text and "deltagare3@alpha.se" in text
    assert "@beta.se" not in text
    assert rep.get(f"{page}/mailing.json").status_code == 404


def test_an_interrupted_fanout_resumes_and_nobody_is_mailed_twice(
    app: Flask, session: Session, network: Network
) -> None:
    count = 2 * fanout.BATCH + 100
    _crowd(session, network, count)
    event = _campaign_event(session, network)
    with app.app_context():
        assert invitations.invite(session, event, START) == count
        session.commit()
        (started,) = session.scalars(select(Fanout))
        fanout.advance(session, started, START)
        session.commit()  # the first batch is in
        fanout.advance(session, started, START)
        session.rollback()  # the process dies in the middle of the second
    session.expire_all()
    assert sum(_mails_per_invitation(session, event).values()) == fanout.BATCH
    client = app.test_client()
    sign_in(client, "lead@alpha.se")
    progress = client.get(staff(f"/organisations/alpha/events/{event.id}/mailing.json")).get_json()
    assert (progress["state"], progress["done"], progress["total"]) == ("running", 500, count)
    assert progress["text"] == "500 av 1\xa0100 inbjudningar ligger i kön."

    # The clock's job takes over, in a session of its own as another process would.
    assert run_job(app, JOB, START + timedelta(minutes=5))
    session.expire_all()
    mails = _mails_per_invitation(session, event)
    assert len(mails) == count and set(mails.values()) == {1}
    finished = session.get(Fanout, started.id)
    assert (finished.state, finished.done, finished.total) == (FanoutState.DONE, count, count)

    # Even with every invitation's mark lost, nobody gets a second mail: the unique keys hold.
    session.execute(update(Invitation).values(sent_sequence=None))
    session.commit()
    with app.app_context():
        fanout.start(session, session.get(Event, event.id), FanoutKind.INVITATION, START)
        session.commit()
    assert run_job(app, JOB, START + timedelta(minutes=6))
    session.expire_all()
    assert _mails_per_invitation(session, event) == mails


def test_inviting_again_invites_only_those_enrolled_since_and_counts_them(
    app: Flask, session: Session, network: Network
) -> None:
    """The invitations are written by one INSERT ... SELECT of the whole audience, the unique
    key skipping those invited already: the count and the fan-out are the new people's."""
    _crowd(session, network, 40)
    event = _campaign_event(session, network)
    with app.app_context():
        assert invitations.invite(session, event, START) == 40
        assert invitations.uninvited_count(session, event) == 0
        session.commit()
        assert run_job(app, JOB, START + timedelta(minutes=1))
        session.execute(
            insert(Participant),
            [
                {
                    "campaign_id": network.campaign.id,
                    "organisation_id": network.alpha.id,
                    "email": f"ny{n}@alpha.se",
                    "status": ParticipantStatus.ACTIVE,
                    "created_at": START,
                    "updated_at": START,
                }
                for n in range(3)
            ],
        )
        session.commit()
        event = session.get(Event, event.id)
        assert invitations.uninvited_count(session, event) == 3
        assert invitations.invite(session, event, START + timedelta(minutes=2)) == 3
        session.commit()
        assert invitations.invite(session, event, START + timedelta(minutes=3)) == 0
        session.commit()
    per_person = Counter(
        session.scalars(select(Invitation.participant_id).where(Invitation.event_id == event.id))
    )
    assert len(per_person) == 43 and set(per_person.values()) == {1}
    session.expire_all()
    mails = _mails_per_invitation(session, event)
    assert len(mails) == 43 and set(mails.values()) == {1}  # the 3 mailed in the request


def test_a_change_during_the_fanout_gives_everyone_the_new_version_once(
    app: Flask, session: Session, network: Network
) -> None:
    """Those already mailed get an update, those not yet their invitation, both of the new time."""
    count = fanout.BATCH + 50
    _crowd(session, network, count)
    event = _campaign_event(session, network)
    with app.app_context():
        invitations.invite(session, event, START)
        session.commit()
        fanout.advance(session, session.scalars(select(Fanout)).one(), START)
        session.commit()
        moved = event.starts_at + timedelta(days=1)
        changes = {"starts_at": moved, "ends_at": moved + timedelta(hours=1)}
        assert invitations.change(session, event, changes, START) == count
        session.commit()
    assert run_job(app, JOB, START)
    session.expire_all()
    kinds = Counter(
        key.rsplit(":", 1)[1]
        for key in session.scalars(
            select(Message.source_key).where(Message.source_key.startswith(f"ev:{event.id}:s1:"))
        )
    )
    assert kinds == {"update": fanout.BATCH, "invitation": 50}
    assert set(_mails_per_invitation(session, event).values()) == {1, 2}
    assert set(session.scalars(select(Invitation.sent_sequence))) == {1}
    latest = session.scalars(select(Fanout).order_by(Fanout.id.desc())).first()
    assert latest is not None and (latest.kind, latest.state) == (
        FanoutKind.UPDATE,
        FanoutState.DONE,
    )


NAMES = [
    "Åsa Öberg",
    "Anna-Lena O'Brien",
    'Bo "Bosse" Ek & Co, 1 < 2 > 0',
    "Nils\xa0Holgersson",
    "",
]


@pytest.mark.parametrize("kind", ["invitation", "update", "cancel", "place", "reminder"])
def test_the_mail_built_from_parts_is_the_mail_built_whole(
    app: Flask, session: Session, network: Network, kind: str
) -> None:
    """Subject, text, HTML and calendar are what a whole render for the person gives."""
    network.alpha.name = "Alpha & Omega kommun"
    event = make_event(
        session,
        network,
        audience=Audience.ORGANISATION,
        description_md="Ta med **headset**; vi börjar *i tid*.",
        is_cancelled=kind == "cancel",
    )
    people = []
    for n, name in enumerate(NAMES):
        person = Participant(
            campaign_id=network.campaign.id,
            organisation_id=network.alpha.id,
            email=f"p{n}@alpha.se",
            name=name,
            language="en" if n == 1 else "sv",
            status=ParticipantStatus.ACTIVE,
            created_at=START,
            updated_at=START,
        )
        session.add(person)
        session.flush()
        people.append(
            (person, Invitation(event_id=event.id, participant_id=person.id, created_at=START))
        )
    session.add_all(invitation for _person, invitation in people)
    session.commit()
    with app.test_request_context():
        built = letters.Letters(session, event, START)
        base_url, sender = app.config["CAMPAIGN_BASE_URL"], app.config["CAMPAIGN_MAIL_FROM"]
        for person, invitation in people:
            mail = built.message(letters.invitee_of(session, invitation), kind)
            link = f"{base_url}/rsvp/{letters.rsvp_token(invitation)}"
            addressee = addressee_of(session, person)
            headers = list_headers(addressee.unsubscribe_url, sender)
            footer = participant_footer(addressee)
            assert "Alpha & Omega kommun" in footer.reason
            assert footer.unsubscribe_url == f"{base_url}/u/{token_for(person)}"
            opening = greeting(person.name, person.language)
            context = letters.context_of(event, person.language, opening, link)
            template = mail_template(letters.template_name(kind), person.language)
            whole = template.render(context, language=person.language, footer=footer)
            assert mail["rendered"] == whole, person.name
            assert mail["headers"] == headers
            if kind == "reminder":
                assert mail["calendar"] is None
                continue
            assert mail["calendar"] == calendar.invitation(
                event,
                stamp=START,
                organiser=letters.organiser_of(session, event),
                attendee=calendar.Person(person.name, person.email),
                partstat="NEEDS-ACTION",
                description=f"{event.description_md}\n\n{link}",
            )


def test_a_name_is_text_in_the_mail_never_markup(
    app: Flask, session: Session, network: Network
) -> None:
    """A participant's name is shown as written: no link or emphasis made of it."""
    event = make_event(session, network, audience=Audience.ORGANISATION)
    person = Participant(
        campaign_id=network.campaign.id,
        organisation_id=network.alpha.id,
        email="vinn@alpha.se",
        name="[Vinn](https://evil.example) *nu*",
        status=ParticipantStatus.ACTIVE,
        created_at=START,
        updated_at=START,
    )
    session.add(person)
    session.commit()
    with app.app_context():
        invitations.invite(session, event, START)
        session.commit()
    message = session.scalars(select(Message)).one()
    assert "Hej [Vinn](https://evil.example)!" in message.text_body
    assert "Hej [Vinn](https://evil.example)!" in message.html_body
    assert 'href="https://evil.example' not in message.html_body


def test_the_calendar_of_one_invitee_is_the_shared_part_with_theirs_put_in() -> None:
    """Random names and descriptions (escapes, folding inside å and emoji, backslashes, carets)
    give the same bytes as icalendar's whole build."""
    rng = random.Random(14)
    alphabet = "abcÅäö €😀\\^,;:\"'\n<>&*_é" + "x" * 12
    stamp = datetime(2014, 9, 1, tzinfo=UTC)
    organiser = calendar.Person("Lea, Ledare", "lea@alpha.se")
    for cancelled in (False, True):
        event = SimpleNamespace(
            uid="u@kampanj.example.se",
            sequence=3,
            starts_at=datetime(2014, 10, 27, 8, tzinfo=UTC),
            ends_at=datetime(2014, 10, 27, 9, tzinfo=UTC),
            timezone="Europe/Stockholm",
            title="Webbinarium: så, byter; vi",
            join_url="https://meet.alpha.se/w",
            room="Sal 3",
            is_cancelled=cancelled,
        )
        parts = calendar.invitation_parts(event, stamp=stamp, organiser=organiser)  # type: ignore[arg-type]
        for n in range(400):
            name = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 90)))
            name = name.replace("\n", " ")
            description = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 300)))
            person = calendar.Person(name, f"p{n}@alpha.se")
            partstat = rng.choice(list(calendar.PARTSTAT.values()))
            whole = calendar.invitation(
                event,  # type: ignore[arg-type]
                stamp=stamp,
                organiser=organiser,
                attendee=person,
                partstat=partstat,
                description=description,
            )
            assert parts.for_person(person, partstat, description) == whole, (name, description)


def test_the_meeting_page_follows_the_mailing_in_the_browser(
    live: Live, network: Network, session: Session, browser_page: Any
) -> None:
    """The bar moves without inline script (CSP holds), and the page says when it is done."""
    _crowd(session, network, MANY)
    event = _campaign_event(session, network)
    page = browser_page
    browser_sign_in(page, network.lead.email, PASSWORD)
    page.goto(staff(f"/organisations/alpha/events/{event.id}"))
    page.get_by_role("button", name=f"Skicka inbjudan till {MANY} personer").click()
    page.wait_for_load_state()
    status = page.locator("#mailing-status")
    assert status.inner_text() == f"0 av {MANY} inbjudningar ligger i kön."
    assert page.locator("progress").get_attribute("value") == "0"
    audit(page)

    assert run_job(live.app, JOB, START)
    page.get_by_text(f"Alla {MANY} inbjudningar ligger i kön.").wait_for()
    assert page.locator("progress").count() == 0
    audit(page)
