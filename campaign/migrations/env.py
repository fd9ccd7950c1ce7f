"""Alembic environment: runs migrations on the connection handed over by campaign.migrations."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from campaign.schema import metadata

config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:  # plain `alembic` command line use
        url = config.get_main_option("sqlalchemy.url")
        if url is None:
            raise SystemExit("alembic.ini names no sqlalchemy.url: give the database to migrate")
        engine = create_engine(url)
        with engine.begin() as connection:
            _run(connection)
    else:
        _run(connection)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run `campaign init-db`.")
run_migrations_online()
