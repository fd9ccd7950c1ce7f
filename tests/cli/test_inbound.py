"""`campaign inbound` as a mail server runs it: a real process, a real sample message on its
standard input; exit 0 when stored, 75 (EX_TEMPFAIL: the server keeps it and retries) when the
database cannot be written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from campaign import db, migrations
from campaign.outbox.inbound import InboundMessage
from tests.inbound.conftest import SAMPLES

SAMPLE = SAMPLES / "imap-human-reply.eml"


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """A migrated SQLite file of its own (the process opens it by path)."""
    path = tmp_path / "campaign.sqlite3"
    engine = db.make_engine(f"sqlite:///{path}")
    migrations.upgrade(engine)
    engine.dispose()
    return path


def pipe(tmp_path: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `campaign inbound` with the sample on standard input, as Postfix's pipe does."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGN_")}
    environment |= {
        "CAMPAIGN_DATABASE_URL": database_url,
        "CAMPAIGN_SECRET_KEY": "test-secret-key",
        "CAMPAIGN_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    with SAMPLE.open("rb") as message:
        return subprocess.run(
            [sys.executable, "-m", "campaign", "inbound", *args],
            stdin=message, env=environment, cwd=tmp_path,
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip


def test_a_piped_message_is_stored(tmp_path: Path, database: Path) -> None:
    done = pipe(tmp_path, f"sqlite:///{database}", "--recipient", "kampanj@kampanj.example.org")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "stored as inbound message 1: other, kept\n"
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        row = connection.execute(
            select(
                InboundMessage.source, InboundMessage.envelope_to, InboundMessage.from_address,
                InboundMessage.raw,
            )
        ).one()  # fmt: skip
    engine.dispose()
    assert row == ("pipe", "kampanj@kampanj.example.org", "karin.berg@ale.example.se",
                   SAMPLE.read_bytes())  # fmt: skip


def test_a_database_that_cannot_be_written_makes_the_server_retry(
    tmp_path: Path, database: Path
) -> None:
    # Opened read-only by SQLite itself: a file's mode bits would not stop root, who runs CI.
    database.chmod(0o444)
    done = pipe(tmp_path, f"sqlite:///file:{database}?mode=ro&uri=true")
    assert done.returncode == 75, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    assert "readonly database" in done.stderr
