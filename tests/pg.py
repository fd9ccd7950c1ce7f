"""A throwaway PostgreSQL database per test run, on the server CAMPAIGN_TEST_DATABASE_URL names."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, make_url, text


def server_url() -> str | None:
    """Return the PostgreSQL server URL to test against, or None to use SQLite."""
    return os.environ.get("CAMPAIGN_TEST_DATABASE_URL") or None


@contextmanager
def fresh_database_url() -> Iterator[str]:
    """Create an empty database on the test server, yield its URL, drop it afterwards."""
    server = make_url(server_url() or "")
    if server.drivername == "postgresql":
        server = server.set(drivername="postgresql+psycopg")
    name = f"campaign_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
