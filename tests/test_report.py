"""The joint final report from the demo network with an invented pilot: the seed's overview
table, figures recounted from the raw rows, every format, reproducible, and the PDF read back."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.enrolment.models import Participant, ParticipantStatus
from campaign.events.models import Invitation
from campaign.network.members import current_campaign
from campaign.surveys.models import Response
from tests.conftest import Runner, sign_in
from tests.test_demo import SEED_TABLE, _load

AS_OF = "2015-03-31T12:00:00+02:00"


def _pilot(runner: Runner) -> None:
    result = runner.invoke("demo", "--pilot")
    assert result.exit_code == 0, result.output
    assert "pilot users" in result.output


def _report(runner: Runner, tmp_path: Path, fmt: str, *extra: str) -> bytes:
    out = tmp_path / f"report.{fmt}"
    result = runner.invoke("report", "--format", fmt, "-o", str(out), "--as-of", AS_OF, *extra)
    assert result.exit_code == 0, result.output
    return out.read_bytes()


def _number(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f")


def test_the_report_of_the_demo_pilot(runner: Runner, session: Session, tmp_path: Path) -> None:
    _pilot(runner)
    text = _report(runner, tmp_path, "md").decode()

    # The overview table lists all 20 members with software and comment as in seed 004.
    rows = re.findall(r"^\| (?!\*\*)([^|]+?) \| ([^|]*?) \| ([^|]*?) \|$", text, re.MULTILINE)
    assert rows == SEED_TABLE
    assert "| **Kommuner\\*** | | |" in text and "| **Högskolor** | | |" in text
    assert "17 kommuner, 2 högskolor och 1 sjukhus" in text

    # The figures, recounted here from every raw row.
    people = session.scalars(select(Participant)).all()
    trained = {i.participant_id for i in session.scalars(select(Invitation)) if i.has_attended}
    answers = [r.answers for r in session.scalars(select(Response))]
    km = sum(a["km_avoided"] for a in answers)
    assert f"{_number(len(trained))} personer har deltagit i utbildningar" in text
    assert f"{_number(len(people))} pilotanvändare deltog" in text
    assert f"{_number(len(answers))} pilotanvändare svarade på uppföljningen" in text
    assert f"slapp {_number(km)} km resor" in text
    assert f"ungefär {_number(round(km * 0.133))} kg koldioxid" in text
    # One section per member, with its own facts.
    assert text.count("\n### ") == 20
    ale = text.split("### Ale kommun")[1].split("\n### ")[0]
    per_org = Counter(p.organisation.short_name for p in people)
    assert f"{per_org['Ale']} pilotanvändare" in ale and "Lync tillgängligt" in ale


def test_the_same_moment_gives_the_same_report(
    runner: Runner, session: Session, tmp_path: Path
) -> None:
    _pilot(runner)
    first = _report(runner, tmp_path, "md")
    campaign = current_campaign(session)
    ale = next(m for m in campaign.memberships if m.organisation.slug == "ale")
    session.add(
        Participant(
            campaign_id=campaign.id,
            organisation_id=ale.organisation_id,
            email="later@ale.example.org",
            status=ParticipantStatus.ACTIVE,
        )  # fmt: skip
    )
    session.commit()  # enrolled now, long after the report's moment
    assert _report(runner, tmp_path, "md") == first
    english = _report(runner, tmp_path, "md", "--language", "en").decode()
    assert "## What have we done?" in english and "17 municipalities" in english


def test_figures_as_csv_and_xlsx_hide_small_groups(
    runner: Runner, session: Session, tmp_path: Path
) -> None:
    _pilot(runner)
    rows = list(
        csv.reader(io.StringIO(_report(runner, tmp_path, "csv").decode("utf-8-sig")), delimiter=";")
    )
    assert rows[0][0] == "Medlem" and len(rows) == 21
    by_member = {r[0]: r for r in rows[1:]}
    assert [r[0] for r in rows[1:]][:3] == ["Ale", "Borås", "Dals-Ed"]
    respondents = Counter(r.organisation_id for r in session.scalars(select(Response)))
    for membership in current_campaign(session).memberships:
        row = by_member[membership.organisation.short_name]
        assert int(row[11]) == respondents[membership.organisation_id]
        assert (row[13] == "") == (respondents[membership.organisation_id] < 5)
    assert _report(runner, tmp_path, "xlsx").startswith(b"PK")


def _weasyprint_loads() -> bool:
    try:
        import weasyprint  # noqa: F401  (needs the Pango library of the system)
    except OSError:
        return False
    return True


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs pdftotext (poppler-utils)")
@pytest.mark.skipif(not _weasyprint_loads(), reason="needs Pango for weasyprint (libpango)")
def test_the_pdf_reads_back_with_its_headings(runner: Runner, tmp_path: Path) -> None:
    _pilot(runner)
    pdf = _report(runner, tmp_path, "pdf")
    assert pdf.startswith(b"%PDF")
    (tmp_path / "r.pdf").write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "r.pdf"), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    for heading in ("Överenskommelsen", "Resultat", "Översikt", "Vad har vi gjort?"):
        assert heading in text
    assert "Högskolan i Skövde" in text and "Deltagare per medlem" in text  # a chart's title


def test_lead_admin_downloads_the_report_in_the_web_ui(runner: Runner, client: FlaskClient) -> None:
    _pilot(runner)
    credentials = _load(runner)  # the demo's accounts, with fresh passwords
    email, password = credentials["lead_admin"]
    sign_in(client, email, password)
    page = client.get("/report").get_data(as_text=True)
    assert "<svg" in page and "Slutrapport" in page
    markdown = client.get("/report/final.md?language=en")
    assert markdown.headers["Content-Disposition"].endswith('-en.md"')
    assert "## Overview" in markdown.get_data(as_text=True)
    assert client.get("/report/final.doc").status_code == 404
    rep = client.application.test_client()
    email, password = credentials["member_rep"]
    sign_in(rep, email, password)
    assert rep.get("/report/final.csv").status_code == 403


def test_dashboards_show_each_member_and_only_ones_own_to_a_representative(
    runner: Runner, client: FlaskClient, session: Session
) -> None:
    _pilot(runner)
    credentials = _load(runner)
    campaign = current_campaign(session)
    ale = next(m for m in campaign.memberships if m.organisation.slug == "ale")
    ale.enrolment_target = 50
    session.commit()
    ale_people = [
        p for p in session.scalars(select(Participant)) if p.organisation_id == ale.organisation_id
    ]
    email, password = credentials["lead_admin"]
    sign_in(client, email, password)
    page = client.get("/dashboard").get_data(as_text=True)
    assert page.count('<th scope="row"><a href="/organisations/') == 20
    assert f'<progress max="50" value="{min(len(ale_people), 50)}"' in page
    assert "Enrolled against the target" not in page and "Inskrivna mot målet" in page
    rep = client.application.test_client()
    email, password = credentials["member_rep"]  # Ale's representative
    sign_in(rep, email, password)
    own = rep.get("/organisations/ale/dashboard").get_data(as_text=True)
    assert "Borås" not in own and "Ale" in own
    assert rep.get("/organisations/boras/dashboard").status_code == 404
    assert rep.get("/dashboard").status_code == 403
