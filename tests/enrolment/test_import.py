"""Importing participants from awkward real-world files: exactly which rows go in, and why not."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import force_locale
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.enrolment import importing
from campaign.enrolment.models import (
    Consent,
    ConsentMethod,
    ImportRow,
    ImportState,
    Participant,
    ParticipantStatus,
    RowOutcome,
)
from campaign.outbox.models import SuppressionReason
from campaign.outbox.queue import suppress
from tests.conftest import START, Network
from tests.enrolment_helpers import group, read

DATA = Path(__file__).parent / "data" / "imports"


def outcomes(session: Session, job) -> dict[int, tuple[str, str]]:  # type: ignore[no-untyped-def]
    rows = session.scalars(
        select(ImportRow).where(ImportRow.import_id == job.id).order_by(ImportRow.row_number)
    )
    return {row.row_number: (row.outcome.value, row.reason) for row in rows}


def people(session: Session) -> dict[str, Participant]:
    session.expire_all()
    return {p.email: p for p in session.scalars(select(Participant))}


def test_semicolons_bom_blank_lines_spaces_bad_and_duplicate_addresses(
    app: Flask, session: Session, network: Network
) -> None:
    with app.app_context():
        target = group(session, network)
        job = read(session, target, (DATA / "semicolon-utf8-bom.csv").read_bytes())
    assert job.state is ImportState.READY
    assert outcomes(session, job) == {
        2: ("add", ""),
        4: ("reject", "invalid_email"),
        5: ("add", ""),
        6: ("reject", "duplicate_in_file"),
        7: ("add", ""),
        9: ("reject", "missing_email"),
        10: ("reject", "unknown_language"),
        11: ("add", ""),
        12: ("add", ""),
    }  # rows 3 and 8 are blank
    assert job.counts["blank"] == 2
    assert job.counts["add"] == 5 and job.counts["reject"] == 4
    duplicate = session.scalar(select(ImportRow).where(ImportRow.row_number == 6))
    assert duplicate.detail == "2"  # the row it repeats
    assert people(session) == {}  # a preview writes nothing

    with app.app_context():
        applied = importing.apply_import(session, job, network.rep_alpha, START)
    assert (applied.added, applied.updated) == (5, 0)
    enrolled = people(session)
    assert sorted(enrolled) == [
        "asa.oberg@ockero.se",
        "cecilia.strom@ockero.se",
        "eva@ockero.se",
        "hans@ockero.se",
        "ida@ockero.se",
    ]
    asa = enrolled["asa.oberg@ockero.se"]
    assert (asa.name, asa.title, asa.language) == ("Öberg, Åsa", "Miljöstrateg", "sv")
    assert asa.status is ParticipantStatus.ACTIVE and asa.pilot_group_id == target.id
    assert enrolled["cecilia.strom@ockero.se"].language == "en"
    assert enrolled["hans@ockero.se"].name == "Hans Holm"
    # Formula-looking cells are kept as the text they are; exports neutralise them.
    assert enrolled["eva@ockero.se"].name == '=HYPERLINK("http://evil.example";"klicka")'
    assert enrolled["eva@ockero.se"].title == "@SUM(1+1)"
    assert enrolled["ida@ockero.se"].language == "sv"
    consents = session.scalars(select(Consent)).all()
    assert len(consents) == 5
    assert {c.method for c in consents} == {ConsentMethod.IMPORT}
    assert all("rep@alpha.se" in c.source for c in consents)
    assert consents[0].text.startswith("Representanten bekräftade att personerna i list.csv")
    assert session.scalar(select(func.count()).select_from(ImportRow)) == 0  # rows dropped
    assert job.content is None  # the file is not kept after the import


def test_windows_1252_commas_and_every_reason_against_existing_enrolments(
    app: Flask, session: Session, network: Network
) -> None:
    with app.app_context():
        target = group(session, network)
        other = group(session, network, "Alpha-chefer")
        beta_group = group(session, network, "Beta-gruppen", org="beta")
        suppress(session, "suppressed@ockero.se", SuppressionReason.UNSUBSCRIBED, "", START)
        for email, name, where in [
            ("taken@beta.se", "Tage Tagen", beta_group),
            ("existing@ockero.se", "Ella Gammal", target),
            ("same@ockero.se", "Sam Same", target),
            ("other@ockero.se", "Otto Annan", other),
        ]:
            session.add(
                Participant(
                    campaign_id=network.campaign.id,
                    organisation_id=where.organisation_id,
                    pilot_group_id=where.id,
                    email=email,
                    name=name,
                    status=ParticipantStatus.ACTIVE,
                    created_at=START,
                    updated_at=START,
                )
            )
        session.commit()
        job = read(session, target, (DATA / "comma-windows-1252.csv").read_bytes())
    assert outcomes(session, job) == {
        2: ("add", ""),
        3: ("add", ""),
        4: ("reject", "suppressed"),
        5: ("reject", "other_member"),
        6: ("update", ""),
        7: ("unchanged", "already_enrolled"),
        8: ("reject", "other_group"),
    }
    assert job.counts["ignored_columns"] == ["Avdelning"]
    other_group = session.scalar(select(ImportRow).where(ImportRow.row_number == 8))
    assert other_group.detail == "Alpha-chefer"  # one's own group may be named
    foreign = session.scalar(select(ImportRow).where(ImportRow.row_number == 5))
    assert "Beta" not in foreign.detail  # another member's is not

    with app.app_context():
        applied = importing.apply_import(session, job, network.rep_alpha, START)
    assert (applied.added, applied.updated) == (2, 1)
    enrolled = people(session)
    assert enrolled["ostlund@ockero.se"].name == "Örjan Östlund"
    assert enrolled["kalle@ockero.se"].name == "Kalle Ängström"
    assert enrolled["existing@ockero.se"].name == "Ella Ny"
    assert enrolled["taken@beta.se"].name == "Tage Tagen"  # Beta's participant untouched
    assert enrolled["other@ockero.se"].pilot_group_id == other.id
    assert "suppressed@ockero.se" not in enrolled


def test_xlsx_utf16_text_and_a_file_without_header(
    app: Flask, session: Session, network: Network
) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["Förnamn", "Efternamn", "E-postadress", "Anställningsnummer"])
    sheet.append(["Åke", "Öst", "ake@ockero.se", 1234])
    sheet.append([None, None, None, None])
    sheet.append(["Lisa", None, "  LISA@ockero.se", 5678.0])
    sheet.append(["Nej", "Adress", "inte en adress", None])
    out = io.BytesIO()
    book.save(out)
    with app.app_context():
        target = group(session, network)
        xlsx = read(session, target, out.getvalue(), "lista.xlsx")
        utf16 = read(session, target, (DATA / "tab-utf16.txt").read_bytes(), "lista.txt")
        bare = read(session, target, (DATA / "headerless.csv").read_bytes())
    assert outcomes(session, xlsx) == {
        2: ("add", ""),
        4: ("add", ""),
        5: ("reject", "invalid_email"),
    }
    rows = {r.email: r for r in session.scalars(select(ImportRow))}
    assert rows["ake@ockero.se"].name == "Åke Öst"
    assert rows["lisa@ockero.se"].name == "Lisa"
    assert outcomes(session, utf16) == {2: ("add", ""), 3: ("add", "")}
    assert rows["ulla@ockero.se"].language == "en" and rows["vera@ockero.se"].language == "sv"
    assert outcomes(session, bare) == {1: ("add", ""), 2: ("add", "")}
    assert rows["bertil@ockero.se"].name == "Bertil Berg"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old Excel file (.xls)"),
        ("Namn;Telefon\nÅsa;031-123\n".encode(), "No column of e-mail addresses"),
        (b"PK\x03\x04broken zip", "could not be opened"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "does not look like a CSV"),
    ],
)
def test_unreadable_files_fail_with_a_sentence_and_write_nothing(
    app: Flask, session: Session, network: Network, content: bytes, message: str
) -> None:
    with app.app_context():
        job = read(session, group(session, network), content)
    assert job.state is ImportState.FAILED
    with app.test_request_context(headers={"Cookie": ""}), force_locale("en"):
        assert message in str(importing.FILE_ERRORS[job.error])
    assert session.scalar(select(func.count()).select_from(ImportRow)) == 0


def test_apply_writes_nothing_when_enrolments_changed_since_the_preview(
    app: Flask, session: Session, network: Network
) -> None:
    with app.app_context():
        target = group(session, network)
        job = read(session, target, b"E-post\nfirst@ockero.se\nsecond@ockero.se\n")
        # Meanwhile Beta enrols one of the addresses.
        beta_group = group(session, network, "Beta-gruppen", org="beta")
        session.add(
            Participant(
                campaign_id=network.campaign.id,
                organisation_id=network.beta.id,
                pilot_group_id=beta_group.id,
                email="second@ockero.se",
                status=ParticipantStatus.ACTIVE,
                created_at=START,
                updated_at=START,
            )
        )
        session.commit()
        with pytest.raises(importing.PlanChanged):
            importing.apply_import(session, job, network.rep_alpha, START)
    session.rollback()
    assert sorted(people(session)) == ["second@ockero.se"]  # first@ was not written either
    assert job.state is ImportState.READY
    with app.app_context():
        importing.read_import(session, job)  # the new preview tells the truth
    assert outcomes(session, job) == {2: ("add", ""), 3: ("reject", "other_member")}


def test_imported_people_start_today_when_the_group_has_begun(
    app: Flask, session: Session, network: Network
) -> None:
    with app.app_context():
        target = group(session, network)
        target.starts_on = date(2014, 2, 1)  # a month before START
        job = read(session, target, b"E-post\nlate@ockero.se\n")
        importing.apply_import(session, job, None, START)
    assert people(session)["late@ockero.se"].starts_on == date(2014, 3, 3)


def test_stale_previews_are_dropped_with_their_file(
    app: Flask, session: Session, network: Network
) -> None:
    from datetime import timedelta

    with app.app_context():
        job = read(session, group(session, network), b"E-post\nx@ockero.se\n")
        assert importing.tidy(session, START + timedelta(days=1)) == 0
        assert importing.tidy(session, START + timedelta(days=3)) == 1
    session.commit()
    assert job.state is ImportState.DISCARDED and job.content is None
    assert session.scalar(select(func.count()).select_from(ImportRow)) == 0


def test_outcome_values_are_what_the_templates_name() -> None:
    assert {o.value for o in RowOutcome} == {"add", "update", "unchanged", "reject"}
    assert set(importing.REASONS) >= {
        "invalid_email", "duplicate_in_file", "already_enrolled", "suppressed", "other_member",
    }  # fmt: skip


def test_the_command_previews_asks_and_imports_all_or_nothing(
    app: Flask, session: Session, network: Network, runner, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        group(session, network)
        session.commit()
    file = DATA / "semicolon-utf8-bom.csv"
    args = ("import-participants", str(file), "--org", "alpha", "--group", "Alpha-gruppen")

    dry = runner.invoke(*args, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert (
        "11 rows read: 5 to add, 0 to update, 0 already enrolled, 4 rejected, 2 blank."
        in dry.output
    )
    assert "row 4: bo@ockero: Not a valid e-mail address" in dry.output
    assert (
        "row 6: asa.oberg@ockero.se: The same address is on an earlier row of the file (2)"
        in dry.output
    )
    assert "Nothing was written." in dry.output
    assert people(session) == {}

    declined = runner.invoke(*args, input="n\n")
    assert "Nothing was written." in declined.output and people(session) == {}

    done = runner.invoke(*args, input="y\n")
    assert done.exit_code == 0, done.output
    assert "Imported: 5 added, 0 updated." in done.output
    assert len(people(session)) == 5

    unknown = runner.invoke("import-participants", str(file), "--org", "alpha", "--group", "Nej")
    assert unknown.exit_code == 1 and "its groups: Alpha-gruppen" in unknown.output
    broken = tmp_path / "gammal.xls"
    broken.write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 64)
    failed = runner.invoke(
        "import-participants", str(broken), "--org", "alpha", "--group", "Alpha-gruppen"
    )
    assert failed.exit_code == 1 and "old Excel file (.xls)" in failed.output
