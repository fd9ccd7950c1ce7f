"""Numbers, dates and files the Swedish way (and the English one), through Babel: what people
type is read as their language writes it (0,133; 238 407) and shown again the same way, times
read "3 december 2026 kl. 08.58" in the campaign's zone, and CSV downloads open in Excel of
their language with labels, not codes."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from campaign.accounts.models import User
from campaign.i18n import parse_number
from campaign.network.models import Campaign, Membership
from campaign.outbox.models import SuppressionReason
from campaign.outbox.queue import suppress
from tests.conftest import Network, csrf_token, sign_in
from tests.outbox_helpers import participant
from tests.urls import staff

SETTINGS = {
    "name": "Resfria möten 2014",
    "starts_on": "2014-01-01",
    "ends_on": "2015-06-30",
    "timezone": "Europe/Stockholm",
    "language": "sv",
    "cost_per_km": "2",
    "retention_months": "12",
}
MOMENT = datetime(2026, 12, 3, 7, 58, 48, 628069, tzinfo=UTC)  # 08.58 in Stockholm


def _speaking(session: Session, user: User, language: str) -> None:
    session.get(User, user.id).language = language  # type: ignore[union-attr]  # it exists
    session.commit()


def _post(client: FlaskClient, path: str, **data: str) -> int:
    return client.post(path, data={"csrf_token": csrf_token(client, path), **data}).status_code


@pytest.mark.parametrize(
    ("text", "language", "number"),
    [
        ("0,133", "sv", "0.133"),
        ("0.133", "sv", "0.133"),
        ("238 407", "sv", "238407"),
        ("238\u00a0407", "sv", "238407"),
        ("238\u202f407,5", "sv", "238407.5"),
        ("\u22123", "sv", "-3"),
        ("0.133", "en", "0.133"),
        ("238,407", "en", "238407"),
        ("238 407", "en", "238407"),
    ],
)
def test_numbers_are_read_as_the_language_writes_them(
    text: str, language: str, number: str
) -> None:
    assert str(parse_number(text, language)) == number


@pytest.mark.parametrize(
    ("text", "language"),
    [("tolv", "sv"), ("1e5", "sv"), ("NaN", "en"), ("0,133", "en"), ("", "sv")],
)
def test_what_is_not_a_number_is_refused(text: str, language: str) -> None:
    with pytest.raises(ValueError):
        parse_number(text, language)


@pytest.mark.parametrize(
    ("language", "co2", "reached", "shown_co2", "shown_reached"),
    [
        ("sv", "0,133", "238 407", "0,133", "238\u00a0407"),
        ("sv", "0.133", "238407", "0,133", "238\u00a0407"),
        ("en", "0.133", "238,407", "0.133", "238,407"),
        ("en", "0.133", "238 407", "0.133", "238,407"),
    ],
)
def test_a_form_reads_numbers_the_pages_way_and_shows_them_again(
    client: FlaskClient,
    network: Network,
    session: Session,
    language: str,
    co2: str,
    reached: str,
    shown_co2: str,
    shown_reached: str,
) -> None:
    _speaking(session, network.lead, language)
    sign_in(client, "lead@alpha.se")
    settings, facts = staff("/network/settings"), staff("/organisations/alpha/facts")
    assert _post(client, settings, **SETTINGS, co2_kg_per_km=co2) == 302
    assert _post(client, facts, status="signed", people_reached=reached) == 302
    session.expire_all()
    campaign = session.get(Campaign, network.campaign.id)
    assert campaign is not None and campaign.co2_kg_per_km == 0.133
    assert session.get(Membership, _membership_id(network)).people_reached == 238_407  # type: ignore[union-attr]  # it exists
    assert f'value="{shown_co2}"' in client.get(settings).get_data(as_text=True)
    assert f'value="{shown_reached}"' in client.get(facts).get_data(as_text=True)


def _membership_id(network: Network) -> int:
    (membership,) = [
        m for m in network.campaign.memberships if m.organisation_id == network.alpha.id
    ]
    return membership.id


def test_a_number_in_the_wrong_form_is_explained_in_the_pages_language(
    client: FlaskClient, network: Network
) -> None:
    sign_in(client, "lead@alpha.se")
    settings = staff("/network/settings")
    token = csrf_token(client, settings)
    page = client.post(settings, data={**SETTINGS, "csrf_token": token, "co2_kg_per_km": "tolv"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert text.count("Inte ett tal: skriv till exempel 0,133.") == 1
    assert "Numret måste vara" not in text  # said once, not also as a range


def test_pages_show_grouped_thousands_and_decimal_commas(
    client: FlaskClient, network: Network, session: Session
) -> None:
    sign_in(client, "lead@alpha.se")
    settings = staff("/network/settings")
    typed = {**SETTINGS, "co2_kg_per_km": "0,133", "cost_per_km": "2,5"}
    assert _post(client, settings, **typed) == 302
    facts = staff("/organisations/alpha/facts")
    assert _post(client, facts, status="signed", people_reached="238407") == 302
    page = client.get(staff("/organisations/alpha")).get_data(as_text=True)
    assert re.search("238[\u00a0\u202f]407", page), "thousands not grouped"
    report = client.get(staff("/report/final.md")).get_data(as_text=True)
    assert "0,133 kg" in report and "2,5 kronor" in report


def test_a_time_reads_as_people_write_it_in_the_campaigns_zone(
    app: Flask, client: FlaskClient, network: Network, session: Session
) -> None:
    with app.app_context():
        suppress(session, "gone@alpha.se", SuppressionReason.HARD_BOUNCE, "550", MOMENT)
        session.commit()
    sign_in(client, "lead@alpha.se")
    page = client.get(staff("/outbox/suppressions")).get_data(as_text=True)
    assert "3 december 2026 kl. 08.58" in page and "T08:58" not in page.split("<main")[1]
    _speaking(session, network.lead, "en")
    page = client.get(staff("/outbox/suppressions")).get_data(as_text=True)
    assert "December 3, 2026 at 08:58" in page


def _rows(body: bytes, delimiter: str) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte-order mark, as Excel wants
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=delimiter))


@pytest.mark.parametrize(
    ("language", "delimiter", "status"), [("sv", ";", "Aktiv"), ("en", ",", "Active")]
)
def test_the_participants_download_opens_in_excel_with_labels_and_local_times(
    client: FlaskClient,
    network: Network,
    session: Session,
    language: str,
    delimiter: str,
    status: str,
) -> None:
    person = participant(session, network, "asa@alpha.se")
    person.created_at = MOMENT
    session.commit()
    _speaking(session, network.rep_alpha, language)
    sign_in(client, "rep@alpha.se")
    answer = client.get(staff("/organisations/alpha/participants/export.csv"))
    assert answer.headers["Content-Type"] == "text/csv; charset=utf-8"
    header, row = _rows(answer.data, delimiter)
    assert len(header) == len(row) == 9
    assert row[3:5] == ["Svenska", status]  # labels, not "sv" and "active"
    assert row[7] == "2026-12-03 08:58:48"  # the campaign's zone, to the second


def test_the_report_figures_are_labelled_in_the_csv(client: FlaskClient, network: Network) -> None:
    sign_in(client, "lead@alpha.se")
    swedish = _rows(client.get(staff("/report/final.csv?language=sv")).data, ";")
    alpha = next(row for row in swedish[1:] if row[0] == network.alpha.short_name)
    assert alpha[1:3] in (["Kommun", "Ja"], ["Kommun", "Nej"])
    english = _rows(client.get(staff("/report/final.csv?language=en")).data, ",")
    assert english[0][0] == "Member" and len(english) == len(swedish)


def test_every_download_names_its_charset_once(client: FlaskClient, network: Network) -> None:
    sign_in(client, "lead@alpha.se")
    for path in (
        "/organisations/alpha/participants/export.csv",
        "/organisations/alpha/participants/export.xlsx",
        "/report/final.csv",
        "/report/final.html",
        "/report/final.md",
        "/report/final.xlsx",
        "/report",
    ):
        answer = client.get(staff(path))
        assert answer.status_code == 200, path
        assert answer.headers["Content-Type"].count("charset") <= 1, path


def test_the_reports_moment_is_a_date_and_time_field(client: FlaskClient, network: Network) -> None:
    sign_in(client, "lead@alpha.se")
    page = client.get(staff("/report")).get_data(as_text=True)
    assert 'type="datetime-local"' in page
    chosen = client.get(staff("/report"), query_string={"as_of": "2014-03-01T12:00"})
    assert chosen.status_code == 200
    assert '<time datetime="2014-03-01T12:00:00+01:00">1 mars 2014 kl. 12.00</time>' in (
        chosen.get_data(as_text=True)
    )
    wrong = client.get(staff("/report"), query_string={"as_of": "imorgon"})
    assert wrong.status_code == 400
    assert "ange ett datum och en tid som inte ligger i framtiden" in wrong.get_data(as_text=True)


def test_counts_in_sentences_group_their_thousands(app: Flask) -> None:
    template = '{{ ngettext("%(num)s entry.", "%(num)s entries.", n, num=n|number) }}'
    with app.test_request_context():
        assert app.jinja_env.from_string(template).render(n=238_407) == "238\u202f407 poster."
