"""Staff never read a link that acts for somebody else: the outbox shows delivery, not secrets.

The attack this guards against (issue 14, item 1): anyone asks for a password reset of the lead
administrator; a representative of the lead organisation reads the queued mail in the outbox,
follows its link and chooses a new password. Below, every kind of message is produced by the
code that really produces it, and every page, preview and export a staff member can open is
searched for the signed tokens the stored mail carries.
"""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.enrolment.models import Participant
from campaign.events.models import Event
from campaign.jobs import JOBS, run_job
from campaign.network.models import Organisation
from campaign.outbox.mail import list_headers
from campaign.outbox.models import Message, MessageKind, MessageState
from campaign.outbox.unsubscribe import token_for
from campaign.security import hide_signed_links, sign
from tests.conftest import PASSWORD, START, Network, ask_for_new_password, csrf_token, sign_in
from tests.enrolment_helpers import deliver, group, link_in, make_event
from tests.outbox_helpers import SENDER, participant
from tests.urls import staff

# The paths of every link that acts for its holder; the token follows the path.
PERSONAL_PATHS = (
    "/u/",
    "/rsvp/",
    "/q/",
    "/join/confirm/",
    "/invitation/",
    "/password/reset/",
    "/calendar/",
)
LINK = re.compile("(?:" + "|".join(re.escape(p) for p in PERSONAL_PATHS) + r")([\w.-]{20,})")
# Mail whose content only its recipient may read: a link that sets a password, signs in or
# enrols and consents, and staff's own test mail. Of the others, staff read the text.
SEALED = {
    MessageKind.STAFF_INVITATION,
    MessageKind.LOGIN_LINK,
    MessageKind.CONFIRMATION,
    MessageKind.TEST,
    MessageKind.NOTICE,
}


def _job(name: str):  # type: ignore[no-untyped-def]
    return next(job for job in JOBS if job.name == name)


def _client(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    sign_in(client, email)
    return client


def _unfold(calendar: str | None) -> str:
    """An iCalendar text with its folded lines joined, so a folded token reads whole."""
    return re.sub(r"\r?\n[ \t]", "", calendar or "")


def _stored_secrets(message: Message) -> set[str]:
    """Every token of a personal link in what is stored to be sent, and its signature alone."""
    stored = " ".join(
        [
            message.subject,
            message.text_body,
            message.html_body,
            json.dumps(message.headers),
            _unfold(message.calendar),
        ]
    )
    tokens = set(LINK.findall(stored))
    return tokens | {t.rsplit(".", 1)[-1] for t in tokens}


def _xlsx_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        return " ".join(book.read(name).decode("utf-8", "replace") for name in book.namelist())


def _staff_pages(client: FlaskClient, session: Session) -> dict[str, str]:
    """Everything a staff member can open about the outbox's messages and their recipients."""
    session.expire_all()
    pages: dict[str, str] = {}

    def get(path: str) -> None:
        response = client.get(path)
        assert response.status_code < 500, path
        body = response.data
        pages[path] = _xlsx_text(body) if path.endswith("xlsx") else body.decode()

    get(staff("/outbox"))
    for state in ("queued", "sent", "cancelled", "failed"):
        get(staff(f"/outbox?state={state}"))
    for message in session.scalars(select(Message)):
        get(staff(f"/outbox/{message.id}"))
        get(staff(f"/outbox/{message.id}/html"))
    for person in session.scalars(select(Participant)):
        org = staff(f"/organisations/{session.get(Organisation, person.organisation_id).slug}")
        get(f"{org}/participants/{person.id}")
        get(f"{org}/participants/{person.id}/data.json")
        get(f"{org}/participants/{person.id}/schedule")
        get(f"{org}/participants/export.csv")
        get(f"{org}/participants/export.xlsx")
    for event in session.scalars(select(Event)):
        get(staff(f"/organisations/alpha/events/{event.id}"))
        get(staff(f"/organisations/alpha/events/{event.id}/event.ics"))
    return pages


def _assert_nothing_readable(pages: dict[str, str], secrets: set[str]) -> None:
    for path, body in pages.items():
        for secret in secrets:
            assert secret not in body, f"{path} shows a personal token"
        assert not LINK.search(body), f"{path} shows a personal link"


# -- the attack, end to end over HTTP --------------------------------------------------------


def test_a_representative_cannot_take_over_the_lead_admin_by_a_reset_mail(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    ask_for_new_password(app.test_client(), "lead@alpha.se")  # anyone may
    message = session.scalars(select(Message)).one()
    assert message.kind is MessageKind.LOGIN_LINK and "/password/reset/" in message.text_body
    secrets = _stored_secrets(message)
    assert secrets

    for reader in ("rep@alpha.se", "lead@alpha.se"):
        client = _client(app, reader)
        pages = _staff_pages(client, session)
        _assert_nothing_readable(pages, secrets)
        listing = client.get(staff("/outbox")).get_data(as_text=True)
        # That the mail exists, to whom, of what kind and how its delivery goes: shown.
        assert "lead@alpha.se" in listing and staff(f"/outbox/{message.id}") in listing
        assert "I kö" in listing and "Inloggningslänk" in listing
        detail = client.get(staff(f"/outbox/{message.id}"))
        page = detail.get_data(as_text=True)
        assert detail.status_code == 200 and "lead@alpha.se" in page and "I kö" in page
        assert "Bara mottagaren kan läsa" in page
        assert "Välj ett nytt lösenord" not in page  # not even the subject
        html = client.get(staff(f"/outbox/{message.id}/html"))
        assert html.status_code == 404
        # The attacker's next step has nothing to follow.
        for body in pages.values():
            for token in re.findall(r"/password/reset/([\w.-]+)", body):
                attempt = client.get(f"/password/reset/{token}")
                assert attempt.status_code != 200

    sign_in(app.test_client(), "lead@alpha.se", PASSWORD)  # the password is still the lead's
    # The one it was meant for still gets a working link.
    deliver(app, session, transport)
    (mail,) = server.received
    assert mail.recipients == ["lead@alpha.se"]
    link = link_in(mail, "/password/reset/")
    assert app.test_client().get(link).status_code == 200
    client = _client(app, "rep@alpha.se")
    assert "Skickat" in client.get(staff(f"/outbox/{message.id}")).get_data(as_text=True)


def test_housekeeping_empties_a_delivered_credential_mail_and_keeps_its_envelope(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    """A backup or copy of the database must not hold a working reset link once it is sent."""
    server, transport = sink
    for email in ("lead@alpha.se", "rep@alpha.se"):
        ask_for_new_password(app.test_client(), email)
    lead_mail, rep_mail = session.scalars(select(Message).order_by(Message.recipient)).all()
    rep_mail.due_at = START.replace(year=2015)  # not sent yet: its content is still needed
    session.commit()
    deliver(app, session, transport)
    assert run_job(app, _job("housekeeping"), START) is True
    session.expire_all()
    assert (lead_mail.subject, lead_mail.text_body, lead_mail.html_body) == ("", "", "")
    assert lead_mail.headers == {} and lead_mail.recipient == "lead@alpha.se"
    assert lead_mail.sent_at is not None and lead_mail.kind is MessageKind.LOGIN_LINK
    assert "/password/reset/" in rep_mail.text_body
    # The link that was delivered still works: only the stored copy is gone.
    (mail,) = server.received
    assert app.test_client().get(link_in(mail, "/password/reset/")).status_code == 200


def test_only_the_lead_admin_may_stop_or_resend_a_mail_only_its_recipient_reads(
    app: Flask, session: Session, network: Network
) -> None:
    """A colleague must not be able to keep the lead admin's reset link from reaching them."""
    ask_for_new_password(app.test_client(), "lead@alpha.se")
    message = session.scalars(select(Message)).one()
    page = staff(f"/outbox/{message.id}")
    rep = _client(app, "rep@alpha.se")
    assert "Stoppa meddelandet" not in rep.get(page).get_data(as_text=True)
    refused = rep.post(f"{page}/cancel", data={"csrf_token": csrf_token(rep, staff("/outbox"))})
    assert refused.status_code == 403
    session.expire_all()
    assert message.state is MessageState.QUEUED
    lead = _client(app, "lead@alpha.se")
    assert "Stoppa meddelandet" in lead.get(page).get_data(as_text=True)
    done = lead.post(f"{page}/cancel", data={"csrf_token": csrf_token(lead, staff("/outbox"))})
    assert done.status_code == 302
    session.expire_all()
    assert message.state is MessageState.CANCELLED
    refused = rep.post(f"{page}/retry", data={"csrf_token": csrf_token(rep, staff("/outbox"))})
    assert refused.status_code == 403


def test_a_colleague_cannot_claim_a_newly_invited_account(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    lead = _client(app, "lead@alpha.se")
    page = staff("/organisations/alpha/representatives/new")
    response = lead.post(
        page,
        data={
            "csrf_token": csrf_token(lead, page),
            "name": "Nina Ny",
            "email": "nina@alpha.se",
            "language": "sv",
        },
    )
    assert response.status_code == 302
    message = session.scalars(select(Message)).one()
    assert message.kind is MessageKind.STAFF_INVITATION
    secrets = _stored_secrets(message)
    assert secrets

    for reader in ("rep@alpha.se", "lead@alpha.se"):
        client = _client(app, reader)
        pages = _staff_pages(client, session)
        _assert_nothing_readable(pages, secrets)
        assert "nina@alpha.se" in pages[staff("/outbox")]
        assert "Inbjudan till konto" in pages[staff(f"/outbox/{message.id}")]
        assert "Nina Ny" not in pages[staff(f"/outbox/{message.id}")]  # the body is not shown

    deliver(app, session, transport)
    link = link_in(server.received[0], "/invitation/")
    owner = app.test_client()
    response = owner.post(
        link,
        data={
            "csrf_token": csrf_token(owner, link),
            "new_password": "Nina's own long password",
            "confirm_password": "Nina's own long password",
        },
    )
    assert response.status_code == 302  # the owner, not a colleague, chose the password


# -- every kind of message, queued by the code that queues it ---------------------------------


def _person(app: Flask, session: Session, network: Network) -> Participant:
    with app.app_context():
        target = group(session, network)
        person = participant(session, network, "asa@alpha.se")
        person.pilot_group_id = target.id
        session.commit()
    return person


def _sequence_step(app: Flask, session: Session, network: Network) -> None:
    _person(app, session, network)
    run_job(app, _job("materialize"), START)


def _event_invitation(app: Flask, session: Session, network: Network) -> int:
    person = _person(app, session, network)
    with app.app_context():
        event = make_event(session, network, person.pilot_group, reminders="24h")
        session.commit()
    rep = _client(app, "rep@alpha.se")
    page = staff(f"/organisations/alpha/events/{event.id}")
    response = rep.post(f"{page}/invite", data={"csrf_token": csrf_token(rep, page)})
    assert response.status_code == 302
    return event.id


def _event_reminder(app: Flask, session: Session, network: Network) -> None:
    _event_invitation(app, session, network)
    run_job(app, _job("reminders"), datetime(2014, 3, 9, 8, 0, tzinfo=UTC))


def _questionnaire(app: Flask, session: Session, network: Network) -> None:
    _person(app, session, network)
    run_job(app, _job("questionnaires"), datetime(2014, 3, 3, 9, 0, tzinfo=UTC))


def _confirmation(app: Flask, session: Session, network: Network) -> None:
    with app.app_context():
        target = group(session, network)
        session.commit()
    rep = _client(app, "rep@alpha.se")
    page = staff(f"/organisations/alpha/groups/{target.id}")
    rep.post(f"{page}/link", data={"csrf_token": csrf_token(rep, page), "action": "open"})
    shown = rep.get(page).get_data(as_text=True)
    path = re.search(r"http://localhost(/join/[\w.-]+)", shown).group(1)  # type: ignore[union-attr]
    visitor = app.test_client()
    response = visitor.post(
        path,
        data={
            "csrf_token": csrf_token(visitor, path),
            "name": "Ny Person",
            "email": "ny@alpha.se",
            "language": "sv",
            "agreed": "y",
        },
    )
    assert response.status_code == 200


def _staff_invitation(app: Flask, session: Session, network: Network) -> None:
    lead = _client(app, "lead@alpha.se")
    page = staff("/organisations/alpha/representatives/new")
    lead.post(
        page,
        data={
            "csrf_token": csrf_token(lead, page),
            "name": "Nina Ny",
            "email": "nina@alpha.se",
            "language": "sv",
        },
    )


def _login_link(app: Flask, session: Session, network: Network) -> None:
    ask_for_new_password(app.test_client(), "rep@alpha.se")


def _test_mail(app: Flask, session: Session, network: Network) -> None:
    lead = _client(app, "lead@alpha.se")
    lead.post(staff("/outbox/test"), data={"csrf_token": csrf_token(lead, staff("/outbox"))})
    step = staff("/sequences/pilot-group/sv/01")
    lead.post(f"{step}/test", data={"csrf_token": csrf_token(lead, step)})


def _notice(app: Flask, session: Session, network: Network) -> None:
    from campaign.retention.due import warn

    participant(session, network, "asa@alpha.se")  # a campaign of nobody is warned of nothing
    with app.app_context():
        warn(session, network.campaign, START)
        session.commit()


def _announcement(app: Flask, session: Session, network: Network) -> None:
    from tests.announcement_helpers import form

    _person(app, session, network)
    rep = _client(app, "rep@alpha.se")
    new = staff("/announcements/new")
    data = {"csrf_token": csrf_token(rep, new), "send": "1", **form()}
    assert rep.post(new, data=data).status_code == 302


PRODUCERS: dict[MessageKind, Callable[[Flask, Session, Network], object]] = {
    MessageKind.SEQUENCE_STEP: _sequence_step,
    MessageKind.INVITATION: _event_invitation,
    MessageKind.REMINDER: _event_reminder,
    MessageKind.QUESTIONNAIRE: _questionnaire,
    MessageKind.CONFIRMATION: _confirmation,
    MessageKind.STAFF_INVITATION: _staff_invitation,
    MessageKind.LOGIN_LINK: _login_link,
    MessageKind.TEST: _test_mail,
    MessageKind.NOTICE: _notice,
    MessageKind.ANNOUNCEMENT: _announcement,
}


def test_every_kind_of_message_is_covered() -> None:
    assert set(PRODUCERS) == set(MessageKind)


@pytest.mark.parametrize("kind", list(MessageKind), ids=lambda k: k.value)
def test_no_staff_member_reads_a_personal_link_of_any_kind_of_message(
    app: Flask, session: Session, network: Network, kind: MessageKind
) -> None:
    PRODUCERS[kind](app, session, network)
    session.expire_all()
    messages = list(session.scalars(select(Message).where(Message.kind == kind)))
    assert messages, f"nothing of kind {kind.value} was queued"
    secrets = set().union(*(_stored_secrets(m) for m in messages))
    if kind not in (MessageKind.TEST, MessageKind.NOTICE):  # no personal link in these
        assert secrets, f"{kind.value}: the mail should carry a personal link"
    for reader in ("lead@alpha.se", "rep@alpha.se"):
        pages = _staff_pages(_client(app, reader), session)
        _assert_nothing_readable(pages, secrets)
        for message in messages:
            detail = pages[staff(f"/outbox/{message.id}")]
            assert message.recipient in detail
            if kind not in SEALED:
                # Staff still see what the participant was sent, with the links hidden.
                assert "[personlig länk, dold]" in detail
                assert "[personlig länk, dold]" in pages[staff(f"/outbox/{message.id}/html")]
            else:
                assert "Bara mottagaren kan läsa" in detail
                assert message.subject not in detail
                assert message.text_body.split("\n")[0] not in detail
    if kind not in SEALED:
        (person,) = session.scalars(select(Participant))
        rep = _client(app, "rep@alpha.se")
        data = rep.get(staff(f"/organisations/alpha/participants/{person.id}/data.json")).get_json()
        texts = [m["text"] for m in data["messages"] if m["kind"] == kind.value]
        assert texts and all("[personlig länk, dold]" in t for t in texts)


def test_the_calendar_part_and_headers_are_shown_without_the_rsvp_and_unsubscribe_links(
    app: Flask, session: Session, network: Network
) -> None:
    _event_invitation(app, session, network)
    message = session.scalars(select(Message)).one()
    assert "/rsvp/" in _unfold(message.calendar) and "/u/" in message.headers["List-Unsubscribe"]
    page = _client(app, "rep@alpha.se").get(staff(f"/outbox/{message.id}")).get_data(as_text=True)
    assert "List-Unsubscribe" in page and "METHOD:REQUEST" in page
    assert "BEGIN:VEVENT" in page and "https://meet.alpha.se/prova" in page  # not personal
    _assert_nothing_readable({"show": page}, _stored_secrets(message))


def test_the_hidden_link_marker_follows_the_readers_language(
    app: Flask, session: Session, network: Network
) -> None:
    _sequence_step(app, session, network)
    message = session.scalars(select(Message)).one()
    network.lead.language = "en"
    session.commit()
    lead = _client(app, "lead@alpha.se")
    page = lead.get(staff(f"/outbox/{message.id}")).get_data(as_text=True)
    assert "[personal link, hidden]" in page


def test_the_step_preview_as_a_real_participant_shows_no_live_unsubscribe_link(
    app: Flask, session: Session, network: Network
) -> None:
    person = _person(app, session, network)
    with app.app_context():
        secret = list_headers(f"http://127.0.0.1:5000/u/{token_for(person)}", SENDER)[
            "List-Unsubscribe"
        ]
    token = re.search(r"/u/([\w.-]+)>", secret).group(1)  # type: ignore[union-attr]
    lead = _client(app, "lead@alpha.se")
    step = staff("/sequences/pilot-group/sv/01")
    for path in (f"{step}?participant={person.email}", f"{step}/html?participant={person.email}"):
        page = lead.get(path).get_data(as_text=True)
        assert "Åsa" in page and token not in page and token.rsplit(".", 1)[-1] not in page


def test_a_sealed_message_is_invisible_to_other_members_and_can_still_be_cancelled(
    app: Flask, session: Session, network: Network
) -> None:
    _login_link(app, session, network)
    message = session.scalars(select(Message)).one()
    beta = _client(app, "rep@beta.se")
    assert beta.get(staff(f"/outbox/{message.id}")).status_code == 404
    assert beta.get(staff(f"/outbox/{message.id}/html")).status_code == 404
    # The lead admin sees it exists, for the whole network, and may cancel it.
    lead = _client(app, "lead@alpha.se")
    page = staff(f"/outbox/{message.id}")
    response = lead.post(f"{page}/cancel", data={"csrf_token": csrf_token(lead, page)})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Message, message.id).state.value == "cancelled"


# -- the one function that hides signed links -------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [1, 2**62, [12, "a" * 20], ["x" * 300, "y" * 300], {"email": "åsa@alpha.se", "n": [1] * 50}],
    ids=["small", "large", "list", "compressed", "unicode"],
)
def test_every_token_sign_makes_is_hidden_wherever_it_stands(app: Flask, payload: object) -> None:
    with app.app_context():
        for moment in (START, datetime(1971, 1, 1, tzinfo=UTC), datetime(2400, 1, 1, tzinfo=UTC)):
            app.extensions["campaign.clock"].set(moment)
            token = sign("any purpose", payload)
            for text in (
                f"Svara här: https://kampanj.se/q/{token}\n",
                f"[Ja](https://kampanj.se/rsvp/{token}?answer=accepted) · [Nej](…)",
                f'<a href="https://kampanj.se/u/{token}" style="x">Avsluta</a>',
                f"<https://kampanj.se/u/{token}>, <mailto:k@kampanj.se?subject=unsubscribe>",
                f"DESCRIPTION:Ta med headset.\\n\\nhttps://kampanj.se/rsvp/{token}",
                f"bare {token}.",
            ):
                hidden = hide_signed_links(text, "[dold]")
                assert token not in hidden and token.rsplit(".", 1)[-1] not in hidden, text
                assert "[dold]" in hidden and "kampanj.se/" not in hidden.replace("@", ""), text


def test_ordinary_links_and_text_stay_as_they_are() -> None:
    text = (
        "Mötet: https://meet.alpha.se/prova?pwd=abc123 (Lync). Guide: https://alpha.se/guide.\n"
        "Frågor till kampanj@kungalv.se, version 1.2.3, server 127.0.0.1:5000, "
        "https://teams.microsoft.com/l/meetup-join/19%3ameeting_NjA0/0?context=%7b%22Tid%22%7d"
    )
    assert hide_signed_links(text, "[dold]") == text


def test_hiding_takes_linear_time_on_hostile_text() -> None:
    hostile = [
        "a" * 200_000,
        "a." * 100_000,
        "http://" * 30_000,
        ("https://x.se/" + "b" * 30 + ".") * 5_000,
        "aa.bb." + "c" * 200_000,
        ("/MQ.UxREkA." + "A" * 27) * 5_000,
        (" MQ.UxREkA." + "A" * 27) * 5_000,
    ]
    for text in hostile:
        started = time.perf_counter()
        hide_signed_links(text, "[dold]")
        assert time.perf_counter() - started < 1.0, text[:20]
