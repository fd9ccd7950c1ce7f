"""Migrations build the schema from nothing on SQLite and PostgreSQL and match the models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from campaign import db, migrations
from campaign.schema import metadata
from tests.pg import fresh_database_url, server_url

BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(not server_url(), reason="CAMPAIGN_TEST_DATABASE_URL is not set"),
    ),
]


@pytest.fixture(params=BACKENDS)
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = db.make_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
        yield engine
        engine.dispose()
    else:
        with fresh_database_url() as url:
            engine = db.make_engine(url)
            yield engine
            engine.dispose()


def test_upgrade_from_empty_creates_every_table(empty_engine: Engine) -> None:
    assert inspect(empty_engine).get_table_names() == []
    assert not migrations.is_current(empty_engine)
    migrations.upgrade(empty_engine)
    tables = set(inspect(empty_engine).get_table_names())
    assert tables == set(metadata.tables) | {"alembic_version"}
    assert migrations.is_current(empty_engine)


def test_migrated_schema_matches_the_models(empty_engine: Engine) -> None:
    migrations.upgrade(empty_engine)
    with empty_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_downgrade_to_base_and_up_again(empty_engine: Engine) -> None:
    migrations.upgrade(empty_engine)
    migrations.downgrade(empty_engine, "base")
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}
    migrations.upgrade(empty_engine)
    assert migrations.is_current(empty_engine)


def test_upgrade_twice_is_harmless(empty_engine: Engine) -> None:
    migrations.upgrade(empty_engine)
    migrations.upgrade(empty_engine)
    assert migrations.is_current(empty_engine)


def test_upgrade_empties_confirmation_mails_whose_links_carried_personal_data(
    empty_engine: Engine,
) -> None:
    """Before 0013 a confirmation link carried the person's address, name and IP, readable;
    the upgrade leaves those mails only their kind, state and times, and cancels unsent ones."""
    migrations.upgrade(empty_engine, "0009")
    row = (
        "INSERT INTO message (source_key, recipient, kind, subject, text_body, html_body,"
        " headers, message_id, due_at, state, attempts, sent_at, created_at) VALUES"
        " (:key, 'asa@alpha.se', 'confirmation', 'Bekräfta', :body, :body, '{}', :mid,"
        " '2014-03-03 09:00:00', :state, 0, :sent, '2014-03-03 09:00:00')"
    )
    body = "https://kampanj.example.se/join/confirm/WzEsImFzYUBhbHBoYS5zZSIsIsOFc2EiXQ.x.y"
    with empty_engine.begin() as connection:
        for key, state, sent in (("join:1:asa@alpha.se:2014030309", "sent", "2014-03-03"),
                                 ("join:2:asa@alpha.se:2014030309", "queued", None)):  # fmt: skip
            connection.execute(
                text(row),
                {"key": key, "body": body, "mid": f"<{key}@x>", "state": state, "sent": sent},
            )
    migrations.upgrade(empty_engine)
    with empty_engine.connect() as connection:
        mails = connection.execute(
            text("SELECT source_key, recipient, text_body, html_body, state FROM message")
        ).all()
    assert sorted(state for *_rest, state in mails) == ["cancelled", "sent"]
    for key, recipient, text_body, html_body, _state in mails:
        assert key.startswith("join:expired:") and recipient == "confirmation@expired.invalid"
        assert text_body == html_body == ""


def _rows_of_0014(connection, campaigns: int) -> None:  # type: ignore[no-untyped-def]
    """A database of 0014: `campaigns` campaigns led by Alpha, an audit event of the lead's and
    a staff mail, neither naming a campaign."""
    at = "'2014-03-03 09:00:00'"
    connection.execute(
        text(
            "INSERT INTO organisation (id, slug, name, short_name, kind, created_at)"
            f" VALUES (1, 'alpha', 'Alpha kommun', 'Alpha', 'municipality', {at})"
        )
    )
    for number in range(1, campaigns + 1):
        connection.execute(
            text(
                "INSERT INTO campaign (id, slug, name, lead_organisation_id, starts_on, ends_on,"
                " timezone, language, rate_limit_per_minute, co2_kg_per_km, cost_per_km,"
                f" created_at) VALUES ({number}, 'c{number}', 'C{number}', 1, '2014-01-01',"
                f" '2015-03-31', 'Europe/Stockholm', 'sv', 600, 0.133, 2.5, {at})"
            )
        )
    connection.execute(
        text(
            "INSERT INTO audit_event (occurred_at, actor_label, action, organisation_id, target,"
            f" details) VALUES ({at}, 'lead@alpha.se', 'member.added', 1, 'alpha', '{{}}')"
        )
    )
    connection.execute(
        text(
            "INSERT INTO message (source_key, recipient, kind, subject, text_body, html_body,"
            " headers, message_id, due_at, state, attempts, created_at, organisation_id) VALUES"
            f" ('invitation:1', 'rep@alpha.se', 'staff_invitation', 'Inbjudan', '', '', '{{}}',"
            f" '<i1@x>', {at}, 'queued', 0, {at}, 1)"
        )
    )


@pytest.mark.parametrize("campaigns", [1, 2])
def test_upgrade_gives_the_one_campaign_what_named_none(
    empty_engine: Engine, campaigns: int
) -> None:
    """0015: a database of one campaign gives it its audit trail and its staff's mail, so its
    pages show what they showed before; with several, nothing is guessed."""
    migrations.upgrade(empty_engine, "0014")
    with empty_engine.begin() as connection:
        _rows_of_0014(connection, campaigns)
    migrations.upgrade(empty_engine)
    with empty_engine.connect() as connection:
        audit = connection.execute(text("SELECT campaign_id FROM audit_event")).scalar_one()
        mail = connection.execute(text("SELECT campaign_id FROM message")).scalar_one()
    assert (audit, mail) == ((1, 1) if campaigns == 1 else (None, None))
    migrations.downgrade(empty_engine, "0014")
    assert "campaign_id" not in {
        c["name"] for c in inspect(empty_engine).get_columns("audit_event")
    }


def test_upgrading_a_sqlite_database_keeps_every_row_that_names_a_campaign(
    empty_engine: Engine,
) -> None:
    """SQLite changes `campaign` by copying and dropping it: with foreign keys enforced, the
    drop cascaded and deleted the audit trail, the mail and every membership of the campaign."""
    tables = ("organisation", "campaign", "audit_event", "message")
    migrations.upgrade(empty_engine, "0014")
    with empty_engine.begin() as connection:
        _rows_of_0014(connection, 1)

    def counts() -> list[int]:
        with empty_engine.connect() as connection:
            return [
                connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables
            ]

    before = counts()
    migrations.upgrade(empty_engine)
    assert counts() == before == [1, 1, 1, 1]


def test_the_meeting_steps_index_holds_the_keys_of_steps_sent_per_meeting(
    empty_engine: Engine,
) -> None:
    """0035's partial index: its LIKE keeps ':e' (text() would read ':e' as a bind parameter
    and write NULL into the predicate, so the index would hold no row and serve no query)."""
    migrations.upgrade(empty_engine)
    if empty_engine.dialect.name == "postgresql":
        found = "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_message_meeting_steps'"
    else:
        found = "SELECT sql FROM sqlite_master WHERE name = 'ix_message_meeting_steps'"
    with empty_engine.connect() as connection:
        definition = connection.execute(text(found)).scalar_one()
    assert "'%:seq:%:e%'" in definition
