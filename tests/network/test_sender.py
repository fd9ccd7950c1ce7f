"""Each member as sender, through the web: the settings form, its bad input, and the logos."""

from __future__ import annotations

import io

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.audit import AuditEvent
from campaign.enrolment.mail import addressee_of
from campaign.network.models import MemberSender
from campaign.network.senders import MAX_LOGO_BYTES
from campaign.outbox.mail import queue_participant_mail
from campaign.outbox.models import MessageKind
from campaign.outbox.texts import Letter
from tests.conftest import START, Network, csrf_token, sign_in
from tests.enrolment_helpers import group
from tests.outbox_helpers import participant
from tests.sender_helpers import give_sender, image_bytes, membership, png_claiming
from tests.urls import staff

PAGE = staff("/organisations/alpha/sender")


def _post(client: FlaskClient, logo: tuple[bytes, str] | None = None, **fields: str):  # type: ignore[no-untyped-def]
    data: dict[str, object] = {"csrf_token": csrf_token(client, PAGE), **fields}
    if logo is not None:
        data["logo"] = (io.BytesIO(logo[0]), logo[1])
    return client.post(PAGE, data=data, content_type="multipart/form-data")


def _sender(session: Session, network: Network) -> MemberSender | None:
    session.expire_all()
    return membership(session, network).sender


def test_a_representative_sets_name_reply_to_and_logo(
    client: FlaskClient, network: Network, session: Session
) -> None:
    sign_in(client, "rep@alpha.se")
    page = client.get(PAGE).get_data(as_text=True)
    assert "Hur Alpha kommun skickar e-post" in page and 'enctype="multipart/form-data"' in page
    assert "Kampanj &lt;kampanj@example.org&gt;" in page  # the configured sender, by default
    response = _post(
        client,
        (image_bytes("PNG"), "logo.png"),
        display_name="  Alpha kommun – Resfria möten ",
        reply_to="Kontakt@Alpha.se",
    )
    assert response.status_code == 302
    sender = _sender(session, network)
    assert sender is not None
    assert sender.display_name == "Alpha kommun – Resfria möten"
    assert sender.reply_to == "kontakt@alpha.se"
    assert sender.logo_type == "image/png" and sender.logo == image_bytes("PNG")
    page = client.get(PAGE).get_data(as_text=True)
    assert "Alpha kommun – Resfria möten &lt;kampanj@example.org&gt;" in page
    assert "kontakt@alpha.se" in page
    assert (
        f'src="/logos/{membership(session, network).id}/' in page and 'alt="Alpha kommun"' in page
    )
    audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "member.sender_changed"))
    assert audit.one().details == {"fields": ["display_name", "reply_to", "logo"]}


def test_a_jpeg_replaces_the_logo_and_the_box_removes_it(
    client: FlaskClient, network: Network, session: Session
) -> None:
    sign_in(client, "lead@alpha.se")  # the lead administrator may change any member's
    _post(client, (image_bytes("JPEG"), "logo.jpg"), display_name="Alpha")
    sender = _sender(session, network)
    assert sender is not None and sender.logo_type == "image/jpeg"
    _post(client, display_name="Alpha")  # no file: the logo stays
    sender = _sender(session, network)
    assert sender is not None and sender.logo_type == "image/jpeg"
    _post(client, display_name="Alpha", remove_logo="y")
    sender = _sender(session, network)
    assert sender is not None and sender.logo is None and sender.logo_digest is None


def test_bad_input_is_explained_and_changes_nothing(
    client: FlaskClient, network: Network, session: Session
) -> None:
    give_sender(session, network, logo=image_bytes())
    session.commit()
    before = _sender(session, network)
    assert before is not None
    kept = (before.display_name, before.reply_to, before.logo_digest, before.updated_at)
    sign_in(client, "rep@alpha.se")
    cases = [
        ({"logo": (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "logo.png")}, "ingen PNG"),
        ({"logo": (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "broken.png")}, "ingen PNG"),
        ({"logo": (b"\xff\xd8\xff" + b"\0" * (MAX_LOGO_BYTES + 10), "big.jpg")}, "200 kB"),
        ({"logo": (png_claiming(30000, 30000), "bomb.png")}, "ingen PNG"),  # 900 Mpixel
        ({"logo": (png_claiming(3000, 40), "wide.png")}, "ingen PNG"),
        ({"display_name": "Chefen <boss@elsewhere.example>"}, "bara ett namn"),
        ({"display_name": "boss@elsewhere.example"}, "bara ett namn"),
        ({"reply_to": "not an address"}, "Inte en e-postadress"),
        ({"display_name": "x" * 101}, "Fältet"),
    ]
    for fields, said in cases:
        logo = fields.pop("logo", None)
        texts = {"display_name": "Ny", "reply_to": "ny@alpha.se", **fields}
        response = _post(client, logo, **texts)  # type: ignore[arg-type]
        page = response.get_data(as_text=True)
        assert response.status_code == 200 and said in page, (fields, logo and logo[1])
        assert "Inget sparades" in page
        after = _sender(session, network)
        assert after is not None
        assert (after.display_name, after.reply_to, after.logo_digest, after.updated_at) == kept


def test_without_csrf_nothing_is_saved(
    client: FlaskClient, network: Network, session: Session
) -> None:
    sign_in(client, "rep@alpha.se")
    response = client.post(PAGE, data={"display_name": "Kapad"})
    assert response.status_code in (200, 400)
    assert _sender(session, network) is None


def test_a_representative_cannot_set_another_members_sender(
    client: FlaskClient, network: Network, session: Session
) -> None:
    sign_in(client, "rep@beta.se")
    assert client.get(PAGE).status_code == 404
    token = csrf_token(client, staff("/organisations/beta/sender"))
    response = client.post(PAGE, data={"csrf_token": token, "display_name": "Kapad"})
    assert response.status_code == 404
    assert _sender(session, network) is None


def test_the_logo_is_served_by_id_and_digest_and_cached(
    client: FlaskClient, network: Network, session: Session
) -> None:
    row = give_sender(session, network, logo=image_bytes("JPEG"))
    session.commit()
    assert row.sender is not None and row.sender.logo_digest is not None
    address = f"/logos/{row.id}/{row.sender.logo_digest[:16]}.jpg"
    response = client.get(address)
    assert response.status_code == 200 and response.data == image_bytes("JPEG")
    assert response.mimetype == "image/jpeg"
    assert "immutable" in response.headers["Cache-Control"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    old = client.get(f"/logos/{row.id}/0123456789abcdef.jpg")  # an earlier logo's address
    assert old.status_code == 200 and "immutable" not in old.headers["Cache-Control"]
    assert client.get(f"/logos/{row.id}/{row.sender.logo_digest[:16]}.png").status_code == 404
    assert client.get(f"/logos/{row.id + 999}/{row.sender.logo_digest[:16]}.jpg").status_code == 404


def test_the_previews_show_the_members_sender(
    app: Flask, client: FlaskClient, network: Network, session: Session
) -> None:
    row = give_sender(session, network, logo=image_bytes())
    with app.app_context():
        anna = participant(session, network, "anna@alpha.se", name="Anna")
        anna.pilot_group_id = group(session, network).id
        letter = Letter("Hej", "Hej {{ name }}!", "test")
        message_id = queue_participant_mail(
            session, addressee_of(session, anna), letter, {"name": "Anna"},
            kind=MessageKind.SEQUENCE_STEP, source_key="p:x", due_at=START, now=START,
        )  # fmt: skip
    session.commit()
    assert row.sender is not None and row.sender.logo_digest is not None
    logo = f'<img src="http://127.0.0.1:5000/logos/{row.id}/{row.sender.logo_digest[:16]}.png"'
    sign_in(client, "lead@alpha.se")
    shown = client.get(staff(f"/outbox/{message_id}")).get_data(as_text=True)
    assert "Alpha kommun – Resfria möten &lt;kampanj@example.org&gt;" in shown
    assert "kontakt@alpha.se" in shown
    frame = client.get(staff(f"/outbox/{message_id}/html"))
    assert logo in frame.get_data(as_text=True)
    assert "img-src data: 'self' http://127.0.0.1:5000;" in frame.headers["Content-Security-Policy"]
    step = staff("/sequences/pilot-group/sv/01")
    sample = client.get(step).get_data(as_text=True)
    assert "Kampanj &lt;kampanj@example.org&gt;" in sample  # sample data: the campaign's sender
    as_anna = client.get(f"{step}?participant=anna@alpha.se").get_data(as_text=True)
    assert "Alpha kommun – Resfria möten &lt;kampanj@example.org&gt;" in as_anna
    frame = client.get(f"{step}/html?participant=anna@alpha.se").get_data(as_text=True)
    assert logo in frame and 'alt="Alpha kommun"' in frame
