"""A campaign's own mail texts, edited through the web UI: saved only when sound, sent in the
campaign's real mail (over SMTP), reset to the shipped text, audited, other campaigns untouched."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.audit import AuditEvent
from campaign.outbox.models import Message, MessageKind
from campaign.outbox.texts import mail_template
from campaign.outbox.wording import MailText, campaign_letter
from tests.conftest import Network, SecondCampaign, csrf_token, sign_in
from tests.enrolment_helpers import deliver, group
from tests.outbox_helpers import participant
from tests.urls import staff

EDIT = staff("/mail-texts/event-invitation/sv")
NEW_BODY = "{{ greeting }}\n\nVälkommen till **{{ title }}**, vårt eget möte!\n\n{{ details }}\n"


def _lead(app: Flask) -> FlaskClient:
    client = app.test_client()
    sign_in(client, "lead@alpha.se")
    return client


def _post(client: FlaskClient, url: str = EDIT, **fields: str):  # type: ignore[no-untyped-def]
    data = {
        "csrf_token": csrf_token(client, url),
        "subject": "Välkommen: {{ title }}",
        "reason": "Du får det här som medlem i arbetsgruppen.",
        "body": NEW_BODY,
        "action": "save",
    }
    return client.post(url, data={**data, **fields})


def _invite_alpha(app: Flask, session: Session, network: Network, client: FlaskClient) -> None:
    """Plan a meeting for a pilot group of two through the web UI and send its invitations."""
    with app.app_context():
        target = group(session, network)
        for n in range(2):
            participant(
                session, network, f"p{n}@alpha.se", name=f"Åsa Öberg {n}"
            ).pilot_group_id = target.id
        session.commit()
    new = staff("/organisations/alpha/events/new")
    response = client.post(new, data={
        "csrf_token": csrf_token(client, new), "kind": "practice_meeting",
        "title": "Prova-på-möte", "description_md": "", "day": "2014-03-10", "starts": "09:00",
        "ends": "10:00", "timezone": "Europe/Stockholm", "join_url": "https://meet.alpha.se/p",
        "room": "", "capacity": "", "audience": "pilot_group", "pilot_group": str(target.id),
        "reminders": "",
    })  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)
    page = response.headers["Location"]
    client.post(f"{page}/invite", data={"csrf_token": csrf_token(client, page)})


def test_the_list_names_every_text_in_both_languages(app: Flask, network: Network) -> None:
    page = _lead(app).get(staff("/mail-texts")).get_data(as_text=True)
    assert "Inbjudan till ett möte" in page and "En plats från väntelistan" in page
    assert page.count(staff("/mail-texts/event-invitation/")) == 2
    assert "Välj ett nytt lösenord" in page  # a staff mail that keeps the shipped text


def test_an_edited_invitation_goes_out_in_the_campaigns_words(
    app: Flask, session: Session, network: Network, second_campaign: SecondCampaign, sink
) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    client = _lead(app)
    form = client.get(EDIT).get_data(as_text=True)
    assert "{{ title }}" in form and "Övningsmöte i Teams" in form  # a placeholder, its example
    response = _post(client)
    assert response.status_code == 302
    assert "Egen text" in client.get(staff("/mail-texts")).get_data(as_text=True)

    _invite_alpha(app, session, network, client)
    queued = session.scalars(select(Message)).all()
    assert [m.subject for m in queued] == ["Välkommen: Prova-på-möte"] * 2
    shown = client.get(staff(f"/outbox/{queued[0].id}")).get_data(as_text=True)
    assert "vårt eget möte" in shown  # the Outbox page shows the campaign's words
    deliver(app, session, transport)
    assert len(server.received) == 2
    mail = server.received[0].parsed()
    assert mail["Subject"] == "Välkommen: Prova-på-möte"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Välkommen till **Prova-på-möte**, vårt eget möte!" in text
    assert "10 mars 2014 kl. 09.00–10.00" in text  # the details are still filled in
    # The English text, and the other campaign, keep the shipped wording.
    shipped = mail_template("event-invitation", "sv")
    other = campaign_letter(session, second_campaign.campaign.id, "event-invitation", "sv")
    assert other == shipped
    english = campaign_letter(session, network.campaign.id, "event-invitation", "en")
    assert english == mail_template("event-invitation", "en")


def test_an_unknown_placeholder_is_refused_with_its_line(
    app: Flask, session: Session, network: Network
) -> None:
    client = _lead(app)
    body = "{{ greeting }}\n\nVälkommen, {{ förnamn }}!\n"
    response = _post(client, body=body)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Rad 3:" in page and "”förnamn”" in page and "Inget är sparat" in page
    broken = _post(client, subject="Hej {{ title ", body=NEW_BODY).get_data(as_text=True)
    assert "Rad 1:" in broken
    assert session.scalars(select(MailText)).all() == []


def test_a_staff_mail_needs_its_reason_and_a_subject_is_one_line(
    app: Flask, session: Session, network: Network
) -> None:
    client = _lead(app)
    page = _post(client, reason="").get_data(as_text=True)
    assert "Skriv varför mottagaren får mejlet." in page
    assert session.scalars(select(MailText)).all() == []


def test_reset_goes_back_to_the_shipped_text_and_both_are_audited(
    app: Flask, session: Session, network: Network
) -> None:
    client = _lead(app)
    _post(client)
    reset = staff("/mail-texts/event-invitation/sv/reset")
    assert "Gå tillbaka till den levererade texten" in client.get(reset).get_data(as_text=True)
    response = client.post(reset, data={"csrf_token": csrf_token(client, reset)})
    assert response.status_code == 302
    session.expire_all()
    assert session.scalars(select(MailText)).all() == []
    letter = campaign_letter(session, network.campaign.id, "event-invitation", "sv")
    assert letter == mail_template("event-invitation", "sv")
    actions = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    done = [
        (e.action, e.target, e.campaign_id) for e in actions if e.action.startswith("mail_text")
    ]
    assert done == [
        ("mail_text.saved", "mail_text:event-invitation/sv", network.campaign.id),
        ("mail_text.reset", "mail_text:event-invitation/sv", network.campaign.id),
    ]
    log = client.get(staff("/network/audit")).get_data(as_text=True)
    assert "Ändrade texten i ett mejl" in log


def test_preview_and_a_test_to_oneself(app: Flask, session: Session, network: Network) -> None:
    client = _lead(app)
    url = staff("/mail-texts/event-invitation/sv/preview")
    saved = client.get(url)
    assert "Övningsmöte i Teams" in saved.get_data(as_text=True)
    assert "style-src 'unsafe-inline'" in saved.headers["Content-Security-Policy"]
    draft = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, EDIT),
            "subject": "Utkast {{ title }}",
            "reason": "x",
            "body": NEW_BODY,
        },
    )
    page = draft.get_data(as_text=True)
    assert "Utkast Övningsmöte i Teams" in page and "vårt eget möte" in page
    assert "Som vanlig text" in page
    bad = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, EDIT),
            "subject": "x",
            "reason": "x",
            "body": "{{ nej }}",
        },
    )
    assert "Rad 1:" in bad.get_data(as_text=True)
    english = client.get(staff("/mail-texts/questionnaire/en/preview")).get_data(as_text=True)
    assert "How do you meet today?" in english

    response = _post(client, action="test")
    assert response.status_code == 200
    (test,) = session.scalars(select(Message)).all()
    assert test.kind is MessageKind.TEST and test.recipient == "lead@alpha.se"
    assert test.subject == "Välkommen: Övningsmöte i Teams"
    assert session.scalars(select(MailText)).all() == []  # a test saves nothing


def test_an_unknown_text_or_language_is_not_there(app: Flask, network: Network) -> None:
    client = _lead(app)
    assert client.get(staff("/mail-texts/password-reset/sv")).status_code == 404
    assert client.get(staff("/mail-texts/event-invitation/de")).status_code == 404


def test_the_details_of_a_meeting_are_reworded_in_every_mail_of_it(
    app: Flask, session: Session, network: Network
) -> None:  # type: ignore[no-untyped-def]
    client = _lead(app)
    url = staff("/mail-texts/_event-details/sv")
    form = client.get(url).get_data(as_text=True)
    assert 'id="subject"' not in form and 'id="reason"' not in form  # a part has neither
    body = "Tid: {{ when }}. Svara: [Ja]({{ yes }}) eller [Nej]({{ no }})."
    refused = client.post(
        url, data={"csrf_token": csrf_token(client, url), "body": "{{ details }}"}
    )
    assert "Rad 1:" in refused.get_data(as_text=True)
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "body": body})
    assert response.status_code == 302
    preview = client.get(f"{url}/preview").get_data(as_text=True)
    assert "Tid: 12 mars 2027" in preview and "Inbjudan: Övningsmöte i Teams" in preview
    _invite_alpha(app, session, network, client)
    mails = session.scalars(select(Message)).all()
    assert len(mails) == 2 and all("Tid: 10 mars 2014 kl. 09.00" in m.text_body for m in mails)


def test_saving_the_shipped_text_stores_nothing_and_an_unchanged_save_records_nothing(
    app: Flask, session: Session, network: Network
) -> None:
    client = _lead(app)
    shipped = mail_template("event-invitation", "sv")
    as_shipped = {"subject": shipped.subject, "reason": shipped.reason or "", "body": shipped.body}
    assert _post(client, **as_shipped).status_code == 302
    assert session.scalars(select(MailText)).all() == []
    _post(client)
    _post(client)  # the same again
    _post(client, **as_shipped)  # back to the shipped words: nothing of its own is kept
    session.expire_all()
    assert session.scalars(select(MailText)).all() == []
    saved = session.scalars(select(AuditEvent).where(AuditEvent.action == "mail_text.saved"))
    assert [e.details["fields"] for e in saved] == [["subject", "reason", "body"]] * 2


def test_the_next_campaign_starts_with_this_ones_own_texts(
    app: Flask, session: Session, network: Network
) -> None:
    client = _lead(app)
    _post(client)
    path = staff("/network/next")
    data = {"name": "Nästa", "slug": "next", "starts_on": "2015-04-01", "ends_on": "2016-03-31"}
    response = client.post(path, data={**data, "csrf_token": csrf_token(client, path)})
    assert response.status_code == 302, response.get_data(as_text=True)
    session.expire_all()
    rows = session.scalars(select(MailText).order_by(MailText.id)).all()
    assert [(r.name, r.subject) for r in rows] == [
        ("event-invitation", "Välkommen: {{ title }}")
    ] * 2
    assert len({r.campaign_id for r in rows}) == 2
    page = client.get(staff("/mail-texts", "next")).get_data(as_text=True)
    assert "Egen text" in page
