"""A campaign's sequence out as a ZIP of its Markdown files and back in as one version; a ZIP that
is not a sequence's is refused with a sentence and changes nothing."""

from __future__ import annotations

import io
import zipfile

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.audit import AuditEvent
from campaign.drip import stored
from campaign.drip.bundle import MAX_BYTES
from campaign.drip.models import SequenceVersion
from tests.conftest import Network, csrf_token, sign_in
from tests.urls import staff

NAME = "pilot-group"
IMPORT = staff(f"/sequences/{NAME}/import")


@pytest.fixture
def lead(client: FlaskClient, network: Network) -> FlaskClient:
    sign_in(client, network.lead.email)
    return client


def _zip(entries: dict[str, bytes | str], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _upload(client: FlaskClient, data: bytes, filename: str = "serie.zip"):  # type: ignore[no-untyped-def]
    form = {"csrf_token": csrf_token(client, IMPORT), "archive": (io.BytesIO(data), filename)}
    return client.post(IMPORT, data=form, content_type="multipart/form-data")


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(SequenceVersion)) or 0


def test_export_and_import_round_trip(
    lead: FlaskClient, session: Session, network: Network
) -> None:
    exported = lead.get(staff(f"/sequences/{NAME}/export"))
    assert exported.mimetype == "application/zip"
    assert 'filename="pilot-group.zip"' in exported.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(exported.data))
    names = archive.namelist()
    assert "pilot-group/sv/01-valkommen.md" in names and len(names) == 16
    same = _upload(lead, exported.data)
    assert same.status_code == 302 and _count(session) == 0  # nothing changed: no version
    files = {n: archive.read(n).decode() for n in names}
    welcome = "pilot-group/en/01-valkommen.md"
    files[welcome] = files[welcome].replace("Talk to you soon!", "Talk to you soon, again!")
    response = _upload(lead, _zip(files))
    assert response.status_code == 302
    page = lead.get(response.headers["Location"]).get_data(as_text=True)
    assert "Sparad som version 2." in page and "Importerade en ZIP-fil" in page
    current = stored.current(session, network.campaign.id, NAME)
    assert "Talk to you soon, again!" in current.files["en/01-valkommen.md"]
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["login", "sequence.imported"]


def test_import_without_the_top_folder_and_with_what_a_mac_adds(
    lead: FlaskClient, session: Session, network: Network
) -> None:
    files = stored.current(session, network.campaign.id, NAME).files
    entries: dict[str, bytes | str] = {k: v.replace("\n", "\r\n") for k, v in files.items()}
    entries["__MACOSX/sv/._01-valkommen.md"] = b"\x00\x05"
    entries["sv/.DS_Store"] = b"\x00"
    entries["en/08-nasta-prova-pa-mote.md"] = (
        entries["en/08-nasta-prova-pa-mote.md"] + "\r\nP.S.\r\n"
    )
    assert _upload(lead, _zip(entries)).status_code == 302
    assert stored.current(session, network.campaign.id, NAME).number == 2


def test_problems_in_an_import_are_shown_with_file_and_line(
    lead: FlaskClient, session: Session, network: Network
) -> None:
    files = stored.current(session, network.campaign.id, NAME).files
    files["sv/03-bra-ljud.md"] = files["sv/03-bra-ljud.md"].replace('"09:00"', '"22:00"', 1)
    del files["en/05-visa-tiden-du-sparar.md"]
    page = _upload(lead, _zip(files)).get_data(as_text=True)
    assert "problem: inget sparades." in page
    assert "<code>sv/03-bra-ljud.md</code>, rad 3: 22:00 är under tysta timmar" in page
    assert "sv/05-visa-tiden-du-sparar.md" in page
    assert _count(session) == 0


@pytest.mark.parametrize(
    ("entries", "said"),
    [
        ({"../sv/01-x.md": "x"}, "en fil utanför sin mapp"),
        ({"/etc/sv/01-x.md": "x"}, "en fil utanför sin mapp"),
        ({"sv\\01-x.md": "x"}, "en fil utanför sin mapp"),
        ({"C:/sv/01-x.md": "x"}, "en fil utanför sin mapp"),
        ({"sv/01-x.txt": "x"}, "Bara .md-filer under sv/ och en/"),
        ({"de/01-x.md": "x"}, "Bara .md-filer under sv/ och en/"),
        ({"pilot-group/sv/extra/01-x.md": "x"}, "Bara .md-filer under sv/ och en/"),
        ({"sv/01-x.md": b"\xff\xfe\x00bad"}, "är inte text i UTF-8"),
        ({}, "innehåller inga stegfiler"),
        ({f"sv/{n:02d}-x.md": "x" for n in range(300)}, "fler än 250 filer"),
        ({"sv/01-x.md": "a" * (MAX_BYTES + 10)}, "större än 1 MB uppackade"),
    ],
)
def test_a_bad_zip_is_refused_with_a_sentence(
    lead: FlaskClient, session: Session, entries: dict[str, bytes | str], said: str
) -> None:
    response = _upload(lead, _zip(entries))
    assert response.status_code == 200
    assert said in response.get_data(as_text=True)
    assert _count(session) == 0


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b"not a zip at all", "Filen är ingen ZIP-fil."),
        (b"PK\x03\x04" + b"\x00" * (MAX_BYTES + 1), "Filen är större än 1 MB."),
    ],
)
def test_what_is_not_a_small_zip_is_refused(
    lead: FlaskClient, session: Session, data: bytes, said: str
) -> None:
    page = _upload(lead, data).get_data(as_text=True)
    assert said in page and _count(session) == 0


def test_import_without_a_file_asks_for_one(lead: FlaskClient) -> None:
    response = lead.post(IMPORT, data={"csrf_token": csrf_token(lead, IMPORT)})
    assert response.status_code == 200 and "Välj en ZIP-fil." in response.get_data(as_text=True)
