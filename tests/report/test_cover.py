"""The PDF report opens with a cover page: the title, the campaign's period, the lead
organisation and the report's date; a period of years in the title never breaks ("2013–/2015")."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from campaign.report import document
from tests.conftest import Network
from tests.report.test_document import _weasyprint_loads

AS_OF = datetime(2015, 3, 31, 10, 0, tzinfo=UTC)
# A title whose period, left to itself, breaks after the dash at the end of the first line.
TITLE = "Resfria möten i Västra 2013–2015"


def _pages(app: Flask, session: Session, network: Network, tmp_path: Path) -> list[str]:
    """Render the network's report as PDF in Swedish; return each page's text, laid out."""
    network.campaign.name = TITLE
    session.commit()
    with app.app_context():
        report = document.build(session, network.campaign, AS_OF, "sv")
        pdf = document.pdf(report)
    (tmp_path / "r.pdf").write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "r.pdf"), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return text.split("\f")


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs pdftotext (poppler-utils)")
@pytest.mark.skipif(not _weasyprint_loads(), reason="needs Pango for weasyprint (libpango)")
def test_the_pdf_opens_with_a_cover_page(
    app: Flask, session: Session, network: Network, tmp_path: Path
) -> None:
    cover, following, *_rest = _pages(app, session, network, tmp_path)
    lines = [" ".join(line.split()) for line in cover.splitlines() if line.strip()]
    assert "SLUTRAPPORT" in lines[0]
    title = [line for line in lines[1:4] if "2013" in line]
    assert len(title) == 1 and title[0].endswith("2013–2015"), lines  # whole, not "2013–"
    assert "Period 1 januari 2014 – 31 mars 2015" in lines
    assert "Ledande organisation Alpha kommun" in lines
    assert "Rapportens datum 31 mars 2015" in lines
    assert "Överenskommelsen" not in cover  # the cover stands alone on its page
    assert following.split()[0] == "Överenskommelsen"


def test_a_period_of_years_is_kept_whole_and_the_rest_escaped() -> None:
    shown = document.unbroken("<b>Möten</b> 2013–2015 och 2016-2017")
    assert str(shown) == (
        '&lt;b&gt;Möten&lt;/b&gt; <span class="nowrap">2013–2015</span>'
        ' och <span class="nowrap">2016-2017</span>'
    )
