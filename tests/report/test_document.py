"""The joint final report from the demo network with an invented pilot: the seed's overview
table, figures recounted from the raw rows, every format, reproducible, and the PDF read back."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.demo.network import DEMO_SLUG
from campaign.enrolment.models import Participant, ParticipantStatus
from campaign.events.models import Invitation
from campaign.outbox.models import Message, MessageKind, MessageState
from campaign.report.figures import compute
from campaign.surveys import service
from campaign.surveys.models import Receipt, Response
from tests.conftest import START, Runner, sign_in
from tests.demo.test_demo import SEED_TABLE, _load, demo_campaign
from tests.report.test_figures import _mail
from tests.urls import staff as staff_of


def staff(path: str) -> str:
    """Return the URL of a staff page of the demo campaign."""
    return staff_of(path, DEMO_SLUG)


AS_OF = "2015-03-31T12:00:00+02:00"


def _pilot(runner: Runner) -> None:
    result = runner.invoke("demo", "--pilot")
    assert result.exit_code == 0, result.output
    assert "pilot users" in result.output


def _report(runner: Runner, tmp_path: Path, fmt: str, *extra: str) -> bytes:
    out = tmp_path / f"report.{fmt}"
    moment = () if "--as-of" in extra else ("--as-of", AS_OF)
    result = runner.invoke("report", "--format", fmt, "-o", str(out), *moment, *extra)
    assert result.exit_code == 0, result.output
    return out.read_bytes()


def _thin(session: Session, slug: str, keep: int) -> None:
    """Leave a member of the demo pilot only `keep` follow-up answers: too few to show."""
    campaign = demo_campaign(session)
    member = next(m for m in campaign.memberships if m.organisation.slug == slug)
    answers = session.scalars(
        select(Response).where(Response.organisation_id == member.organisation_id)
    ).all()
    for response in answers[keep:]:
        session.delete(response)
    session.commit()


def _counted(session: Session) -> list[Response]:
    """The responses that count, recounted: whole groups of five per questionnaire and member,
    in the order given (every outcome question is answered in the demo)."""
    given: dict[tuple[int, int], list[Response]] = defaultdict(list)
    ordered = session.scalars(select(Response).order_by(Response.submitted_at, Response.id))
    for response in ordered:
        given[(response.questionnaire_id, response.organisation_id)].append(response)
    return [r for found in given.values() for r in found[: len(found) - len(found) % 5]]


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
    answers = [r.answers for r in _counted(session)]
    km = sum(a["km_avoided"] for a in answers)
    assert f"{_number(len(trained))} personer har deltagit i utbildningar" in text
    assert f"{_number(len(people))} pilotanvändare deltog" in text
    assert f"Uppföljningssvaren från {_number(len(answers))} pilotanvändare räknas" in text
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
    campaign = demo_campaign(session)
    ale = next(m for m in campaign.memberships if m.organisation.slug == "ale")
    session.add(
        Participant(
            campaign_id=campaign.id,
            organisation_id=ale.organisation_id,
            email="later@ale.example.org",
            status=ParticipantStatus.ACTIVE,
            created_at=datetime(2016, 1, 1, tzinfo=UTC),
            updated_at=datetime(2016, 1, 1, tzinfo=UTC),
        )  # fmt: skip
    )
    session.commit()  # enrolled long after the report's moment
    assert _report(runner, tmp_path, "md") == first
    english = _report(runner, tmp_path, "md", "--language", "en").decode()
    assert "## What have we done?" in english and "17 municipalities" in english


def test_figures_as_csv_and_xlsx_hide_small_groups(
    runner: Runner, session: Session, tmp_path: Path
) -> None:
    _pilot(runner)
    _thin(session, "ale", 3)
    rows = list(
        csv.reader(io.StringIO(_report(runner, tmp_path, "csv").decode("utf-8-sig")), delimiter=";")
    )
    assert rows[0][0] == "Medlem" and len(rows) == 21
    by_member = {r[0]: r for r in rows[1:]}
    assert [r[0] for r in rows[1:]][:3] == ["Ale", "Borås", "Dals-Ed"]
    campaign = demo_campaign(session)
    figures = compute(session, campaign, datetime.fromisoformat(AS_OF))
    assert any(m.outcomes.suppressed for m in figures.members)
    assert any(not m.outcomes.suppressed for m in figures.members)
    for m in figures.members:
        row = by_member[m.organisation.short_name]
        assert row[17] == "2015-03-31T12:00:00+02:00"  # the moment that gives these figures
        if m.outcomes.suppressed:  # none of the member's answers count yet
            assert row[11] == "färre än 5"
            assert row[12:17] == ["", "", "", "", ""]
        else:
            assert int(row[11]) == m.outcomes.respondents
            assert int(row[13]) == m.outcomes.km
            # Decimals the Swedish way, as Excel in Swedish reads them: 789,5, never 789.5.
            assert "." not in row[15] + row[16]
            assert float(row[15].replace(",", ".")) == round(m.outcomes.km * 0.133, 1)
            assert float(row[16].replace(",", ".")) == m.outcomes.km * 2.5
    xlsx = _report(runner, tmp_path, "xlsx")
    assert xlsx.startswith(b"PK")
    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(xlsx)).active
    assert sheet.cell(1, 18).value == "Siffror per"
    assert sheet.cell(2, 18).value == "2015-03-31T12:00:00+02:00"


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
    page = client.get(staff("/report")).get_data(as_text=True)
    assert "<svg" in page and "Slutrapport" in page
    markdown = client.get(staff("/report/final.md?language=en"))
    assert markdown.headers["Content-Disposition"].endswith('-en.md"')
    assert "## Overview" in markdown.get_data(as_text=True)
    assert client.get(staff("/report/final.doc")).status_code == 404
    rep = client.application.test_client()
    email, password = credentials["member_rep"]
    sign_in(rep, email, password)
    assert rep.get(staff("/report/final.csv")).status_code == 403


def test_dashboards_show_each_member_and_only_ones_own_to_a_representative(
    runner: Runner, client: FlaskClient, session: Session
) -> None:
    _pilot(runner)
    credentials = _load(runner)
    campaign = demo_campaign(session)
    ale = next(m for m in campaign.memberships if m.organisation.slug == "ale")
    ale.enrolment_target = 50
    session.commit()
    ale_people = [
        p for p in session.scalars(select(Participant)) if p.organisation_id == ale.organisation_id
    ]
    email, password = credentials["lead_admin"]
    sign_in(client, email, password)
    page = client.get(staff("/dashboard")).get_data(as_text=True)
    assert page.count(f'<th scope="row"><a href="{staff("/organisations/")}') == 20
    assert f'<progress max="50" value="{min(len(ale_people), 50)}"' in page
    assert "Enrolled against the target" not in page and "Inskrivna mot målet" in page
    rep = client.application.test_client()
    email, password = credentials["member_rep"]  # Ale's representative
    sign_in(rep, email, password)
    own = rep.get(staff("/organisations/ale/dashboard")).get_data(as_text=True)
    assert "Borås" not in own and "Ale" in own
    assert rep.get(staff("/organisations/boras/dashboard")).status_code == 404
    assert rep.get(staff("/dashboard")).status_code == 403


def test_every_member_section_shows_its_own_outcomes(
    runner: Runner, session: Session, tmp_path: Path
) -> None:
    _pilot(runner)
    _thin(session, "ale", 3)
    text = _report(runner, tmp_path, "md").decode()
    page = _report(runner, tmp_path, "html").decode()
    figures = compute(session, demo_campaign(session), datetime.fromisoformat(AS_OF))
    shown = [m for m in figures.members if not m.outcomes.suppressed]
    assert shown and len(shown) < len(figures.members)
    for m in figures.members:
        section = text.split(f"### {m.organisation.name}\n")[1].split("\n### ")[0]
        o = m.outcomes
        if o.too_few:
            assert "färre än 5 svar" in section and " km undveks" not in section
        else:
            assert f"Uppföljning: {_number(o.respondents)} svar räknas;" in section
            line = (
                f"{_number(o.trips)} resor ersattes, {_number(o.km)} km undveks och"
                f" {_number(o.hours)} timmar restid sparades, ungefär"
                f" {_number(round(o.km * 0.133))} kg koldioxid och {_number(round(o.km * 2.5))}"
                " kronor"
            )
            assert line in section
            assert line in page  # the HTML and PDF member rows too, with the hours


def test_a_printed_moment_makes_the_same_report_again(
    app: Flask, runner: Runner, session: Session, tmp_path: Path
) -> None:
    _pilot(runner)
    now = datetime(2015, 3, 31, 10, 0, 7, 654321, tzinfo=UTC)
    campaign = demo_campaign(session)
    ale = next(m for m in campaign.memberships if m.organisation.slug == "ale")
    person = session.scalars(
        select(Participant).where(Participant.organisation_id == ale.organisation_id)
    ).first()
    assert person is not None
    _mail(session, person, now - timedelta(microseconds=300_000))  # within the printed second
    session.commit()
    app.extensions["campaign.clock"].set(now)
    first = tmp_path / "now.md"
    result = runner.invoke("report", "--format", "md", "-o", str(first))  # as of "now"
    assert result.exit_code == 0, result.output
    moment = "2015-03-31T12:00:07+02:00"  # to the second, with the campaign's offset
    assert "Siffror per 31 mars 2015 kl. 12.00." in first.read_text()  # as people write it
    assert f"--as-of {moment}" in first.read_text()  # what the figures rest on says how
    csv_first = _report(runner, tmp_path, "csv", "--as-of", moment)

    later = Participant(
        campaign_id=campaign.id,
        organisation_id=ale.organisation_id,
        email="later@ale.example.org",
        status=ParticipantStatus.ACTIVE,
        created_at=now + timedelta(seconds=1),
        updated_at=now + timedelta(seconds=1),
    )  # enrolled after the moment
    session.add(later)
    session.flush()
    _mail(session, later, now + timedelta(seconds=1))
    session.commit()
    again = tmp_path / "again.md"
    result = runner.invoke("report", "--format", "md", "-o", str(again), "--as-of", moment)
    assert result.exit_code == 0, result.output
    assert again.read_bytes() == first.read_bytes()
    assert _report(runner, tmp_path, "csv", "--as-of", moment) == csv_first
    # Without an offset the moment is the campaign's local time, as on the Report page.
    assert _report(runner, tmp_path, "csv", "--as-of", moment[:19]) == csv_first


def test_members_markdown_cannot_break_the_markdown_report(
    runner: Runner, session: Session, tmp_path: Path
) -> None:
    _pilot(runner)
    campaign = demo_campaign(session)
    ale = next(m for m in campaign.memberships if m.organisation.slug == "ale")
    ale.software_comment = "Lync | Skype\nfor some"
    ale.tips_md = "# Our tips\n\nText.\n\n## More\n\nSetext\n------\n\n```\n# not a heading\n```"
    session.commit()
    text = _report(runner, tmp_path, "md").decode()
    assert "| Ale | Lync | Lync \\| Skype for some |" in text  # one cell, its pipe escaped
    rows = re.findall(r"^\| (?!\*\*)(.+?) \| (.*?) \| (.*?) \|$", text, re.MULTILINE)
    assert len(rows) == 20
    # Only the report's own headings stay at levels 1-4; the member's sit below them, also in
    # code, which Python-Markdown without fenced_code reads as prose.
    assert re.findall(r"^# .*$", text, re.MULTILINE) == [f"# {campaign.name}"]
    assert text.count("\n### ") == 20 and "\n## More" not in text
    ale_section = text.split("### Ale kommun")[1].split("\n### ")[0]
    assert "\n##### Our tips\n" in ale_section and "\n###### More\n" in ale_section
    assert "\n###### Setext\n" in ale_section and "\n##### not a heading\n" in ale_section


def test_the_report_page_takes_a_moment(app: Flask, runner: Runner, client: FlaskClient) -> None:
    _pilot(runner)
    app.extensions["campaign.clock"].set(datetime(2015, 4, 1, tzinfo=UTC))
    email, password = _load(runner)["lead_admin"]
    sign_in(client, email, password)
    page = client.get(staff("/report?as_of=2014-06-30T12:00:00%2B02:00"))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    shown = '<time datetime="2014-06-30T12:00:00+02:00">30 juni 2014 kl. 12.00</time>'
    assert f"Siffror per {shown}." in html
    assert "as_of=2014-06-30T12:00:00%2B02:00" in html  # the downloads are of the same moment
    local = client.get(staff("/report?as_of=2014-06-30T12:00:00")).get_data(as_text=True)
    assert f"Siffror per {shown}." in local  # in the campaign's zone
    markdown = client.get(staff("/report/final.md?as_of=2014-06-30T12:00:00%2B02:00")).get_data(
        True
    )
    assert "Siffror per 30 juni 2014 kl. 12.00." in markdown
    for bad in ("igår", "2014-13-01", "2999-01-01T00:00:00+00:00"):
        answer = client.get(staff("/report"), query_string={"as_of": bad})
        assert answer.status_code == 400
        assert "är inte en tidpunkt som rapporten kan göras för" in answer.get_data(as_text=True)
    download = client.get(staff("/report/final.csv"), query_string={"as_of": "igår"})
    assert download.status_code == 302 and "as_of=ig" in download.headers["Location"]


def _sent(session: Session, person: Participant, key: str, kind: MessageKind) -> None:
    at = datetime(2014, 3, 10, 9, 0, tzinfo=UTC)
    session.add(
        Message(
            source_key=key,
            campaign_id=person.campaign_id,
            organisation_id=person.organisation_id,
            participant_id=person.id,
            recipient=person.email,
            kind=kind,
            subject="s",
            text_body="t",
            html_body="h",
            message_id=f"<{key}@t>",
            due_at=at,
            state=MessageState.SENT,
            created_at=at,
            sent_at=at,
        )  # fmt: skip
    )


def test_the_dashboard_shows_sequences_meetings_and_response_rates(
    app: Flask, runner: Runner, client: FlaskClient, session: Session
) -> None:
    _pilot(runner)
    credentials = _load(runner)
    app.extensions["campaign.clock"].set(datetime(2015, 4, 1, tzinfo=UTC))
    campaign = demo_campaign(session)
    orgs = {m.organisation.slug: m.organisation for m in campaign.memberships}
    ale = session.scalars(
        select(Participant)
        .where(Participant.organisation_id == orgs["ale"].id)
        .order_by(Participant.id)
    ).all()
    for n, person in enumerate(ale[:5]):  # five had step 01, three step 02, two the last
        for number, upto in (("01", 5), ("02", 3), ("07", 2)):
            if n < upto:
                _sent(
                    session,
                    person,
                    f"p:{person.id}:seq:pilot-group/{number}",
                    MessageKind.SEQUENCE_STEP,
                )
    follow_up = next(
        q for q in service.questionnaires_of(session, campaign, START) if q.slug == "follow-up"
    )
    for person in ale[:10]:  # sent to ten, answered by five: 50 %
        _sent(session, person, f"q:{follow_up.id}:p{person.id}", MessageKind.QUESTIONNAIRE)
    for person in ale[:5]:
        answered = date(2014, 9, 1)
        session.add(
            Receipt(questionnaire_id=follow_up.id, participant_id=person.id, answered_on=answered)
        )
    boras = session.scalars(
        select(Participant).where(Participant.organisation_id == orgs["boras"].id)
    ).first()
    assert boras is not None  # sent to one, not answered yet: nothing to hide
    _sent(session, boras, f"q:{follow_up.id}:p{boras.id}", MessageKind.QUESTIONNAIRE)
    ale[-1].status = ParticipantStatus.ERASED
    session.commit()
    invitations = [
        i for i in session.scalars(select(Invitation)) if i.participant_id in {p.id for p in ale}
    ]
    came = sum(i.has_attended for i in invitations)

    email, password = credentials["lead_admin"]
    sign_in(client, email, password)
    page = client.get(staff("/dashboard")).get_data(as_text=True)
    for status in (
        "Inbjuden",
        "Aktiv",
        "Pausad",
        "Avregistrerad",
        "Raderad",
        "Klar",
    ):
        assert f'<th scope="col" class="num">{status}</th>' in page  # every status
    row = page.split('data-member="ale"')[1].split("</tr>")[0]
    assert f'<td class="num">{len(ale)}</td>' in row  # everyone is in the sequence
    assert "steg 01: 5" in row and "steg 02: 3" in row and "steg 03: 0" in row
    assert row.endswith('<td class="num">2</td>')  # two have had the last step
    assert page.count('data-sequence="pilot-group"') == 20
    event = invitations[0].event_id
    meeting = page.split(f'data-event="{event}"')[1].split("</tr>")[0]
    assert f'<td class="num">{len(ale)}</td><td class="num">{len(ale)}</td>' in meeting
    assert f'<td class="num">{came} ({round(100 * came / len(ale))} %)</td>' in meeting
    assert page.count("<tr data-event=") == 20
    assert "Svarsfrekvens: " in page and ">50 %</text>" in page  # the chart of response rates
    assert '<td class="num">5 / 10 (50 %)</td>' in page
    assert '<td class="num">0 / 1 (0 %)</td>' in page  # none answered: nothing to hide

    rep = client.application.test_client()
    email, password = credentials["member_rep"]  # Ale's representative
    sign_in(rep, email, password)
    own = rep.get(staff("/organisations/ale/dashboard")).get_data(as_text=True)
    assert own.count('data-sequence="pilot-group"') == 1 and 'data-member="ale"' in own
    assert own.count("<tr data-event=") == 1 and f'data-event="{event}"' in own
    assert own.count(">50 %</text>") == 1 and "Borås" not in own
