"""Migrations build the schema from nothing on SQLite and PostgreSQL and match the models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

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
