"""`campaign create-group`, then `import-participants` into the group: a pilot group filled
without the web UI."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.audit import AuditEvent
from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup, PilotGroupKind
from tests.conftest import START, Network, Runner

GROUP = ("--org", "beta", "--name", "  Miljö   och bygg ", "--starts", "2014-04-01")


def test_a_group_made_on_the_command_line_is_filled_by_an_import(
    runner: Runner, network: Network, session: Session, tmp_path: Path
) -> None:
    made = runner.invoke("create-group", *GROUP, "--kind", "volunteers", "--campaign", "test")
    assert made.exit_code == 0, made.output
    group = session.scalars(select(PilotGroup)).one()
    assert (group.name, group.kind, str(group.starts_on), group.sequence_name) == (
        "Miljö och bygg", PilotGroupKind.VOLUNTEERS, "2014-04-01", "pilot-group"
    )  # fmt: skip
    assert f"'Miljö och bygg' (id {group.id})" in made.output
    assert "import-participants FILE.csv --campaign test --org beta --group 'Miljö och bygg'" in (
        made.output
    )
    audit = session.scalars(select(AuditEvent.action)).all()
    assert "pilot_group.created" in audit  # as when made in the web UI
    people = tmp_path / "people.csv"
    people.write_text("E-post;Namn\nanna@beta.se;Anna A\nbo@beta.se;Bo B\n", encoding="utf-8")
    imported = runner.invoke(
        "import-participants", str(people), "--org", "beta", "--group", "Miljö och bygg", "--yes"
    )
    assert imported.exit_code == 0, imported.output
    assert "Imported: 2 added" in imported.output
    session.expire_all()
    enrolled = session.scalars(select(Participant).where(Participant.pilot_group_id == group.id))
    assert sorted((p.email, p.status) for p in enrolled) == [
        ("anna@beta.se", ParticipantStatus.ACTIVE), ("bo@beta.se", ParticipantStatus.ACTIVE)
    ]  # fmt: skip


def test_a_group_without_mail(runner: Runner, network: Network, session: Session) -> None:
    made = runner.invoke("create-group", *GROUP, "--sequence", "none")
    assert made.exit_code == 0 and "sequence no e-mails" in made.output, made.output
    assert session.scalars(select(PilotGroup.sequence_name)).one() is None


def test_an_archived_campaign_gets_no_new_group(
    runner: Runner, network: Network, session: Session
) -> None:
    network.campaign.archived_at = START
    session.commit()
    made = runner.invoke("create-group", *GROUP)
    assert made.exit_code == 1 and "is archived" in made.output, made.output
    assert session.scalars(select(PilotGroup)).all() == []
