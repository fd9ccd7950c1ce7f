"""Alembic migrations of the schema, run by `campaign init-db` (and `campaign serve`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, inspect

HERE = Path(__file__).parent


def alembic_config(database_url: str) -> Config:
    """Return an Alembic configuration pointing at this folder and the given database."""
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision` (the newest by default), creating it from nothing."""
    _migrate(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the database back to `revision` ("base" removes every table)."""
    _migrate(engine, command.downgrade, revision)


def _migrate(engine: Engine, step: Callable[[Config, str], None], revision: str) -> None:
    """Run an Alembic command in one transaction.

    SQLite changes a table by copying it, dropping the old one and renaming the copy; with
    foreign keys enforced, dropping `campaign` would cascade and delete every row that names a
    campaign. So foreign keys are off while SQLite migrates (the pragma only takes effect
    outside a transaction) and checked before the transaction commits.
    """
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.connect() as connection:
        is_sqlite = connection.dialect.name == "sqlite"
        if is_sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()  # no transaction was begun for it: this only ends the autobegin
        with connection.begin():
            config.attributes["connection"] = connection
            step(config, revision)
            if is_sqlite:
                _check_foreign_keys(connection)
        if is_sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


def _check_foreign_keys(connection: Connection) -> None:
    """Refuse (and so roll back) a migration that left a row naming one that does not exist."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"the migration left rows with broken foreign keys: {broken[:5]}")


def is_current(engine: Engine) -> bool:
    """Return whether the database has the schema of the newest migration."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(str(engine.url)))
    if not inspect(engine).has_table("alembic_version"):
        return False
    with engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    return set(heads) == set(script.get_heads())
