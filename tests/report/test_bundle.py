"""The final bundle (issue 16, item 4), downloaded as the lead administrator downloads it after
`campaign demo --pilot`, opened with zipfile and read back file by file: the report as PDF and
HTML, figures, members' facts and answers as Swedish CSV and as XLSX, the audit log, the
sequences and questionnaires as used, and a README whose checksums hold. The command line
writes the same files."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.audit import AuditEvent
from campaign.drip.files import SEQUENCES_DIR
from campaign.surveys.models import Questionnaire
from tests.conftest import Network, Runner, sign_in
from tests.demo.test_demo import _load
from tests.report.test_document import _pilot, _thin
from tests.urls import staff

NOW = datetime(2015, 4, 1, 10, 0, tzinfo=UTC)  # after the demo pilot's follow-up
SLUG = "resfria-moten"
FOLDER = f"{SLUG}-slutrapport-2015-03-31/"
TABLES = ("siffror", "medlemmar", "enkater/svar-baseline", "enkater/svar-follow-up")


@pytest.fixture
def lead(app: Flask, runner: Runner, client: FlaskClient, session: Session) -> FlaskClient:
    """The lead administrator of the demo pilot, signed in on 1 April 2015; Ale has only three
    follow-up answers, too few to count."""
    _pilot(runner)
    _thin(session, "ale", 3)
    app.extensions["campaign.clock"].set(NOW)
    email, password = _load(runner)["lead_admin"]
    sign_in(client, email, password)
    return client


def _download(client: FlaskClient) -> zipfile.ZipFile:
    answer = client.get(staff("/report/bundle.zip", SLUG))
    assert answer.status_code == 200
    assert answer.mimetype == "application/zip"
    assert f"filename={FOLDER.rstrip('/')}.zip" in answer.headers["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(answer.get_data()))


def _csv(bundle: zipfile.ZipFile, name: str) -> list[list[str]]:
    data = bundle.read(FOLDER + name)
    assert data.startswith("\ufeff".encode()), f"{name} has no byte-order mark"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def _xlsx(bundle: zipfile.ZipFile, name: str) -> list[list[object]]:
    book = load_workbook(io.BytesIO(bundle.read(FOLDER + name)), read_only=True)
    (sheet,) = book.worksheets
    return [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]


def _names(bundle: zipfile.ZipFile) -> set[str]:
    return {name.removeprefix(FOLDER) for name in bundle.namelist()}


def _expected_names() -> set[str]:
    steps = {
        f"utskick/{p.relative_to(SEQUENCES_DIR).as_posix()}"
        for p in (SEQUENCES_DIR / "pilot-group").glob("*/*.md")
    }
    tables = {f"{name}.{ext}" for name in TABLES for ext in ("csv", "xlsx")}
    return {
        "README.txt", "SHA256SUMS", "slutrapport.pdf", "slutrapport.html", "granskningslogg.csv",
        "enkater/enkater.csv", "enkater/baseline.yaml", "enkater/follow-up.yaml", *tables, *steps,
    }  # fmt: skip


def test_the_bundle_holds_every_file_to_archive_and_each_opens(
    lead: FlaskClient, session: Session
) -> None:
    bundle = _download(lead)
    assert bundle.testzip() is None
    assert _names(bundle) == _expected_names()
    assert bundle.read(FOLDER + "slutrapport.pdf").startswith(b"%PDF-")
    html = bundle.read(FOLDER + "slutrapport.html").decode()
    assert "<html" in html and "Resfria möten" in html and "17 kommuner" in html
    assert (
        bundle.read(FOLDER + "utskick/pilot-group/sv/01-valkommen.md")
        == (SEQUENCES_DIR / "pilot-group/sv/01-valkommen.md").read_bytes()
    )
    for name in TABLES:  # the workbook holds what the CSV holds
        rows = _csv(bundle, f"{name}.csv")
        assert rows[0] and (len(rows) > 1 or name.endswith("baseline")), name  # none answered it
        assert rows == [[_as_csv(v) for v in row] for row in _xlsx(bundle, f"{name}.xlsx")], name


def _as_csv(value: object) -> str:
    """A workbook's cell as the Swedish CSV writes it: decimal comma, True/False."""
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    return str(value)


def test_the_figures_are_written_the_swedish_way(lead: FlaskClient) -> None:
    rows = _csv(_download(lead), "siffror.csv")
    header, members = rows[0], rows[1:]
    assert header[0] == "Medlem" and len(members) == 20
    co2 = [row[header.index("Kg koldioxid som undveks")] for row in members]
    assert any("," in value for value in co2), co2  # 789,5 kg, not 789.5
    assert not any(re.fullmatch(r"\d+\.\d+", value) for row in members for value in row)
    ale = next(row for row in members if row[0] == "Ale")
    assert ale[header.index("Undvikna km")] == ""  # three answers: none of them count


def test_the_answers_are_those_the_results_page_exports(
    lead: FlaskClient, session: Session
) -> None:
    bundle = _download(lead)
    follow_up = session.scalars(
        select(Questionnaire).where(Questionnaire.slug == "follow-up")
    ).one()
    page = lead.get(staff(f"/questionnaires/{follow_up.id}/export.csv", SLUG))
    assert page.status_code == 200
    shown = list(
        csv.reader(io.StringIO(page.get_data(as_text=True).lstrip("\ufeff")), delimiter=";")
    )
    assert _csv(bundle, "enkater/svar-follow-up.csv") == shown
    assert not any(row[2] == "Ale" for row in shown[1:])  # too few to count


def test_the_readme_names_every_file_with_a_sentence_and_its_checksum(
    lead: FlaskClient,
) -> None:
    bundle = _download(lead)
    readme = bundle.read(FOLDER + "README.txt").decode()
    assert readme.startswith("Resfria möten") and "Leds av Kungälvs kommun" in readme
    sums = bundle.read(FOLDER + "SHA256SUMS").decode().splitlines()
    assert len(sums) == len(bundle.namelist()) - 1  # every file but SHA256SUMS itself
    for line in sums:
        digest, name = line.split("  ")
        assert hashlib.sha256(bundle.read(FOLDER + name)).hexdigest() == digest, name
        if name != "README.txt":
            entry = readme.split(f"\n{name}\n", 1)[1].split("\n\n", 1)[0]
            assert digest in entry and "byte" in entry, name
            sentence = entry.splitlines()[0].strip()
            assert sentence.endswith(".") and not re.search(r"\b(The|the|of|as)\b", sentence)


def test_a_download_is_audited(lead: FlaskClient, session: Session) -> None:
    _download(lead)
    (event,) = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "campaign.bundle_exported")
    ).all()
    assert event.actor_label == "lead@demo.example"
    assert event.target == FOLDER.rstrip("/") + ".zip"


def test_the_report_page_and_the_dashboard_offer_the_bundle(lead: FlaskClient) -> None:
    for page in ("/report", "/dashboard"):
        shown = lead.get(staff(page, SLUG)).get_data(as_text=True)
        assert 'href="/report/bundle.zip"' in shown.replace(staff("", SLUG), ""), page


def test_a_representative_gets_no_bundle(app: Flask, network: Network) -> None:
    client = app.test_client()
    sign_in(client, network.rep_alpha.email)
    assert client.get(staff("/report/bundle.zip")).status_code in (403, 404)


def test_the_command_writes_the_same_files(
    lead: FlaskClient, runner: Runner, tmp_path: Path, session: Session
) -> None:
    out = tmp_path / "arkiv.zip"
    result = runner.invoke("export", "--campaign", SLUG, "-o", str(out))
    assert result.exit_code == 0, result.output
    assert f"Wrote {out}" in result.output
    with zipfile.ZipFile(out) as written:
        assert _names(written) == _names(_download(lead))
    assert [p.name for p in tmp_path.iterdir()] == ["arkiv.zip"]  # no part file left behind


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (("--campaign", "nope"), "There is no campaign 'nope'"),
        (("--campaign", SLUG, "-o", "/no/such/folder/b.zip"), "There is no folder"),
    ],
)
def test_the_command_says_what_is_wrong(
    runner: Runner, args: tuple[str, ...], sentence: str, tmp_path: Path
) -> None:
    _load(runner)
    if "-o" not in args:
        args = (*args, "-o", str(tmp_path / "b.zip"))
    result = runner.invoke("export", *args)
    assert result.exit_code != 0 and sentence in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "b.zip").exists()


def test_the_audit_log_is_the_campaigns_own(lead: FlaskClient, session: Session) -> None:
    """Another campaign's audit events stay out of this campaign's bundle."""
    from campaign.audit import record
    from campaign.network.models import Campaign

    demo = session.scalars(select(Campaign).where(Campaign.slug == SLUG)).one()
    other = Campaign(
        slug="annan", name="Annan", lead_organisation_id=demo.lead_organisation_id,
        starts_on=demo.starts_on, ends_on=demo.ends_on, created_at=NOW,
    )  # fmt: skip
    session.add(other)
    session.flush()
    record(session, None, "member.added", now=NOW, campaign_id=demo.id, target="OURS")
    record(session, None, "member.added", now=NOW, campaign_id=other.id, target="THEIRS")
    session.commit()
    targets = {row[4] for row in _csv(_download(lead), "granskningslogg.csv")[1:]}
    assert "OURS" in targets and "THEIRS" not in targets
